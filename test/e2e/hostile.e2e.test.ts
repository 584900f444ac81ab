import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EMULATOR_EXTRA_TAX_BYTES, startAtolEmulator } from '../../src/emulators/atol/index.js';
import { SEED_BILLS, startMockBridge } from '../../src/emulators/bridge/index.js';
import {
  type AgentProcess,
  runCli,
  startAgentProcess,
  until,
  writeAgentConfig,
} from '../support/agentProcess.js';
import { sampleBill } from '../support/bills.js';

/**
 * Issue 18, "Hostile world": what a careless technician or a hostile host did to the running daemon, each
 * kept here as the attack it was (items 6, 10, 11 and 12; the MQTT items live in test/mqtt, the silent
 * register in silentRegister.e2e.test.ts). Every test runs the real `kkt-agent run` process.
 */

let dir: string;
let agent: AgentProcess | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-hostile-'));
});

afterEach(async () => {
  await agent?.kill();
  agent = undefined;
  await rm(dir, { recursive: true, force: true });
});

const dataDir = () => join(dir, 'data');
const socketOf = () => join(dir, 'control.sock');

/** A box with a non-fiscal printer (no emulator needed): bills are given inline over the control socket. */
function boxConfig(extra: Record<string, unknown> = {}) {
  return writeAgentConfig(dir, {
    dataDir: dataDir(),
    timeZone: 'Europe/Moscow',
    log: { level: 'info' },
    control: { socketPath: socketOf() },
    devices: [{ id: 'paper', kind: 'nonfiscal' }],
    ...extra,
  });
}

async function printOneBill(running: AgentProcess, billId: string): Promise<void> {
  const bill = JSON.parse(JSON.stringify(sampleBill(billId)));
  await running.call('fiscalize', { bill });
  await until(async () => {
    const { jobs } = (await running.call('jobs.list', {})) as { jobs: Array<{ state: string }> };
    return jobs.some((job) => job.state === 'REPORTED' || job.state === 'FISCALIZED');
  }, `bill ${billId} printed`);
}

describe('18.6 control.socketPath never destroys a file', () => {
  it('pointed at the database (the jobs journal once): `config validate` names the field, `run` refuses and it stays', async () => {
    agent = await startAgentProcess(await boxConfig(), socketOf());
    await printOneBill(agent, 'keep-me');
    expect(await agent.stop()).toBe(0);
    const journal = join(dataDir(), 'agent.db');
    const before = await readFile(journal);

    const attack = await boxConfig({ control: { socketPath: journal } });
    const validate = await runCli(['config', 'validate', attack]);
    expect(validate.code).toBe(78);
    expect(validate.stderr).toContain('control.socketPath');
    expect(validate.stderr).toContain('*.sock');

    const run = await runCli(['run', '--config', attack]);
    expect(run.code).toBe(78);
    expect((await lstat(journal)).isFile()).toBe(true);
    expect(await readFile(journal)).toEqual(before);
  });

  it('pointed at a regular file outside the data directory: refused at start (lstat), the file kept', async () => {
    const precious = join(dir, 'notes.txt');
    await writeFile(precious, 'the shift log of 2026-11-21\n');
    const attack = await boxConfig({ control: { socketPath: precious } });
    expect((await runCli(['config', 'validate', attack])).code).toBe(0);
    const run = await runCli(['run', '--config', attack]);
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('CONTROL_SOCKET_PATH_TAKEN');
    expect(run.stderr).toContain('is a regular file, not a socket');
    expect(await readFile(precious, 'utf8')).toBe('the shift log of 2026-11-21\n');
    // Nothing was opened before the refusal: no journal was created.
    await expect(stat(join(dataDir(), 'agent.db'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.each([
    ['a relative data directory', { dataDir: 'data' }, 'dataDir'],
    ['a data directory that climbs with ..', { dataDir: '/var/lib/kkt-agent/../../tmp/kkt' }, 'dataDir'],
    ['a relative log file', { log: { file: { path: 'logs/agent.log' } } }, 'log.file.path'],
    [
      'a log file that climbs with ..',
      { log: { file: { path: '/var/log/../tmp/agent.log' } } },
      'log.file.path',
    ],
  ])('`config validate` refuses %s, naming the field', async (_name, patch, field) => {
    const path = await boxConfig(patch);
    const validate = await runCli(['config', 'validate', path]);
    expect(validate.code).toBe(78);
    expect(validate.stderr).toContain(field);
  });
});

describe('18.12 --log-file writes the named file, mode 0640, and rotates beside it', () => {
  it('writes X.log itself with mode 0640; an oversized X.log is rotated to X.log.1 at start', async () => {
    const logs = join(dir, 'logs');
    await mkdir(logs);
    const logFile = join(logs, 'agent.log');
    // Yesterday's log, over the 1 MB limit: rotated away beside it before anything new is written.
    const old = `${'{"event":"old.line"}\n'.repeat(60_000)}`;
    await writeFile(logFile, old, { mode: 0o644 });
    const path = await boxConfig({ log: { level: 'info', file: { path: logFile, maxSizeMb: 1, keep: 3 } } });
    agent = await startAgentProcess(path, socketOf(), { extraArgs: ['--log-file', logFile] });
    await printOneBill(agent, 'logged');
    expect(await agent.stop()).toBe(0);

    expect((await readdir(logs)).sort()).toEqual(['agent.log', 'agent.log.1']);
    expect((await stat(logFile)).mode & 0o777).toBe(0o640);
    const text = await readFile(logFile, 'utf8');
    expect(text).toContain('"event":"daemon.ready"');
    expect(text).not.toContain('old.line');
    expect(await readFile(join(logs, 'agent.log.1'), 'utf8')).toBe(old);
  });
});

describe('18.10 SIGHUP', () => {
  it('reopens the log file with a log line, keeps serving, and a later stop leaves no socket', async () => {
    const logFile = join(dir, 'agent.log');
    agent = await startAgentProcess(await boxConfig(), socketOf(), { extraArgs: ['--log-file', logFile] });
    const logged = (event: string) => async () =>
      (await readFile(logFile, 'utf8').catch(() => '')).includes(`"event":"${event}"`);
    await until(logged('daemon.ready'), 'the first lines in the log file');
    // logrotate moves the file away, then signals the daemon.
    await rename(logFile, `${logFile}.moved`);
    agent.child.kill('SIGHUP');
    await until(logged('daemon.sighup'), 'the log line in the reopened file');
    expect(agent.child.exitCode).toBeNull();
    await printOneBill(agent, 'after-hup');
    await until(logged('intake.received'), 'later lines in the reopened file');
    expect(await readFile(`${logFile}.moved`, 'utf8')).toContain('"event":"daemon.ready"');
    expect(await agent.stop()).toBe(0);
    await expect(lstat(socketOf())).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('without a log file, SIGHUP is a log line and nothing else', async () => {
    agent = await startAgentProcess(await boxConfig(), socketOf());
    agent.child.kill('SIGHUP');
    await until(() => agent!.output().includes('"event":"daemon.sighup"'), 'the sighup log line');
    expect(await agent.call('status')).toMatchObject({ devices: [{ id: 'paper' }] });
    expect(await agent.stop()).toBe(0);
    await expect(lstat(socketOf())).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

const run = promisify(execFile);

/** The disk as the agent sees it: `prlimit --fsize` on its process (see chaos/scenarios/fullDisk.ts). */
async function setFileSizeLimit(pid: number, full: boolean): Promise<void> {
  await run('prlimit', ['--pid', String(pid), full ? '--fsize=0:unlimited' : '--fsize=unlimited:unlimited']);
}

describe('18.11 `status` never says OK while something needs a person', () => {
  it('journal writes failing (a full disk) are an attention item until a write succeeds again', async () => {
    agent = await startAgentProcess(await boxConfig(), socketOf());
    const running = agent;
    await setFileSizeLimit(running.child.pid!, true);
    const refused = await running
      .call('fiscalize', { bill: JSON.parse(JSON.stringify(sampleBill('disk-full'))) })
      .then(
        () => undefined,
        (error: { code?: string }) => error,
      );
    expect(refused).toMatchObject({ code: 'STORAGE_WRITE_FAILED' });
    const full = await runCli(['status', '--socket', socketOf()]);
    expect(full.code).toBe(0);
    expect(full.stdout).not.toContain('OK: nothing needs attention');
    expect(full.stdout).toContain('ATTENTION');
    expect(full.stdout).toMatch(/Writes to the agent's database \(.*agent\.db\) are failing since .* last: /);

    await setFileSizeLimit(running.child.pid!, false);
    await printOneBill(running, 'disk-freed');
    const freed = await runCli(['status', '--socket', socketOf()]);
    expect(freed.stdout).toContain('OK: nothing needs attention');
  });

  it('a receipt fiscalized but not reported past outbox.unreportedAlertMs is an attention item', async () => {
    const emulator = await startAtolEmulator({ port: 0, persist: false, timeZone: 'Europe/Moscow' });
    const bridge = await startMockBridge({ port: 0, bills: [SEED_BILLS[0]!] });
    try {
      // The cloud answers HELLO and LIST but rate-limits every report: the connector stays online.
      bridge.setFault({ kind: 'rejectReceipts', status: 429, retryAfterSeconds: 1, times: 1_000_000 });
      const path = await boxConfig({
        devices: [
          {
            id: 'kkt',
            kind: 'atol',
            link: { type: 'tcp', host: '127.0.0.1', port: emulator.port },
            operator: { name: 'Кассир' },
            taxBytes: EMULATOR_EXTRA_TAX_BYTES,
          },
        ],
        connectors: {
          bridge: [{ id: '120', baseUrl: bridge.url, autoFiscalize: { enabled: true, intervalMs: 200 } }],
        },
        outbox: { unreportedAlertMs: 1000 },
      });
      agent = await startAgentProcess(path, socketOf());
      const running = agent;
      await until(async () => {
        const { jobs } = (await running.call('jobs.list', {})) as { jobs: Array<{ state: string }> };
        return jobs.some((job) => job.state === 'FISCALIZED');
      }, 'the bill fiscalized');
      const late = await until(async () => {
        const status = await runCli(['status', '--socket', socketOf()]);
        return status.stdout.includes('fiscalized but not reported') ? status : undefined;
      }, 'the unreported receipt in status');
      expect(late.stdout).not.toContain('OK: nothing needs attention');
      expect(late.stdout).toMatch(/1 receipt\(s\) fiscalized but not reported for over 1 s/);
      const answer = (await running.call('status')) as { alerts: Array<{ code: string }> };
      expect(answer.alerts.map((a) => a.code)).toContain('RECEIPTS_UNREPORTED');
    } finally {
      await agent?.kill();
      await bridge.close();
      await emulator.close();
    }
  });
});
