import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listenUnixDatagram, type UnixDatagramListener } from '../../src/agent/systemd/unixDatagram.js';
import { compileForChild, repoRoot } from './compileModule.js';

// The harness plays systemd: it binds the notify socket, starts the agent stand-in with NOTIFY_SOCKET
// and WATCHDOG_USEC, and reads what arrives. Assertions are on the messages, not on their timing.

const FIXTURE = join(repoRoot, 'test/systemd/fixtures/notify-child.mjs');
const WATCHDOG_USEC = '200000'; // pings every 100 ms
const QUIET_WINDOW_MS = 600; // six ping intervals without a ping means the pings stopped

let moduleUrl: string;
let buildDir: string;
let workDir: string;

beforeAll(() => {
  const build = compileForChild('src/agent/systemd/index.ts', 'systemd-notify-test');
  moduleUrl = pathToFileURL(build.entryPath).href;
  buildDir = build.outDir;
  workDir = mkdtempSync(join(tmpdir(), 'kkt-sd-notify-'));
});

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
  rmSync(buildDir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  messages: string[];
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  listener: UnixDatagramListener;
}

const runs: Run[] = [];
let socketCounter = 0;

afterEach(() => {
  for (const run of runs.splice(0)) {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    run.listener.close();
  }
});

async function startChild(env: Record<string, string>): Promise<Run> {
  socketCounter += 1;
  const socketPath = join(workDir, `notify-${socketCounter}.sock`);
  const messages: string[] = [];
  const listener = await listenUnixDatagram(socketPath, (message) => messages.push(message.toString('utf8')));
  const child = spawn(process.execPath, [FIXTURE], {
    env: {
      PATH: process.env.PATH ?? '',
      KKT_SYSTEMD_MODULE: moduleUrl,
      NOTIFY_SOCKET: socketPath,
      WATCHDOG_USEC,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const run = { child, messages, stdout: () => stdout, stderr: () => stderr, exited, listener };
  runs.push(run);
  return run;
}

const isPing = (message: string) => message === 'WATCHDOG=1\n';
const pingsAfter = (messages: string[], index: number) => messages.slice(index + 1).filter(isPing).length;
/** The first message matching `pattern` at or after `from`; -1 when none. */
const indexOfMessage = (messages: string[], pattern: RegExp, from = 0) => {
  const found = messages.slice(from).findIndex((m) => pattern.test(m));
  return found < 0 ? -1 : from + found;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readyAndPinging(run: Run): Promise<void> {
  await expect.poll(() => run.messages, { timeout: 10_000 }).toContain('READY=1\nSTATUS=running\n');
  const readyAt = run.messages.indexOf('READY=1\nSTATUS=running\n');
  await expect.poll(() => pingsAfter(run.messages, readyAt), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
  await expect.poll(() => run.stdout(), { timeout: 10_000 }).toBe('ready\n');
}

describe('sd_notify and watchdog under a fake service manager', () => {
  it('reports READY=1, then pings the watchdog periodically', async () => {
    const run = await startChild({ SCENARIO: 'none' });
    await readyAndPinging(run);
    expect(run.messages[0]).toBe('STATUS=starting\n');
  });

  it('stops pinging when the event loop is blocked', async () => {
    const run = await startChild({ SCENARIO: 'block' });
    await readyAndPinging(run);
    run.child.kill('SIGUSR2');
    await expect.poll(() => run.messages, { timeout: 10_000 }).toContain('STATUS=blocking the event loop\n');
    const blockedAt = run.messages.indexOf('STATUS=blocking the event loop\n');
    await sleep(QUIET_WINDOW_MS);
    expect(pingsAfter(run.messages, blockedAt)).toBe(0);
  });

  it('stops pinging and reports the reason while the event loop keeps stalling', async () => {
    const run = await startChild({ SCENARIO: 'lag', MAX_LAG_MS: '60' });
    await readyAndPinging(run);
    // A loaded machine can stall the child's loop past 60 ms on its own before the signal (and the watchdog
    // then pings again once it recovers): only a stall reported after the signal counts.
    const signalledAt = run.messages.length;
    run.child.kill('SIGUSR2');
    const stalled = /^STATUS=unhealthy: event loop stalled for \d+ ms \(limit 60 ms\)\n$/;
    await expect
      .poll(() => indexOfMessage(run.messages, stalled, signalledAt), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(0);
    const stalledAt = indexOfMessage(run.messages, stalled, signalledAt);
    await sleep(QUIET_WINDOW_MS);
    expect(pingsAfter(run.messages, stalledAt)).toBe(0);
  });

  it('stops pinging while a liveness probe fails, and resumes when it passes again', async () => {
    const run = await startChild({ SCENARIO: 'probe' });
    await readyAndPinging(run);
    run.child.kill('SIGUSR2');
    const reason = 'STATUS=unhealthy: device loop: heartbeat older than 30 s\n';
    await expect.poll(() => run.messages, { timeout: 10_000 }).toContain(reason);
    const failedAt = run.messages.indexOf(reason);
    await sleep(QUIET_WINDOW_MS);
    expect(pingsAfter(run.messages, failedAt)).toBe(0);

    run.child.kill('SIGUSR1');
    await expect
      .poll(() => pingsAfter(run.messages, failedAt), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(1);
    expect(run.messages.slice(failedAt + 1)).toContain('STATUS=running\n');
  });

  it('sends STOPPING=1 on SIGTERM and exits cleanly', async () => {
    const run = await startChild({ SCENARIO: 'none' });
    await readyAndPinging(run);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.messages.at(-1)).toBe('STOPPING=1\nSTATUS=stopping: SIGTERM\n');
  });

  it('exits non-zero at once when WatchdogSec= is set but the notify socket is unusable', async () => {
    const run = await startChild({ SCENARIO: 'none', NOTIFY_SOCKET: join(workDir, 'nobody-listens.sock') });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('"code":"SD_WATCHDOG_WITHOUT_NOTIFY"');
    expect(run.messages).toEqual([]);
  });

  it('runs as a no-op outside systemd', async () => {
    const run = await startChild({ SCENARIO: 'none', NOTIFY_SOCKET: '', WATCHDOG_USEC: '' });
    await expect.poll(() => run.stdout(), { timeout: 10_000 }).toBe('ready\n');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.messages).toEqual([]);
    expect(run.stderr()).toBe('');
  });
});
