import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMockBridge } from '../src/emulators/bridge/index.js';
import { buildAgedDataDir } from './lib/agedDataDir.js';
import { benchAgentConfig, memoryOf } from './lib/agentProcessRig.js';
import { BENCH_TZ, tempDir } from './lib/agentRig.js';
import { startEmulatorProcess } from './lib/emulatorProcess.js';
import { spawnUntilReady } from './lib/readyProbe.js';

/**
 * A box at several ages (issue 17): for each age a data directory is built as years of 300 receipts a day
 * and nightly retention leave it (`bench/lib/agedDataDir.ts`), then a real `kkt-agent run` (one ATOL
 * register, one bridge account polled every second) is started on it: start → READY=1, and once it idles
 * the heap after a forced full GC (a preloaded probe, `bench/lib/heapProbe.ts`), RSS and peak RSS.
 */

export interface AgeBenchOptions {
  ages: readonly number[];
  starts: number;
  receiptsPerDay?: number;
  /** How long the agent idles after READY before memory is read. */
  idleMs?: number;
}

export interface AgeResult {
  ageDays: number;
  jobs: number;
  databaseBytes: number;
  buildSeconds: number;
  readyMs: number[];
  heapAfterGcBytes: number;
  idleRssBytes: number;
  peakRssBytes: number;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const heapProbe = pathToFileURL(join(import.meta.dirname, 'lib', 'heapProbe.js')).href;

async function heapOf(pid: number, file: string): Promise<number> {
  await rm(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await settle(50);
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text !== '') return Number(text);
  }
  throw new Error('bench: the heap probe did not answer');
}

export async function benchAges(options: AgeBenchOptions): Promise<AgeResult[]> {
  const emulator = await startEmulatorProcess();
  const bridge = await startMockBridge({ port: 0, timeZone: BENCH_TZ, bills: [] });
  const results: AgeResult[] = [];
  try {
    for (const ageDays of options.ages) {
      const dir = await tempDir();
      try {
        const { configPath } = await benchAgentConfig(dir.path, {
          emulatorPort: emulator.port,
          bridgeUrl: bridge.url,
          pollIntervalMs: 1000,
        });
        const built = await buildAgedDataDir(join(dir.path, 'data'), {
          ageDays,
          receiptsPerDay: options.receiptsPerDay,
        });
        const result: AgeResult = {
          ageDays,
          jobs: built.jobs,
          databaseBytes: built.databaseBytes,
          buildSeconds: built.buildSeconds,
          readyMs: [],
          heapAfterGcBytes: Number.NaN,
          idleRssBytes: Number.NaN,
          peakRssBytes: Number.NaN,
        };
        const heapFile = join(dir.path, 'heap.txt');
        for (let start = 0; start < options.starts; start++) {
          const agent = await spawnUntilReady({
            configPath,
            notifyDir: dir.path,
            nodeArgs: ['--import', heapProbe],
            env: { KKT_BENCH_HEAP_FILE: heapFile },
          });
          try {
            result.readyMs.push(agent.readyMs);
            // Memory is read on the last start only: the earlier ones warm the page cache as a box that
            // restarts has it warm (a cold first start after boot is slower; its READY time is kept too).
            if (start === options.starts - 1) {
              await settle(options.idleMs ?? 3000);
              const pid = agent.child.pid!;
              result.heapAfterGcBytes = await heapOf(pid, heapFile);
              const memory = await memoryOf(pid);
              result.idleRssBytes = memory.rssBytes;
              result.peakRssBytes = memory.peakRssBytes;
            }
          } finally {
            await agent.stop();
          }
        }
        results.push(result);
      } finally {
        await dir.remove();
      }
    }
    return results;
  } finally {
    await bridge.close();
    await emulator.stop();
  }
}
