import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { listenUnixDatagram } from '../src/agent/systemd/unixDatagram.js';
import { REPO_ROOT } from '../test/support/agentProcess.js';
import { benchAgentConfig } from './lib/agentProcessRig.js';
import { tempDir } from './lib/agentRig.js';
import { startEmulatorProcess } from './lib/emulatorProcess.js';

/**
 * Start to READY: `node bin/kkt-agent.js run` is spawned with a NOTIFY_SOCKET this bench listens on (it
 * plays systemd); measured from spawn to the READY=1 datagram. READY is sent after the journals are open,
 * the control socket listens and the register has been connected and identified.
 */

export interface StartupBenchOptions {
  runs: number;
}

export interface StartupBenchResult {
  readyMs: number[];
}

export async function benchStartup(options: StartupBenchOptions): Promise<StartupBenchResult> {
  const emulator = await startEmulatorProcess();
  const readyMs: number[] = [];
  try {
    for (let run = 0; run < options.runs; run++) {
      const dir = await tempDir();
      const { configPath } = await benchAgentConfig(dir.path, { emulatorPort: emulator.port });
      const notifySocket = join(dir.path, 'notify.sock');
      let readyAt = 0;
      let onReady: () => void = () => undefined;
      const ready = new Promise<void>((resolve) => {
        onReady = resolve;
      });
      const listener = await listenUnixDatagram(notifySocket, (message) => {
        if (readyAt === 0 && message.toString('utf8').split('\n').includes('READY=1')) {
          readyAt = performance.now();
          onReady();
        }
      });
      const spawnedAt = performance.now();
      const child = spawn(
        process.execPath,
        [join(REPO_ROOT, 'bin', 'kkt-agent.js'), 'run', '--config', configPath],
        {
          env: { ...process.env, NOTIFY_SOCKET: notifySocket, WATCHDOG_USEC: '' },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = once(child, 'exit');
      try {
        await Promise.race([
          ready,
          exited.then(() => {
            throw new Error(`bench: the agent exited before READY=1:\n${stderr}`);
          }),
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error('bench: no READY=1 within 30 s')), 30_000),
          ),
        ]);
        readyMs.push(readyAt - spawnedAt);
      } finally {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await exited;
        }
        listener.close();
        await dir.remove();
      }
    }
    return { readyMs };
  } finally {
    await emulator.stop();
  }
}
