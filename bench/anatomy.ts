import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readHeapProbe, withProbedAgent } from './lib/agentProcessRig.js';
import { anatomyOf, type ProcessAnatomy } from './lib/processAnatomy.js';

/**
 * Where an idle agent's memory goes (issue 17): a fresh `kkt-agent run` (one ATOL register on TCP, one
 * bridge account polled every second) read `idleMs` after READY=1 — RSS split into anonymous and file
 * pages, threads, `process.memoryUsage()` after a forced full GC — beside the floor: a bare
 * `node <same flags> -e` that only waits, which no change of ours can go under.
 */
export interface AnatomyOptions {
  nodeArgs: string[];
  env?: Record<string, string>;
  idleMs?: number;
}

export interface AgentAnatomy extends ProcessAnatomy {
  readyMs: number;
  readyCpuMs: number;
  usage: NodeJS.MemoryUsage;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function benchAgentAnatomy(options: AnatomyOptions): Promise<AgentAnatomy> {
  return withProbedAgent(options, async ({ agent, heapFile }) => {
    await settle(options.idleMs ?? 3000);
    const pid = agent.child.pid!;
    const anatomy = await anatomyOf(pid);
    const { usage } = await readHeapProbe(pid, heapFile);
    return { ...anatomy, readyMs: agent.readyMs, readyCpuMs: agent.readyCpuMs, usage };
  });
}

/** The floor: `node <nodeArgs> -e` that only waits, read after `idleMs`. */
export async function benchNodeFloor(options: AnatomyOptions): Promise<ProcessAnatomy> {
  const child = spawn(process.execPath, [...options.nodeArgs, '-e', 'setInterval(() => {}, 1000)'], {
    stdio: 'ignore',
    env: { ...process.env, ...options.env },
  });
  const exited = once(child, 'exit');
  try {
    await settle(options.idleMs ?? 3000);
    return await anatomyOf(child.pid!);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}
