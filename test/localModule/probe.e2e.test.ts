import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalModuleClient } from '../../src/agent/devices/localModule/client.js';
import { LocalModuleWatch } from '../../src/agent/devices/localModule/condition.js';
import { LocalModuleDoctor } from '../../src/agent/devices/localModule/probe.js';
import type { LocalModuleReport } from '../../src/agent/devices/localModule/reportTypes.js';
import { type MockLocalModule, startMockLocalModule } from './mockServer.js';

/**
 * The doctor's probe of the local module of Честный ЗНАК (docs/marking.md, "Checking the module") against
 * the mock module on loopback: every fault the mock can produce becomes its own failed line with its code
 * and what to do, and the module's condition is kept for `status`.
 */

let dir: string;
let lm: MockLocalModule;
let credentialsFile: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-lm-probe-'));
  lm = await startMockLocalModule();
  credentialsFile = join(dir, 'lm.json');
  await writeFile(credentialsFile, JSON.stringify({ username: lm.username, password: lm.password }), {
    mode: 0o600,
  });
});

afterEach(async () => {
  await lm.close();
  await rm(dir, { recursive: true, force: true });
});

function moduleDoctor(options: { url?: string; timeoutMs?: number; apiVersion?: 1 | 2 } = {}) {
  const config = {
    url: options.url ?? lm.url,
    apiVersion: options.apiVersion ?? 1,
    enabled: true,
    credentialsFile,
    timeoutMs: options.timeoutMs ?? 1000,
    maxSyncAgeHours: 72,
  };
  const watch = new LocalModuleWatch(config.url, credentialsFile);
  const client = new LocalModuleClient({ ...config, logger: pino({ level: 'silent' }) });
  return { doctor: new LocalModuleDoctor({ client, config, watch }), watch };
}

/** Each line as `check verdict [code]`, and the lines themselves by check. */
function summary(report: LocalModuleReport): string[] {
  return report.lines.map((l) => `${l.check} ${l.verdict}${l.error ? ` ${l.error.code}` : ''}`);
}
const line = (report: LocalModuleReport, check: string) => report.lines.find((l) => l.check === check)!;

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("the doctor's probe of the local module", () => {
  it.each([1, 2] as const)(
    'v%i: a ready module passes every line, with its time, sync age and version',
    async (apiVersion) => {
      const { doctor, watch } = moduleDoctor({ apiVersion });
      const report = await doctor.probe();
      expect(summary(report)).toEqual([
        'reachable ok',
        'credentials ok',
        'status ok',
        'sync ok',
        'version ok',
      ]);
      expect(line(report, 'reachable').text).toMatch(new RegExp(`^${lm.url} answered in \\d+ ms$`));
      expect(line(report, 'credentials').text).toContain(credentialsFile);
      expect(line(report, 'status').text).toBe('ready (active mode)');
      expect(line(report, 'sync').text).toMatch(/^last sync 1 min ago \(20\d\d-.*Z\), at most 72 h allowed$/);
      expect(line(report, 'version').text).toBe('1.4.1');
      expect(lm.requests.map((r) => `${r.method} ${r.path} ${r.authorized}`)).toEqual([
        `GET /api/v${apiVersion}/status true`,
      ]);
      expect(watch.condition).toMatchObject({
        state: 'ready',
        status: 'ready',
        version: '1.4.1',
        url: lm.url,
      });
    },
  );

  it('not ready (initialising): the status line fails naming its status and says to wait or initialise', async () => {
    lm.fault('notReady');
    const { doctor, watch } = moduleDoctor();
    const report = await doctor.probe();
    expect(summary(report)).toEqual([
      'reachable ok',
      'credentials ok',
      'status failed MARKING_LM_NOT_READY',
      'sync ok',
      'version ok',
    ]);
    expect(line(report, 'status').text).toBe('initialization (active mode)');
    expect(line(report, 'status').todo).toMatch(
      /initialising or loading its database.*Initialising the module/,
    );
    expect(watch.condition).toMatchObject({ state: 'notReady', reason: 'its status is initialization' });
  });

  it('never initialised: status and sync fail, and the line points to the initialisation', async () => {
    lm.fault('notConfigured');
    const report = await moduleDoctor().doctor.probe();
    expect(summary(report)).toEqual([
      'reachable ok',
      'credentials ok',
      'status failed MARKING_LM_NOT_READY',
      'sync failed MARKING_LM_SYNC_STALE',
      'version ok',
    ]);
    expect(line(report, 'status').todo).toMatch(
      /not initialised: initialise it once with the shop's ГИС МТ token/,
    );
    expect(line(report, 'sync').text).toBe('it does not say when it last synced with Честный ЗНАК');
  });

  it('a stale sync: the sync line fails with its age against maxSyncAgeHours', async () => {
    lm.fault('stale');
    const { doctor, watch } = moduleDoctor();
    const report = await doctor.probe();
    expect(summary(report)).toEqual([
      'reachable ok',
      'credentials ok',
      'status ok',
      'sync failed MARKING_LM_SYNC_STALE',
      'version ok',
    ]);
    expect(line(report, 'sync').text).toMatch(/^last sync 4 d 0 h ago \(.*\), at most 72 h allowed$/);
    expect(line(report, 'sync').todo).toMatch(/internet access/);
    expect(watch.condition).toMatchObject({ state: 'staleSync', reason: expect.stringMatching(/96 h ago/) });
  });

  it('refused credentials (401): a clear line naming the credentials file', async () => {
    await writeFile(credentialsFile, JSON.stringify({ username: 'admin', password: 'wrong' }));
    const { doctor, watch } = moduleDoctor();
    const report = await doctor.probe();
    expect(summary(report)).toEqual([
      'reachable ok',
      'credentials failed MARKING_LM_AUTH_FAILED',
      'status skipped',
      'sync skipped',
      'version skipped',
    ]);
    expect(line(report, 'credentials').text).toBe(
      `the module refused the login in ${credentialsFile} (HTTP 401)`,
    );
    expect(line(report, 'credentials').todo).toContain(credentialsFile);
    expect(watch.condition?.state).toBe('credentialsRefused');
  });

  it('a credentials file that is missing is named, and the module is not asked', async () => {
    await rm(credentialsFile);
    const { doctor, watch } = moduleDoctor();
    const report = await doctor.probe();
    expect(summary(report)).toEqual([
      'reachable skipped',
      'credentials failed MARKING_LM_CREDENTIALS',
      'status skipped',
      'sync skipped',
      'version skipped',
    ]);
    expect(line(report, 'credentials').text).toMatch(/lm\.json cannot be used: it does not exist/);
    expect(lm.requests).toEqual([]);
    expect(watch.condition?.state).toBe('credentialsUnusable');
  });

  it('unreachable: nothing listens, or the connection is cut: one failed line and the rest not known', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { doctor, watch } = moduleDoctor({ url });
    const refused = await doctor.probe();
    expect(summary(refused)).toEqual([
      'reachable failed MARKING_LM_UNREACHABLE',
      'credentials skipped',
      'status skipped',
      'sync skipped',
      'version skipped',
    ]);
    expect(line(refused, 'reachable').text).toBe(`${url}: unreachable (ECONNREFUSED)`);
    expect(line(refused, 'reachable').todo).toMatch(/service runs.*localModule\.url/);
    expect(watch.condition).toMatchObject({ state: 'unreachable', url });

    lm.fault('unreachable');
    const cut = await moduleDoctor().doctor.probe();
    expect(summary(cut)[0]).toBe('reachable failed MARKING_LM_UNREACHABLE');
    expect(line(cut, 'reachable').text).toMatch(/no answer/);
  });

  it('slow: within timeoutMs it passes with the time it took; beyond, it is unreachable within that time', async () => {
    lm.fault('slow');
    lm.slowMs = 300;
    const slow = await moduleDoctor({ timeoutMs: 2000 }).doctor.probe();
    expect(summary(slow)[0]).toBe('reachable ok');
    const took = Number(/answered in (\d+) ms/.exec(line(slow, 'reachable').text)?.[1]);
    expect(took).toBeGreaterThanOrEqual(300);

    lm.slowMs = 1500;
    const tooSlow = await moduleDoctor({ timeoutMs: 200 }).doctor.probe();
    expect(summary(tooSlow)[0]).toBe('reachable failed MARKING_LM_UNREACHABLE');
    expect(line(tooSlow, 'reachable').text).toMatch(/no complete answer within 200 ms/);
  });

  it('a garbage answer (an HTML page) fails the status line naming what was wrong', async () => {
    lm.fault('garbageStatus');
    const { doctor, watch } = moduleDoctor();
    const report = await doctor.probe();
    expect(summary(report)).toEqual([
      'reachable ok',
      'credentials ok',
      'status failed MARKING_LM_ANSWER_INVALID',
      'sync skipped',
      'version skipped',
    ]);
    expect(line(report, 'status').text).toMatch(/its status with an unreadable \(the answer\): not JSON/);
    expect(line(report, 'status').todo).toMatch(/localModule\.url is the module itself/);
    expect(watch.condition?.state).toBe('answerInvalid');
  });

  it('a wrong path or API version (404) and a failing module (500) are told apart', async () => {
    const wrong = await moduleDoctor({ url: `${lm.url}/nowhere` }).doctor.probe();
    expect(summary(wrong)).toEqual([
      'reachable ok',
      'credentials skipped',
      'status failed MARKING_LM_ANSWER_INVALID',
      'sync skipped',
      'version skipped',
    ]);
    expect(line(wrong, 'status').text).toMatch(/404 for GET \/nowhere\/api\/v1\/status/);

    lm.fault('serverError');
    const failing = await moduleDoctor().doctor.probe();
    expect(summary(failing)).toEqual([
      'reachable ok',
      'credentials skipped',
      'status failed MARKING_LM_NOT_READY',
      'sync skipped',
      'version skipped',
    ]);
    expect(line(failing, 'status').text).toBe('it answered HTTP 500: Internal error instead of its status');
  });
});
