import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  describeFsError,
  readFileIfExists,
  removeStaleTempFiles,
  StorageWriteError,
  writeFileDurable,
} from './durableFile.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-durable-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileDurable', () => {
  it('creates and then replaces a file, leaving no temp files', async () => {
    const path = join(dir, 'config.json');
    await writeFileDurable(path, '{"a":1}');
    expect(await readFile(path, 'utf8')).toBe('{"a":1}');
    await writeFileDurable(path, Buffer.from('{"a":2}'));
    expect(await readFile(path, 'utf8')).toBe('{"a":2}');
    expect(await readdir(dir)).toEqual(['config.json']);
  });

  it('creates files private by default and honours mode', async () => {
    const secret = join(dir, 'token.json');
    await writeFileDurable(secret, '{}');
    expect((await stat(secret)).mode & 0o777).toBe(0o600);
    const shared = join(dir, 'public.json');
    await writeFileDurable(shared, '{}', { mode: 0o644 });
    expect((await stat(shared)).mode & 0o777).toBe(0o644);
  });

  it('never shows a reader a partial file while writes race', async () => {
    const path = join(dir, 'registry.json');
    const versions = Array.from({ length: 20 }, (_, index) =>
      JSON.stringify({ version: index, pad: 'p'.repeat(5000) }),
    );
    await writeFileDurable(path, versions[0]!);
    const seen = new Set<string>();
    const reader = (async () => {
      for (let read = 0; read < 200; read += 1) seen.add(await readFile(path, 'utf8'));
    })();
    await Promise.all([...versions.slice(1).map((text) => writeFileDurable(path, text)), reader]);
    for (const text of seen) expect(versions).toContain(text);
    expect(versions).toContain(await readFile(path, 'utf8'));
    expect(await readdir(dir)).toEqual(['registry.json']);
  });

  it('keeps the old content and removes its temp file when the write fails', async () => {
    // A non-empty directory at the target path makes the rename fail after the temp file was written.
    const path = join(dir, 'blocked');
    await mkdir(path);
    await writeFile(join(path, 'inside'), 'x');
    const failure = writeFileDurable(path, 'new content');
    await expect(failure).rejects.toBeInstanceOf(StorageWriteError);
    await expect(failure).rejects.toMatchObject({ code: 'STORAGE_WRITE_FAILED', path });
    expect((await readdir(dir)).sort()).toEqual(['blocked']);
  });

  it('reports a missing directory in words', async () => {
    await expect(writeFileDurable(join(dir, 'missing', 'x.json'), '{}')).rejects.toMatchObject({
      code: 'STORAGE_WRITE_FAILED',
      message: expect.stringContaining('directory does not exist'),
    });
  });
});

describe('readFileIfExists', () => {
  it('returns undefined for a missing file and the text otherwise', async () => {
    const path = join(dir, 'a.txt');
    expect(await readFileIfExists(path)).toBeUndefined();
    await writeFile(path, 'привет');
    expect(await readFileIfExists(path)).toBe('привет');
  });

  it('throws STORAGE_READ_FAILED for other errors', async () => {
    await expect(readFileIfExists(dir)).rejects.toMatchObject({ code: 'STORAGE_READ_FAILED' });
  });
});

describe('removeStaleTempFiles', () => {
  it('removes only temp files of the given target', async () => {
    const path = join(dir, 'config.json');
    await writeFile(path, '{}');
    await writeFile(join(dir, '.config.json.1234.0123456789ab.tmp'), '{"half');
    await writeFile(join(dir, '.config.json.backup.tmp'), 'not ours');
    await writeFile(join(dir, '.other.json.1234.0123456789ab.tmp'), 'other target');
    expect(await removeStaleTempFiles(path)).toEqual(['.config.json.1234.0123456789ab.tmp']);
    expect((await readdir(dir)).sort()).toEqual([
      '.config.json.backup.tmp',
      '.other.json.1234.0123456789ab.tmp',
      'config.json',
    ]);
  });
});

describe('describeFsError', () => {
  it('translates errno codes for technicians', () => {
    expect(describeFsError(Object.assign(new Error('x'), { code: 'ENOSPC' }))).toBe('disk full');
    expect(describeFsError(Object.assign(new Error('x'), { code: 'EWHATEVER' }))).toBe('EWHATEVER');
    expect(describeFsError(new Error('plain'))).toBe('plain');
  });
});
