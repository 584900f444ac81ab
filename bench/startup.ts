import { benchAgentConfig } from './lib/agentProcessRig.js';
import { tempDir } from './lib/agentRig.js';
import { startEmulatorProcess } from './lib/emulatorProcess.js';
import { spawnUntilReady } from './lib/readyProbe.js';

/**
 * Start to READY: `node bin/kkt-agent.js run` is spawned with a NOTIFY_SOCKET this bench listens on (it
 * plays systemd); measured from spawn to the READY=1 datagram. READY is sent after the database is open,
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
      try {
        const { configPath } = await benchAgentConfig(dir.path, { emulatorPort: emulator.port });
        const agent = await spawnUntilReady({ configPath, notifyDir: dir.path, timeoutMs: 30_000 });
        readyMs.push(agent.readyMs);
        await agent.stop();
      } finally {
        await dir.remove();
      }
    }
    return { readyMs };
  } finally {
    await emulator.stop();
  }
}
