import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EMULATOR_EXTRA_TAX_BYTES } from '../../src/emulators/atol/index.js';
import { type MockBridge, startMockBridge } from '../../src/emulators/bridge/index.js';
import { type AgentProcess, startAgentProcess, writeAgentConfig } from '../../test/support/agentProcess.js';
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
    devices: [
      {
        id: 'kkt',
        kind: 'atol',
        link: { type: 'tcp', host: '127.0.0.1', port: options.emulatorPort },
        operator: { name: 'Кассир' },
        taxBytes: EMULATOR_EXTRA_TAX_BYTES,
      },
    ],
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

/** A bench agent started until READY=1 with the heap probe preloaded, and the file the probe writes. */
export interface ProbedAgent {
  agent: ReadyAgent;
  bridge: MockBridge;
  heapFile: string;
}

/**
 * Runs `work` on a real `kkt-agent run` (one ATOL register on TCP in another process, one bridge account
 * polled every second) started with `nodeArgs` and the heap probe, then stops all of it.
 */
export async function withProbedAgent<T>(
  options: { nodeArgs: string[]; env?: Record<string, string> | undefined },
  work: (rig: ProbedAgent) => Promise<T>,
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
    const heapFile = join(dir.path, 'heap.txt');
    const agent = await spawnUntilReady({
      configPath,
      notifyDir: dir.path,
      nodeArgs: [...options.nodeArgs, '--import', HEAP_PROBE],
      env: { KKT_BENCH_HEAP_FILE: heapFile, ...options.env },
    });
    try {
      return await work({ agent, bridge, heapFile });
    } finally {
      await agent.stop();
    }
  } finally {
    await dir.remove();
    await bridge.close();
    await emulator.stop();
  }
}
