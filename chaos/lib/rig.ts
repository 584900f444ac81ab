import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AtolEmulator,
  EMULATOR_EXTRA_TAX_BYTES,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import { type MockBridge, startMockBridge } from '../../src/emulators/bridge/index.js';
import { writeAgentConfig } from '../../test/support/agentProcess.js';
import { bridgeBills } from '../../test/support/bridgeBills.js';
import { type SocatPty, startSocatPty } from '../../test/support/socat.js';
import { Ledger, type Verdict } from './ledger.js';
import { AgentSupervisor } from './supervisor.js';

export const CHAOS_TZ = 'Europe/Moscow';

export interface ChaosRigOptions {
  /** Bills the bridge serves (none when bills come by MQTT). */
  bills: number;
  firstBillId?: number;
  /** How the agent reaches the register: TCP, or a socat PTY as a USB register appears. */
  link?: 'tcp' | 'pty';
  /** The register's work time per command; a little spreads a receipt out so kills land inside it. */
  latencyMs?: number;
  asyncLatencyMs?: number;
  outbox?: { initialBackoffMs: number; maxBackoffMs: number };
  pollIntervalMs?: number;
  /** Bills come by MQTT commands; no bridge account, reports are MQTT `event/receipt`. */
  mqtt?: { url: string; deviceId: string };
  env?: Record<string, string>;
  wrapper?: () => string[];
}

/**
 * One chaos scenario's world: the ATOL emulator and the mock bridge in this process (they outlive every
 * agent restart), the agent as a supervised `kkt-agent run` process, and the ledger that counts what the
 * register printed and the cloud received.
 */
export class ChaosRig {
  readonly ledger = new Ledger();
  pty: SocatPty | undefined;

  private constructor(
    readonly dir: string,
    readonly emulator: AtolEmulator,
    readonly bridge: MockBridge,
    readonly billIds: string[],
    readonly supervisor: AgentSupervisor,
    private readonly ptyName: string,
  ) {}

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  static async open(options: ChaosRigOptions): Promise<ChaosRig> {
    const dir = await mkdtemp(join(tmpdir(), 'kkt-chaos-'));
    const emulator = await startAtolEmulator({
      port: 0,
      persist: false,
      timeZone: CHAOS_TZ,
      latencyMs: options.latencyMs ?? 1,
      asyncLatencyMs: options.asyncLatencyMs ?? 5,
      zReportStepMs: 20,
      xReportMs: 20,
    });
    const bills = bridgeBills(options.bills, options.firstBillId);
    const bridge = await startMockBridge({ port: 0, timeZone: CHAOS_TZ, bills });
    const socket = join(dir, 'control.sock');
    const ptyName = 'ttyKKT';
    let pty: SocatPty | undefined;
    if (options.link === 'pty') pty = await startSocatPty({ port: emulator.port, dir, name: ptyName });
    const configPath = await writeAgentConfig(dir, {
      dataDir: join(dir, 'data'),
      timeZone: CHAOS_TZ,
      log: { level: 'warn' },
      control: { socketPath: socket },
      devices: [
        {
          id: 'kkt',
          kind: 'atol',
          link: pty
            ? { type: 'serial', path: pty.path }
            : { type: 'tcp', host: '127.0.0.1', port: emulator.port },
          operator: { name: 'Кассир' },
          reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
          taxBytes: EMULATOR_EXTRA_TAX_BYTES,
        },
      ],
      fiscalizer: { retryDelayMs: 100, maxRetryDelayMs: 1000 },
      outbox: options.outbox ?? { initialBackoffMs: 50, maxBackoffMs: 300 },
      ...(options.mqtt
        ? {
            mqtt: {
              url: options.mqtt.url,
              deviceId: options.mqtt.deviceId,
              protocol: '3.1.1',
              reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
              connectTimeoutMs: 2000,
              publishTimeoutMs: 2000,
            },
          }
        : {}),
      connectors: {
        bridge: options.mqtt
          ? []
          : [
              {
                id: '120',
                baseUrl: bridge.url,
                timeoutMs: 2000,
                retries: 1,
                retryDelayMs: 50,
                // A bill caught by an outage between LIST and BILL waits on its own backoff, at chaos pace.
                billRetry: { firstDelayMs: 500, maxDelayMs: 5_000 },
                autoFiscalize: { enabled: true, intervalMs: options.pollIntervalMs ?? 200 },
              },
            ],
      },
    });
    const supervisor = new AgentSupervisor({
      configPath,
      socket,
      env: options.env,
      wrapper: options.wrapper,
      restartDelayMs: 200,
    });
    const rig = new ChaosRig(
      dir,
      emulator,
      bridge,
      bills.map((bill) => String(bill['id'])),
      supervisor,
      ptyName,
    );
    rig.pty = pty;
    rig.ledger.attachEmulator(emulator);
    rig.ledger.attachBridge(bridge);
    return rig;
  }

  /** Tears the PTY down: the USB cable pulled. */
  async unplug(): Promise<void> {
    const pty = this.pty;
    this.pty = undefined;
    await pty?.stop();
  }

  /** A new PTY at the same path: the cable plugged back in. */
  async replug(): Promise<void> {
    if (this.pty) return;
    this.pty = await startSocatPty({ port: this.emulator.port, dir: this.dir, name: this.ptyName });
  }

  /** Waits until every bill is printed and reported, then a quiet second for late duplicates. */
  async settle(timeoutMs: number, billIds: readonly string[] = this.billIds): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ledger.settled(billIds)) {
      if (Date.now() > deadline) return false;
      if (!this.supervisor.running) this.supervisor.start();
      await sleep(100);
    }
    await sleep(1000);
    return true;
  }

  /** Resolves once the register has printed `count` receipts of the scenario's bills (false on timeout). */
  async untilPrinted(count: number, timeoutMs = 120_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.ledger.totalPrinted < count) {
      if (Date.now() > deadline) return false;
      await sleep(10);
    }
    return true;
  }

  verdict(billIds: readonly string[] = this.billIds): Verdict {
    return this.ledger.verdict(billIds);
  }

  /** The agent's own job counts, for the notes when something is missing (BLOCKED jobs…). */
  async jobStates(): Promise<string> {
    try {
      const status = (await this.supervisor.call('status')) as { jobs: Record<string, number> };
      return Object.entries(status.jobs)
        .filter(([, count]) => count > 0)
        .map(([state, count]) => `${state} ${count}`)
        .join(', ');
    } catch (error) {
      return `status unavailable: ${(error as Error).message}`;
    }
  }

  /**
   * For a row's notes: nothing when the rig settled, else what the agent's jobs were stuck in. The agent's
   * output (warn and above) is kept in a file the note names, and its tail goes to stderr, so a failure
   * seen once in CI can be read afterwards.
   */
  async unsettledNote(settled: boolean): Promise<string> {
    if (settled) return '';
    const states = await this.jobStates();
    const output = this.supervisor.output();
    const outputPath = join(tmpdir(), `kkt-chaos-unsettled-${process.pid}-${Date.now()}.log`);
    await writeFile(outputPath, output);
    process.stderr.write(
      `chaos: not settled (${states}); the agent's last output:\n${output.slice(-6000)}\n`,
    );
    return `; not settled: ${states} (agent output: ${outputPath})`;
  }

  async close(): Promise<void> {
    await this.supervisor.stop().catch(() => undefined);
    await this.pty?.stop().catch(() => undefined);
    await this.bridge.close();
    await this.emulator.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
