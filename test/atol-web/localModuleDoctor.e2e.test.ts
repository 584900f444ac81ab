import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/agent/devices/doctorReport.js';
import { type MockLocalModule, startMockLocalModule } from '../localModule/mockServer.js';
import { useAgentBox } from '../support/agentBox.js';
import { runCli } from '../support/agentProcess.js';
import { startWeb, TZ, type WebHarness, webDeviceConfig } from './support.js';

/**
 * `kkt-agent doctor` looks at the shop's local module of Честный ЗНАК (docs/marking.md, "Checking the
 * module"): a real `kkt-agent run` process with an `atol-web` device (the driver-10 facade over the
 * emulated register) whose `localModule` is the mock module on loopback; the CLI asks the daemon, then,
 * once it is stopped, runs the doctor on its own. `status` shows the module's last condition. Needs
 * `npm run build`.
 */

const box = useAgentBox('kkt-lm-doctor-');
let h: WebHarness;
let lm: MockLocalModule;
let configPath: string;
let credentialsFile: string;

beforeEach(async () => {
  h = await startWeb();
  box.own(h.web);
  lm = box.own(await startMockLocalModule());
  credentialsFile = join(box.dir, 'lm.json');
  await writeCredentials(lm.password);
  configPath = await box.writeConfig({
    timeZone: TZ,
    devices: [webDeviceConfig(h.web.url, { localModule: { url: lm.url, credentialsFile, timeoutMs: 1000 } })],
  });
});

const writeCredentials = (password: string) =>
  writeFile(credentialsFile, JSON.stringify({ username: lm.username, password }), { mode: 0o600 });

const doctor = (...args: string[]) =>
  runCli(['doctor', '--config', configPath, '--socket', box.socket, ...args]);

async function doctorJson(): Promise<{ code: number | null; report: DoctorReport }> {
  const run = await doctor('--json');
  const { reports } = JSON.parse(run.stdout) as { reports: DoctorReport[] };
  expect(reports).toHaveLength(1);
  return { code: run.code, report: reports[0]! };
}

const verdicts = (report: DoctorReport) =>
  report.localModule?.lines.map((l) => `${l.check} ${l.verdict}${l.error ? ` ${l.error.code}` : ''}`);

describe('doctor and status show the local module', () => {
  it('through the daemon and on its own: ready, stale sync, refused credentials, unreachable', async () => {
    await box.startAgent();

    // Ready: every line passes, the exit code says nothing needs a look.
    const ready = await doctorJson();
    expect(ready.code).toBe(0);
    expect(ready.report.kind).toBe('atol-web');
    expect(ready.report.localModule).toMatchObject({ url: lm.url, apiVersion: 1, enabled: true });
    expect(verdicts(ready.report)).toEqual([
      'reachable ok',
      'credentials ok',
      'status ok',
      'sync ok',
      'version ok',
    ]);
    expect(lm.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/status']);
    let status = await runCli(['status', '--socket', box.socket]);
    expect(status.stdout).toMatch(/^OK: nothing needs attention/);
    expect(status.stdout).toMatch(
      /local module\s+ready, last sync \d+s ago, version 1\.4\.1, seen \d+s ago at http/,
    );

    // Stale: the text names the age against the limit, the code, and what to do; exit 2.
    lm.fault('stale');
    const stale = await doctor();
    expect(stale.code).toBe(2);
    expect(stale.stdout).toMatch(/^ATTENTION: kkt/);
    expect(stale.stdout).toContain('Local module of Честный ЗНАК (ЛМ ЧЗ), API v1:');
    expect(stale.stdout).toMatch(
      /last sync\s+FAILED: last sync 4 d 0 h ago \(.*\), at most 72 h allowed \[MARKING_LM_SYNC_STALE\]/,
    );
    expect(stale.stdout).toMatch(/What to do about the local module:\n\s+- last sync: it has not synced/);
    status = await runCli(['status', '--socket', box.socket]);
    expect(status.stdout).toMatch(/local module\s+SYNC STALE \(its last sync with Честный ЗНАК was 96 h ago/);
    expect(status.stdout).toMatch(
      /^ATTENTION \(1\):\n {2}! device kkt: the local module of Честный ЗНАК was sync stale when last asked \(\d+s ago: its last sync .* 96 h ago .*\); kkt-agent doctor shows what to do/,
    );
    const { devices } = (await box.agent.call('status')) as {
      devices: Array<{ localModule?: { state: string; seenAt: string } }>;
    };
    expect(devices[0]!.localModule).toMatchObject({ state: 'staleSync', seenAt: expect.any(String) });

    // Refused credentials: the line names the credentials file.
    lm.fault(undefined);
    await writeCredentials('wrong');
    const refused = await doctorJson();
    expect(refused.code).toBe(2);
    expect(verdicts(refused.report)).toEqual([
      'reachable ok',
      'credentials failed MARKING_LM_AUTH_FAILED',
      'status skipped',
      'sync skipped',
      'version skipped',
    ]);
    expect(refused.report.localModule!.lines[1]!.text).toBe(
      `the module refused the login in ${credentialsFile} (HTTP 401)`,
    );
    status = await runCli(['status', '--socket', box.socket]);
    expect(status.stdout).toContain(
      `local module  CREDENTIALS REFUSED (HTTP 401 for the login in ${credentialsFile})`,
    );

    // Without the daemon, the CLI opens the device itself and looks at the module the same way.
    await writeCredentials(lm.password);
    lm.fault('unreachable');
    await box.agent.stop();
    const alone = await doctorJson();
    expect(alone.code).toBe(2);
    expect(verdicts(alone.report)?.[0]).toBe('reachable failed MARKING_LM_UNREACHABLE');
    expect(alone.report.localModule!.lines[0]!.text).toMatch(new RegExp(`^${lm.url}: no answer \\(`));
  }, 90_000);
});
