import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalModuleClient } from '../../src/agent/devices/localModule/client.js';
import { type MockLocalModule, startMockLocalModule } from './mockServer.js';

/**
 * The local module's HTTP client against the mock module on loopback (shapes from
 * docs/protocol/chestny-znak-local-module.md): both API versions, Basic credentials from a 0600 file, and
 * each way the module can fail.
 */

let dir: string;
let lm: MockLocalModule;
let credentialsFile: string;
let logged: Array<Record<string, unknown>>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-lm-'));
  lm = await startMockLocalModule();
  credentialsFile = join(dir, 'lm.json');
  await writeFile(credentialsFile, JSON.stringify({ username: lm.username, password: lm.password }), {
    mode: 0o600,
  });
  logged = [];
});

afterEach(async () => {
  await lm.close();
  await rm(dir, { recursive: true, force: true });
});

const client = (options: { apiVersion?: 1 | 2; url?: string; timeoutMs?: number } = {}) =>
  new LocalModuleClient({
    url: options.url ?? lm.url,
    apiVersion: options.apiVersion ?? 1,
    credentialsFile,
    timeoutMs: options.timeoutMs ?? 2000,
    logger: pino({ level: 'warn' }, { write: (line: string) => logged.push(JSON.parse(line)) }),
  });

const CIS = '010463003022541621Yu7t_HclAYqqD';

const failure = async (run: Promise<unknown>) => {
  try {
    await run;
  } catch (error) {
    return error as Error & { code: string; details: Record<string, unknown> };
  }
  throw new Error('expected an error');
};

describe('the local module client', () => {
  it.each([1, 2] as const)(
    'v%i: reads the status and checks one code with Basic credentials',
    async (apiVersion) => {
      const c = client({ apiVersion });
      const status = await c.status();
      expect(status).toMatchObject({ kind: 'answered', value: { status: 'ready', operationMode: 'active' } });
      const check = await c.check(CIS);
      expect(check).toMatchObject({
        kind: 'answered',
        value: { kind: 'checked', code: { cis: CIS, gtin: '04630030225416', isBlocked: false } },
      });
      expect(lm.requests.map((r) => [r.method, r.path, r.cis, r.authorized])).toEqual([
        ['GET', `/api/v${apiVersion}/status`, undefined, true],
        [apiVersion === 1 ? 'GET' : 'POST', `/api/v${apiVersion}/cis/outCheck`, CIS, true],
      ]);
      expect(check.kind === 'answered' && check.value.kind === 'checked' && check.value.reqId).toBe(
        lm.checks[0]!.reqId,
      );
    },
  );

  it('sends a code with characters a URL must escape intact', async () => {
    await client().check('0104650072583993215)EE+E');
    expect(lm.requests[0]!.cis).toBe('0104650072583993215)EE+E');
  });

  it('bad credentials are their own error, never an offline case', async () => {
    await writeFile(credentialsFile, JSON.stringify({ username: 'admin', password: 'wrong' }));
    const error = await failure(client().status());
    expect(error.code).toBe('MARKING_LM_AUTH_FAILED');
    expect(error.message).toMatch(/HTTP 401.*credentialsFile/);
  });

  it('names what is wrong with the credentials file, and warns once when others can read it', async () => {
    await writeFile(credentialsFile, JSON.stringify({ username: 'admin' }));
    expect((await failure(client().status())).message).toMatch(/lm\.json cannot be used: field password/);
    await writeFile(credentialsFile, 'admin:secret');
    expect((await failure(client().status())).message).toMatch(/not JSON/);
    await rm(credentialsFile);
    const missing = await failure(client().status());
    expect(missing.code).toBe('MARKING_LM_CREDENTIALS');
    expect(missing.message).toMatch(/does not exist/);

    await writeFile(credentialsFile, JSON.stringify({ username: lm.username, password: lm.password }));
    await chmod(credentialsFile, 0o644);
    const c = client();
    await c.status();
    await c.status();
    const warnings = logged.filter((l) => l.event === 'local-module.credentials-too-open');
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings)).not.toContain(lm.password);
  });

  it('an unreachable module, a cut connection and a slow one are "unavailable", with the reason', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await client({ url: `http://127.0.0.1:${port}` }).status()).toMatchObject({
      kind: 'unavailable',
      reason: expect.stringMatching(/unreachable \(ECONNREFUSED\)/),
    });
    lm.fault('unreachable');
    expect(await client().check(CIS)).toMatchObject({
      kind: 'unavailable',
      reason: expect.stringMatching(/no answer/),
    });
    lm.fault('slow');
    lm.slowMs = 1000;
    expect(await client({ timeoutMs: 200 }).check(CIS)).toMatchObject({
      kind: 'unavailable',
      reason: expect.stringMatching(/no complete answer within 200 ms/),
    });
  });

  it("passes the module's own error on, and names the field of an unreadable answer", async () => {
    lm.fault('moduleError');
    expect(await client().check(CIS)).toMatchObject({
      kind: 'answered',
      value: { kind: 'moduleError', code: 5, description: 'База данных не загружена' },
    });
    lm.fault('garbage');
    const error = await failure(client().check(CIS));
    expect(error.code).toBe('MARKING_LM_ANSWER_INVALID');
    expect(error.details.field).toBe('reqTimestamp');
    lm.fault(undefined);
    const wrongVersion = await failure(client({ url: `${lm.url}/nowhere` }).status());
    expect(wrongVersion.code).toBe('MARKING_LM_ANSWER_INVALID');
  });

  it('reads each verdict the mock gives by serial', async () => {
    const c = client({ apiVersion: 2 });
    const code = async (serial: string) => {
      const reply = await c.check(`010463003022541621${serial}`);
      return reply.kind === 'answered' && reply.value.kind === 'checked' ? reply.value.code : undefined;
    };
    expect(await code('LMSOLD1')).toMatchObject({ sold: true });
    expect(await code('LMEXPIRED1')).toMatchObject({ expireDate: '2024-01-31T00:00:00.000Z' });
    expect(await code('LMUNKNOWN1')).toMatchObject({ found: false });
    expect(await code('LMBLOCKED1')).toMatchObject({ isBlocked: true });
    expect(await code('LMOTHER1')).toMatchObject({ gtin: '04600000000008' });
  });
});
