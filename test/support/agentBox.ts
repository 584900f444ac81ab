import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import {
  type AtolEmulator,
  type AtolEmulatorOptions,
  EMULATOR_EXTRA_TAX_BYTES,
  type JournalEntry,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import {
  type MockBridge,
  type MockBridgeOptions,
  startMockBridge,
} from '../../src/emulators/bridge/index.js';
import {
  type AgentProcess,
  type StartAgentOptions,
  startAgentProcess,
  writeAgentConfigInDir,
} from './agentProcess.js';
import { SHOP_TZ } from './shopConfig.js';

/**
 * What one end-to-end test runs: a fresh temporary directory, the things it starts around the daemon (the
 * register's emulator, a mock cloud, a proxy) and the daemon itself (agentProcess.ts). After each test the
 * daemons it started are stopped first (the last first), then the rest in the reverse order of their
 * start, then the directory removed. With `lifetime: 'file'` the box is the whole file's instead.
 */
export interface AgentBox {
  /** This test's directory: `config.json`, the data directory `data`, the control socket `control.sock`. */
  readonly dir: string;
  /** The daemon started last in this test (each start replaces the one before: a restart). */
  readonly agent: AgentProcess;
  readonly socket: string;
  /** Writes `dir/config.json` as startAgentInDir does and returns its path. */
  writeConfig(config: Record<string, unknown>): Promise<string>;
  /** Starts `kkt-agent run` on `config`, or on the config written before, and waits until it answers. */
  startAgent(config?: Record<string, unknown>, options?: StartAgentOptions): Promise<AgentProcess>;
  /** Closes `thing` after the test, once the daemon is down. */
  own<T extends { close(): Promise<unknown> }>(thing: T): T;
  /** The ATOL emulator on TCP, in memory, in the shop's zone, with quick answers and reports. */
  startRegister(options?: Partial<AtolEmulatorOptions>): Promise<AtolEmulator>;
  /** The mock CRM bridge on loopback, in the shop's zone. */
  startBridge(options?: MockBridgeOptions): Promise<MockBridge>;
}

/**
 * Registers the box with this file's `beforeEach`/`afterEach`, or with `lifetime: 'file'` its `beforeAll`/
 * `afterAll` (tests that go on from where the one before left the daemon). `teardown: 'kill'` ends the
 * daemons with SIGKILL rather than waiting for their clean stop (a test that leaves a cloud hanging, or
 * one that kills and restarts the daemon itself).
 */
export function useAgentBox(
  prefix: string,
  options: { teardown?: 'stop' | 'kill'; lifetime?: 'test' | 'file' } = {},
): AgentBox {
  let dir: string | undefined;
  let agents: AgentProcess[] = [];
  let closers: Array<() => Promise<unknown>> = [];
  const [setUp, tearDown] = options.lifetime === 'file' ? [beforeAll, afterAll] : [beforeEach, afterEach];

  setUp(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  tearDown(async () => {
    for (const agent of agents.reverse()) await (options.teardown === 'kill' ? agent.kill() : agent.stop());
    agents = [];
    for (const close of closers.reverse()) await close();
    closers = [];
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  const inTest = (): string => {
    if (!dir) throw new Error('the agent box is used outside a test');
    return dir;
  };
  const box: AgentBox = {
    get dir() {
      return inTest();
    },
    get agent() {
      const agent = agents.at(-1);
      if (!agent) throw new Error('no agent was started in this test');
      return agent;
    },
    get socket() {
      return join(inTest(), 'control.sock');
    },
    writeConfig: (config) => writeAgentConfigInDir(inTest(), config),
    startAgent: async (config, startOptions) => {
      const path = config ? await box.writeConfig(config) : join(inTest(), 'config.json');
      const agent = await startAgentProcess(path, box.socket, startOptions);
      agents.push(agent);
      return agent;
    },
    own: (thing) => {
      closers.push(() => thing.close());
      return thing;
    },
    startRegister: async (registerOptions) =>
      box.own(
        await startAtolEmulator({
          port: 0,
          persist: false,
          timeZone: SHOP_TZ,
          asyncLatencyMs: 5,
          zReportStepMs: 50,
          xReportMs: 50,
          ...registerOptions,
        }),
      ),
    startBridge: async (bridgeOptions) =>
      box.own(await startMockBridge({ port: 0, timeZone: SHOP_TZ, ...bridgeOptions })),
  };
  return box;
}

/** The config of a device `kkt` on `emulator`'s TCP port: the binary protocol, the emulator's tax bytes. */
export function atolOnEmulator(emulator: AtolEmulator): Record<string, unknown> {
  return {
    id: 'kkt',
    kind: 'atol',
    link: { type: 'tcp', host: '127.0.0.1', port: emulator.port },
    operator: { name: 'Кассир' },
    taxBytes: EMULATOR_EXTRA_TAX_BYTES,
  };
}

/** The receipts `emulator` makes from now on, in order. */
export function receiptsOf(emulator: AtolEmulator): JournalEntry[] {
  const receipts: JournalEntry[] = [];
  emulator.on('document', (entry) => {
    if (entry.kind === 'receipt') receipts.push(entry);
  });
  return receipts;
}
