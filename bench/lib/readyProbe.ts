import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { listenUnixDatagram } from '../../src/agent/systemd/unixDatagram.js';
import { REPO_ROOT } from '../../test/support/agentProcess.js';
import { cpuMsFromStat } from './processAnatomy.js';

/**
 * `node [nodeArgs] bin/kkt-agent.js run --config …` with a NOTIFY_SOCKET this probe listens on (it plays
 * systemd): resolves when READY=1 arrives, with the time from spawn. The agent keeps running; stop it.
 */
export interface ReadyAgent {
  child: ChildProcess;
  readyMs: number;
  /** CPU time (user + system) the process had used when READY=1 arrived: what load moves least. */
  readyCpuMs: number;
  stop(): Promise<void>;
}

export async function spawnUntilReady(options: {
  configPath: string;
  notifyDir: string;
  nodeArgs?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<ReadyAgent> {
  const notifySocket = join(options.notifyDir, 'notify.sock');
  let readyAt = 0;
  let readyCpuMs = Number.NaN;
  let pid: number | undefined;
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  const listener = await listenUnixDatagram(notifySocket, (message) => {
    if (readyAt === 0 && message.toString('utf8').split('\n').includes('READY=1')) {
      readyAt = performance.now();
      // Read at once (synchronously): the process goes on working after READY.
      if (pid !== undefined) readyCpuMs = cpuMsOfSync(pid);
      onReady();
    }
  });
  const spawnedAt = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      join(REPO_ROOT, 'bin', 'kkt-agent.js'),
      'run',
      '--config',
      options.configPath,
    ],
    {
      env: { ...process.env, NOTIFY_SOCKET: notifySocket, WATCHDOG_USEC: '', ...options.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  pid = child.pid;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    listener.close();
  };
  const timeoutMs = options.timeoutMs ?? 60_000;
  try {
    await Promise.race([
      ready,
      exited.then(() => {
        throw new Error(`bench: the agent exited before READY=1:\n${stderr}`);
      }),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`bench: no READY=1 within ${timeoutMs} ms`)), timeoutMs),
      ),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, readyMs: readyAt - spawnedAt, readyCpuMs, stop };
}

function cpuMsOfSync(pid: number): number {
  try {
    return cpuMsFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}
