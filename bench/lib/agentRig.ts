import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { Agent } from '../../src/agent/agent.js';
import type { Connector } from '../../src/agent/connectors/types.js';
import { AtolDevice } from '../../src/agent/devices/atol/atolDevice.js';
import type { FiscalData, Job, JobState } from '../../src/agent/jobs/job.js';
import type { ReportSink } from '../../src/agent/outbox/sink.js';
import { TcpLink } from '../../src/drivers/atol/transport/tcpLink.js';
import { EMULATOR_EXTRA_TAX_BYTES } from '../../src/emulators/atol/index.js';

export const BENCH_TZ = 'Europe/Moscow';

export async function tempDir(prefix = 'kkt-bench-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Notes when the driver writes its first byte after being armed: "first byte to the register". */
export class FirstByteProbe {
  private armedAt: number | undefined;
  private waiter: ((at: number) => void) | undefined;

  /** Arms the probe; resolves with the time (performance.now) of the next write to the register. */
  arm(): Promise<number> {
    this.armedAt = performance.now();
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  written(): void {
    if (this.armedAt === undefined) return;
    this.armedAt = undefined;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(performance.now());
  }
}

class ProbedTcpLink extends TcpLink {
  constructor(
    port: number,
    private readonly probe: FirstByteProbe | undefined,
  ) {
    super({ host: '127.0.0.1', port });
  }

  override write(data: Buffer): Promise<void> {
    this.probe?.written();
    return super.write(data);
  }
}

/** An ATOL device that adds up the time spent inside the register's calls (preparePrint + print). */
export class TimedAtolDevice extends AtolDevice {
  deviceMs = 0;

  override async preparePrint(job: Job): ReturnType<AtolDevice['preparePrint']> {
    const started = performance.now();
    try {
      return await super.preparePrint(job);
    } finally {
      this.deviceMs += performance.now() - started;
    }
  }

  override async print(job: Job): Promise<FiscalData> {
    const started = performance.now();
    try {
      return await super.print(job);
    } finally {
      this.deviceMs += performance.now() - started;
    }
  }
}

/** Times at which jobs reached their states (performance.now, after the journal write). */
export class JobWatcher {
  private readonly reachedAt = new Map<string, Map<JobState, number>>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly counts = new Map<JobState, number>();
  private readonly countWaiters = new Set<() => void>();

  constructor(agent: Agent) {
    agent.jobs.on('changed', (job) => {
      let states = this.reachedAt.get(job.id);
      if (!states) {
        states = new Map();
        this.reachedAt.set(job.id, states);
      }
      if (!states.has(job.state)) {
        states.set(job.state, performance.now());
        this.counts.set(job.state, (this.counts.get(job.state) ?? 0) + 1);
      }
      const key = `${job.id}:${job.state}`;
      for (const wake of this.waiters.get(key) ?? []) wake();
      this.waiters.delete(key);
      for (const check of [...this.countWaiters]) check();
    });
  }

  /** How many jobs have reached `state` since the watcher started. */
  count(state: JobState): number {
    return this.counts.get(state) ?? 0;
  }

  /** Resolves once `count` jobs have reached `state`. */
  async counted(state: JobState, count: number, timeoutMs = 60_000): Promise<void> {
    if (this.count(state) >= count) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.countWaiters.delete(check);
        reject(new Error(`bench: ${this.count(state)} of ${count} jobs reached ${state} in ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        if (this.count(state) < count) return;
        clearTimeout(timer);
        this.countWaiters.delete(check);
        resolve();
      };
      this.countWaiters.add(check);
    });
  }

  at(jobId: string, state: JobState): number | undefined {
    return this.reachedAt.get(jobId)?.get(state);
  }

  async reached(jobId: string, state: JobState, timeoutMs = 60_000): Promise<number> {
    const known = this.at(jobId, state);
    if (known !== undefined) return known;
    const key = `${jobId}:${state}`;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`bench: job ${jobId} did not reach ${state} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      const list = this.waiters.get(key) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.waiters.set(key, list);
    });
    return this.at(jobId, state)!;
  }
}

export interface BenchAgentOptions {
  emulatorPort: number;
  dataDir: string;
  /** Default true: production durability. */
  fsync?: boolean;
  sinks?: ReportSink[];
  connectors?: Connector[];
  probe?: FirstByteProbe;
}

export interface BenchAgent {
  agent: Agent;
  device: TimedAtolDevice;
  watcher: JobWatcher;
  stop(): Promise<void>;
}

/** The agent core in this process: journals, intake, fiscalizer and outbox, with an ATOL device on TCP. */
export async function openBenchAgent(options: BenchAgentOptions): Promise<BenchAgent> {
  // BENCH_LOG=info shows why a bench's job did not finish.
  const logger = pino({ level: process.env.BENCH_LOG ?? 'silent' });
  const device = new TimedAtolDevice({
    id: 'kkt',
    link: () => new ProbedTcpLink(options.emulatorPort, options.probe),
    timeZone: BENCH_TZ,
    receiptDefaults: { operator: { name: 'Кассир' } },
    // The 2026 sample bills carry 22 %, for which only the emulator's stand-in bytes are known.
    taxBytes: EMULATOR_EXTRA_TAX_BYTES,
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    logger,
  });
  const agent = await Agent.open({
    dataDir: options.dataDir,
    logger,
    devices: [device],
    connectors: options.connectors ?? [],
    sinks: options.sinks,
    router: () => device.id,
    fiscalizer: { retryDelayMs: 50, maxRetryDelayMs: 500 },
    outbox: { initialBackoffMs: 20, maxBackoffMs: 200 },
    fsync: options.fsync ?? true,
  });
  const watcher = new JobWatcher(agent);
  await agent.start();
  if (!device.ready) await new Promise<void>((resolve) => device.once('ready', () => resolve()));
  return { agent, device, watcher, stop: () => agent.stop() };
}
