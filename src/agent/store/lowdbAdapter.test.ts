import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '../../lib/errors.js';
import { DurableJsonFile, openDurableDb } from './lowdbAdapter.js';

const RegistrySchema = z.object({
  deviceId: z.string(),
  registers: z.array(z.object({ serial: z.string(), lastShift: z.number().int() })),
});
type Registry = z.infer<typeof RegistrySchema>;

const defaults: Registry = { deviceId: 'pi-1', registers: [] };

let dir: string;
let path: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-lowdb-'));
  path = join(dir, 'registry.json');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openDurableDb', () => {
  it('starts from the defaults when the file is missing, without creating it', async () => {
    const db = await openDurableDb(path, defaults, RegistrySchema);
    expect(db.data).toEqual(defaults);
    expect(await readdir(dir)).toEqual([]);
  });

  it('round-trips data through a durable write', async () => {
    const db = await openDurableDb(path, defaults, RegistrySchema);
    await db.update((data) => {
      data.registers.push({ serial: '00106700000001', lastShift: 12 });
    });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(db.data);

    const again = await openDurableDb(path, defaults, RegistrySchema);
    expect(again.data).toEqual({
      deviceId: 'pi-1',
      registers: [{ serial: '00106700000001', lastShift: 12 }],
    });
    expect(await readdir(dir)).toEqual(['registry.json']);
  });

  it('rejects a file of the wrong shape with the offending field named', async () => {
    await writeFile(
      path,
      JSON.stringify({ deviceId: 'pi-1', registers: [{ serial: 'x', lastShift: 'twelve' }] }),
    );
    const opening = openDurableDb(path, defaults, RegistrySchema);
    await expect(opening).rejects.toBeInstanceOf(ValidationError);
    await expect(opening).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'registers.0.lastShift',
      message: expect.stringContaining(path),
    });
  });

  it('rejects a file that is not JSON', async () => {
    await writeFile(path, '{"deviceId": "pi-1", "regis');
    await expect(openDurableDb(path, defaults, RegistrySchema)).rejects.toMatchObject({
      code: 'DOCUMENT_CORRUPT',
    });
  });

  it('refuses to write data the schema would reject on the next read', async () => {
    const db = await openDurableDb(path, defaults, RegistrySchema);
    (db.data as { deviceId: unknown }).deviceId = 42;
    await expect(db.write()).rejects.toMatchObject({ code: 'VALIDATION_FAILED', field: 'deviceId' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('works without a schema', async () => {
    const db = await openDurableDb<{ ids: number[] }>(path, { ids: [] });
    await db.update((data) => {
      data.ids.push(1, 2);
    });
    expect((await openDurableDb<{ ids: number[] }>(path, { ids: [] })).data).toEqual({ ids: [1, 2] });
  });

  it('removes temp files a crash left behind', async () => {
    await writeFile(join(dir, '.registry.json.999.0123456789ab.tmp'), '{"half');
    await openDurableDb(path, defaults, RegistrySchema);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('DurableJsonFile', () => {
  it('lands concurrent writes in call order', async () => {
    const adapter = new DurableJsonFile<{ n: number }>(path);
    await Promise.all(Array.from({ length: 15 }, (_, n) => adapter.write({ n })));
    expect(await adapter.read()).toEqual({ n: 14 });
  });
});
