import { readFile } from 'node:fs/promises';
import { packagesOf, parseModuleList } from '../test/support/moduleProbe.js';
import { memoryOf, readHeapProbe, withProbedAgent } from './lib/agentProcessRig.js';
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

/** Asks the module probe preloaded into process `pid` (SIGUSR2) for the modules loaded so far. */
async function modulesOf(pid: number, modulesFile: string): Promise<string[]> {
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 200; i++) {
    const text = await readFile(modulesFile, 'utf8').catch(() => '');
    if (text.endsWith('done\n')) return parseModuleList(text);
    await settle(50);
  }
  throw new Error(`bench: the module probe did not write ${modulesFile}`);
}

export async function benchReadyFootprint(options: ReadyFootprintOptions): Promise<ReadyFootprint> {
  const nodeArgs = options.nodeArgs ?? [];
  const idle = () => settle(options.idleMs ?? 2000);
  // The first start carries the module probe (its loader thread costs RSS); the others are read clean.
  const modules = await withProbedAgent({ nodeArgs, probe: 'modules' }, async ({ agent, modulesFile }) => {
    await idle();
    return modulesOf(agent.child.pid!, modulesFile);
  });
  const runs: Array<Pick<ReadyFootprint, 'rssBytes' | 'heapAfterGcBytes' | 'readyMs'>> = [];
  for (let run = 1; run <= options.runs; run++) {
    runs.push(
      await withProbedAgent({ nodeArgs }, async ({ agent, heapFile }) => {
        await idle();
        const pid = agent.child.pid!;
        const { rssBytes } = await memoryOf(pid);
        const { heapAfterGcBytes } = await readHeapProbe(pid, heapFile);
        return { rssBytes, heapAfterGcBytes, readyMs: agent.readyMs };
      }),
    );
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
