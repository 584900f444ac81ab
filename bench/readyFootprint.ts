import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMockBridge } from '../src/emulators/bridge/index.js';
import { packagesOf, parseModuleList } from '../test/support/moduleProbe.js';
import { benchAgentConfig, memoryOf } from './lib/agentProcessRig.js';
import { BENCH_TZ, tempDir } from './lib/agentRig.js';
import { startEmulatorProcess } from './lib/emulatorProcess.js';
import { spawnUntilReady } from './lib/readyProbe.js';
import { median } from './lib/stats.js';

/**
 * What a fresh `kkt-agent run` (one ATOL register on TCP, one bridge account) holds once READY=1 is sent
 * (issue 17): how many modules it loaded and from which npm packages (a preloaded probe,
 * `test/support/moduleProbe.ts`), RSS and the heap after a forced full GC (`heapProbe.ts`), with the
 * given Node flags. Memory and READY: median of `runs` fresh starts; modules: one more start with the probe.
 */

export interface ReadyFootprintOptions {
  runs: number;
  nodeArgs?: string[];
  /** How long the agent idles after READY before it is read. */
  idleMs?: number;
}

export interface ReadyFootprint {
  modules: number;
  packages: string[];
  rssBytes: number;
  heapAfterGcBytes: number;
  readyMs: number;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const probeUrl = (file: string) => pathToFileURL(join(import.meta.dirname, file)).href;

async function waitForFile(file: string, done: (text: string) => boolean): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (done(text)) return text;
    await settle(50);
  }
  throw new Error(`bench: the probe did not write ${file}`);
}

export async function benchReadyFootprint(options: ReadyFootprintOptions): Promise<ReadyFootprint> {
  const emulator = await startEmulatorProcess();
  const bridge = await startMockBridge({ port: 0, timeZone: BENCH_TZ, bills: [] });
  const runs: Array<Pick<ReadyFootprint, 'rssBytes' | 'heapAfterGcBytes' | 'readyMs'>> = [];
  let modules: string[] = [];
  try {
    // The first start carries the module probe (its loader thread costs RSS); the others are read clean.
    for (let run = 0; run <= options.runs; run++) {
      const probed = run === 0;
      const dir = await tempDir();
      try {
        const { configPath } = await benchAgentConfig(dir.path, {
          emulatorPort: emulator.port,
          bridgeUrl: bridge.url,
          pollIntervalMs: 1000,
        });
        const modulesFile = join(dir.path, 'modules.txt');
        const heapFile = join(dir.path, 'heap.txt');
        const agent = await spawnUntilReady({
          configPath,
          notifyDir: dir.path,
          nodeArgs: [
            ...(options.nodeArgs ?? []),
            '--import',
            probeUrl(probed ? '../test/support/moduleProbe.js' : 'lib/heapProbe.js'),
          ],
          env: probed ? { KKT_PROBE_MODULES_FILE: modulesFile } : { KKT_BENCH_HEAP_FILE: heapFile },
        });
        try {
          await settle(options.idleMs ?? 2000);
          const pid = agent.child.pid!;
          if (probed) {
            process.kill(pid, 'SIGUSR2');
            const text = await waitForFile(modulesFile, (written) => written.endsWith('done\n'));
            modules = parseModuleList(text);
          } else {
            const { rssBytes } = await memoryOf(pid);
            await rm(heapFile, { force: true });
            process.kill(pid, 'SIGUSR2');
            const heap = Number(await waitForFile(heapFile, (written) => written !== ''));
            runs.push({ rssBytes, heapAfterGcBytes: heap, readyMs: agent.readyMs });
          }
        } finally {
          await agent.stop();
        }
      } finally {
        await dir.remove();
      }
    }
  } finally {
    await bridge.close();
    await emulator.stop();
  }
  const med = (pick: (r: (typeof runs)[number]) => number) => median(runs.map(pick));
  return {
    modules: modules.length,
    packages: [...packagesOf(modules)].sort(),
    rssBytes: med((r) => r.rssBytes),
    heapAfterGcBytes: med((r) => r.heapAfterGcBytes),
    readyMs: med((r) => r.readyMs),
  };
}
