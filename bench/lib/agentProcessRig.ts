import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HeapCodeStatistics, HeapSpaceInfo } from 'node:v8';
import { type MockBridge, startMockBridge } from '../../src/emulators/bridge/index.js';
import { type AgentProcess, startAgentProcess, writeAgentConfig } from '../../test/support/agentProcess.js';
import { atolDevice } from '../../test/support/shopConfig.js';
import { BENCH_TZ, tempDir } from './agentRig.js';
import { startEmulatorProcess } from './emulatorProcess.js';
import { type ReadyAgent, spawnUntilReady } from './readyProbe.js';

/** The config of a real `kkt-agent run` for the bench: one ATOL register on TCP, optionally a bridge account. */
export async function benchAgentConfig(
  dir: string,
  options: { emulatorPort: number; bridgeUrl?: string; pollIntervalMs?: number },
): Promise<{ configPath: string; socket: string }> {
  const socket = join(dir, 'control.sock');
  const configPath = await writeAgentConfig(dir, {
    dataDir: join(dir, 'data'),
    timeZone: BENCH_TZ,
    log: { level: 'warn' },
    control: { socketPath: socket },
    devices: [atolDevice(options.emulatorPort)],
    connectors: {
      bridge: options.bridgeUrl
        ? [
            {
              id: '120',
              baseUrl: options.bridgeUrl,
              timeoutMs: 5000,
              autoFiscalize: { enabled: true, intervalMs: options.pollIntervalMs ?? 1000 },
            },
          ]
        : [],
    },
  });
  return { configPath, socket };
}

/** Resident and peak resident memory of a process, in bytes (Linux /proc). */
export async function memoryOf(pid: number): Promise<{ rssBytes: number; peakRssBytes: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssBytes: kb('VmRSS') * 1024, peakRssBytes: kb('VmHWM') * 1024 };
}

/** A real `kkt-agent run` with the emulator (another process) and a mock bridge polled every `pollIntervalMs`. */
export interface BridgedAgent {
  agent: AgentProcess;
  bridge: MockBridge;
  close(): Promise<void>;
}

export async function startBridgedAgent(options: {
  pollIntervalMs: number;
  nodeArgs?: string[];
}): Promise<BridgedAgent> {
  const emulator = await startEmulatorProcess();
  const bridge = await startMockBridge({ port: 0, timeZone: BENCH_TZ, bills: [] });
  const dir = await tempDir();
  const { configPath, socket } = await benchAgentConfig(dir.path, {
    emulatorPort: emulator.port,
    bridgeUrl: bridge.url,
    pollIntervalMs: options.pollIntervalMs,
  });
  const agent = await startAgentProcess(configPath, socket, { nodeArgs: options.nodeArgs });
  return {
    agent,
    bridge,
    async close() {
      await agent.stop();
      await bridge.close();
      await emulator.stop();
      await dir.remove();
    },
  };
}

/** The preload (`--import`) that writes an agent's heap after a forced full GC on SIGUSR2 (`heapProbe.ts`). */
export const HEAP_PROBE = pathToFileURL(join(import.meta.dirname, 'heapProbe.js')).href;

/** The preload (`--import`) that lists the modules an agent loaded (`test/support/moduleProbe.ts`). */
export const MODULE_PROBE = pathToFileURL(
  join(import.meta.dirname, '../../test/support/moduleProbe.js'),
).href;

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the heap probe writes after one forced full GC (`heapProbe.ts`). */
export interface HeapProbeReading {
  heapAfterGcBytes: number;
  /** `process.memoryUsage()` after that GC. */
  usage: NodeJS.MemoryUsage;
  /** `v8.getHeapSpaceStatistics()` after that GC. */
  spaces: HeapSpaceInfo[];
  /** `v8.getHeapCodeStatistics()` after that GC. */
  code: HeapCodeStatistics;
}

/**
 * Asks the heap probe preloaded into process `pid` (SIGUSR2) and reads what it writes to `heapFile` and
 * beside it. The probe writes `heapFile` last, so once it has text the files beside it are this GC's.
 */
export async function readHeapProbe(pid: number, heapFile: string): Promise<HeapProbeReading> {
  await rm(heapFile, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 200; i++) {
    await settle(50);
    const text = await readFile(heapFile, 'utf8').catch(() => '');
    if (text === '') continue;
    const { spaces, code } = JSON.parse(await readFile(`${heapFile}.spaces.json`, 'utf8')) as {
      spaces: HeapSpaceInfo[];
      code: HeapCodeStatistics;
    };
    const usage = JSON.parse(await readFile(`${heapFile}.usage.json`, 'utf8')) as NodeJS.MemoryUsage;
    return { heapAfterGcBytes: Number(text), usage, spaces, code };
  }
  throw new Error('bench: the heap probe did not answer');
}

/** A bench agent started until READY=1 with a probe preloaded, and the files that probe writes. */
export interface ProbedAgent {
  agent: ReadyAgent;
  bridge: MockBridge;
  /** The rig's directory: `config.json`, the data directory `data`, the probe's files; scratch room. */
  dir: string;
  /** Where the heap probe writes (`readHeapProbe`). */
  heapFile: string;
  /** Where the module probe writes, when the agent carries it (`probe: 'modules'`). */
  modulesFile: string;
}

export interface ProbedAgentOptions {
  nodeArgs: string[];
  env?: Record<string, string> | undefined;
  /**
   * The preload: the heap probe (default), or the module probe instead (its loader thread costs RSS, so
   * an agent read for memory does not carry it).
   */
  probe?: 'heap' | 'modules';
  /** Fills the data directory before the first start (an aged box); the agent then starts on it. */
  prepareDataDir?: (dataDir: string) => Promise<void>;
  /** How many times the agent is started on the same data directory, one after another (default 1). */
  starts?: number;
}

/**
 * Runs `work` on a real `kkt-agent run` (one ATOL register on TCP in another process, one bridge account
 * polled every second) started with `nodeArgs` and a probe, then stops all of it. With `starts` the agent
 * is started that many times on the same data directory, register and bridge, `work` running on each
 * start (`start` counts from 0) before the agent is stopped; it resolves what the last start's gave.
 */
export async function withProbedAgent<T>(
  options: ProbedAgentOptions,
  work: (rig: ProbedAgent, start: number) => Promise<T>,
): Promise<T> {
  const emulator = await startEmulatorProcess();
  const bridge = await startMockBridge({ port: 0, timeZone: BENCH_TZ, bills: [] });
  const dir = await tempDir();
  try {
    const { configPath } = await benchAgentConfig(dir.path, {
      emulatorPort: emulator.port,
      bridgeUrl: bridge.url,
      pollIntervalMs: 1000,
    });
    await options.prepareDataDir?.(join(dir.path, 'data'));
    const heapFile = join(dir.path, 'heap.txt');
    const modulesFile = join(dir.path, 'modules.txt');
    const probe: { url: string; env: Record<string, string> } =
      options.probe === 'modules'
        ? { url: MODULE_PROBE, env: { KKT_PROBE_MODULES_FILE: modulesFile } }
        : { url: HEAP_PROBE, env: { KKT_BENCH_HEAP_FILE: heapFile } };
    const starts = options.starts ?? 1;
    let result: T | undefined;
    for (let start = 0; start < starts; start++) {
      const agent = await spawnUntilReady({
        configPath,
        notifyDir: dir.path,
        nodeArgs: [...options.nodeArgs, '--import', probe.url],
        env: { ...probe.env, ...options.env },
      });
      try {
        result = await work({ agent, bridge, dir: dir.path, heapFile, modulesFile }, start);
      } finally {
        await agent.stop();
      }
    }
    return result as T;
  } finally {
    await dir.remove();
    await bridge.close();
    await emulator.stop();
  }
}
