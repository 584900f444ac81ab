import { mkdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { StorageWriteError } from '../lib/durableFile.js';
import { type CodesIn, KktAgentError } from '../lib/errors.js';
import type { Connector, ConnectorStore } from './connectors/types.js';
import {
  type DeviceSnapshot,
  type FiscalDevice,
  LOCAL_MODULE_FAULT_CODES,
  MARKING_OISM_UNAVAILABLE,
  type ReceiptSearch,
} from './devices/device.js';
import type { DoctorReport } from './devices/doctorReport.js';
import { Doctor } from './doctor/doctor.js';
import type { ReceiptKind } from './domain/receiptKind.js';
import { FISCALIZER_DEFAULTS, Fiscalizer, type FiscalizerConfig } from './fiscalizer.js';
import {
  type IntakeConfig,
  JOURNAL_DEFAULTS,
  type JournalConfig,
  type RecoveryConfig,
} from './jobs/config.js';
import { type DeviceRouter, Intake } from './jobs/intake.js';
import type { FiscalData, Job, JobState } from './jobs/job.js';
import { JobStore } from './jobs/jobStore.js';
import { JobLinks, type LinkKind } from './jobs/links.js';
import { type DeviceRecoveryProgress, Recovery, type RecoveryStatus } from './jobs/recovery.js';
import { importJournals } from './journalImport.js';
import { DAY_MS, OUTBOX_DEFAULTS, type OutboxConfig } from './outbox/config.js';
import { Outbox, type SinkStats } from './outbox/outbox.js';
import type { AgentEvent, OutboxEntry, ReportSink } from './outbox/sink.js';
import { AgentDatabase, type DatabaseStats, type StorageFigures } from './store/database.js';
import { FailingBillTable } from './store/failingBillTable.js';
import { openDurableDb } from './store/lowdbAdapter.js';
import type { DataDirGoneError } from './store/storeErrors.js';

/** What needs a person in the agent itself (the devices' alerts come from the periodic checks). */
export interface AgentAlert {
  code:
    | 'RECEIPTS_UNREPORTED'
    | 'JOURNAL_WRITES_FAILING'
    | 'BILLS_FAILING'
    | 'DATA_DIR_GONE'
    | 'MARKING_OISM_UNAVAILABLE'
    | 'MARKING_LM_UNAVAILABLE'
    | 'REGISTER_CHANGED';
  message: string;
  since: string;
  /** The connector whose bills fail (BILLS_FAILING). */
  connector?: string;
  /** The device another register answers for (REGISTER_CHANGED). */
  device?: string;
}

/** The database file in the data directory (docs/storage.md). */
export const DATABASE_FILE = 'agent.db';

export interface AgentParts {
  dataDir: string;
  logger: Logger;
  /** Loggers per module at their configured levels; defaults to children of `logger`. */
  loggerFor?: (module: string, bindings?: Record<string, unknown>) => Logger;
  devices: FiscalDevice[];
  connectors: Connector[];
  /** Sinks that are not connectors (MQTT events, test sinks). */
  sinks?: ReportSink[];
  router: DeviceRouter;
  /** The config's sections; what is left out takes the schema's defaults. */
  fiscalizer?: Partial<FiscalizerConfig>;
  outbox?: Partial<OutboxConfig>;
  journal?: Partial<JournalConfig>;
  /** The intake section, with the zone "today" is read in (late corrections). */
  intake?: Partial<IntakeConfig> & { timeZone?: string };
  recovery?: Partial<RecoveryConfig>;
  /** Turn fsync off: benchmarks of the agent's own overhead only. */
  fsync?: boolean;
}

/** The process's memory, for `status` and the state document (a fleet watches boxes age). */
export interface MemoryFigures {
  rssBytes: number;
  heapUsedBytes: number;
}

export class AgentError extends KktAgentError {}

const HOUR_MS = 3_600_000;

/** How many of the latest FAILED jobs `status` lists (and the marking alert looks at). */
const RECENT_FAILURES = 10;
/** The codes of the core's own errors, with what each means (docs/errors.md is made from this list). */
export const AGENT_ERROR_CODES = {
  DEVICE_UNKNOWN:
    'No device with the id given is configured (or none at all). Check `devices` in the config.',
  JOB_NOT_BLOCKED: 'Only a BLOCKED job can be resolved by a person; this one is in another state.',
  JOB_RECEIPT_FOUND:
    'A person said "not printed", but the register holds a receipt with this job\'s marker (the FD is named): resolve it as printed.',
  JOB_RECEIPT_UNCHECKED:
    'A person said "not printed", but the register could not be searched for the job\'s receipt. Reconnect it and try again, or add --force after checking the register\'s receipts by hand.',
  RESOLVE_FORCED:
    'A warning: a job was resolved as not printed with --force, without the register confirming it; it prints again.',
} as const;

declare module '../lib/errors.js' {
  interface ErrorCodeRegistry {
    agent: CodesIn<typeof AGENT_ERROR_CODES>;
  }
}

export interface AgentStatus {
  startedAt: string;
  devices: DeviceSnapshot[];
  jobs: Record<JobState, number>;
  /** Jobs per receipt kind, and links between jobs per kind (returns, corrections, order ledgers). */
  kinds: Partial<Record<ReceiptKind, number>>;
  links: Record<LinkKind, number>;
  blocked: Array<Pick<Job, 'id' | 'key' | 'deviceId' | 'updatedAt'> & { reason: string }>;
  /** The latest failed jobs and why (a refused marking code, a bill the source must correct…). */
  failed: Array<Pick<Job, 'id' | 'key' | 'deviceId' | 'updatedAt'> & { code: string; reason: string }>;
  outbox: Record<string, SinkStats>;
  connectors: ReturnType<Connector['status']>[];
  storage: StorageFigures;
  memory: MemoryFigures;
  /** Where the store came from and what reading the registers back found (docs/fiscalization.md). */
  recovery: RecoveryStatus;
}

type StoreDoc = Record<string, Record<string, unknown>>;

/**
 * The composition of the agent's core: journals, intake, one fiscalizer per device, the outbox and the
 * connectors. Events flow one way: job changes are published to the outbox; deliveries mark jobs REPORTED.
 */
export class Agent {
  readonly startedAt = new Date().toISOString();
  readonly intake: Intake;
  /** Links between jobs (returns, corrections, order ledgers): `jobs show` and the state document read them. */
  readonly links: JobLinks;
  private readonly fiscalizers = new Map<string, Fiscalizer>();
  private readonly devices = new Map<string, FiscalDevice>();
  private started = false;
  /** Connectors started so far (they wait for a rebuild from the registers). */
  private readonly startedConnectors: Connector[] = [];
  private connectorsStarting: Promise<void> | undefined;
  private cancelConnectorStart: (() => void) | undefined;
  private recoveryTimer: NodeJS.Timeout | undefined;
  private dataDirTimer: NodeJS.Timeout | undefined;
  private dataDirGoneAt: string | undefined;
  private recovering: Promise<void> | undefined;
  /** Shift events whose publish failed: retried with the next recovery (they are not in the job journal). */
  private readonly unpublishedShifts: AgentEvent[] = [];

  private constructor(
    private readonly parts: AgentParts,
    private readonly db: AgentDatabase,
    readonly jobs: JobStore,
    readonly outbox: Outbox,
    private readonly connectorState: Awaited<ReturnType<typeof openDurableDb<StoreDoc>>>,
    /** The self-test and its last report per device (`kkt-agent doctor`). */
    readonly doctor: Doctor,
    readonly recovery: Recovery,
  ) {
    for (const device of parts.devices) this.devices.set(device.id, device);
    const doctorAdmission = doctor.admission(this.devices);
    // The device's own limits first (marked goods where it cannot sell them), then its last self-test.
    this.intake = new Intake(
      jobs,
      parts.router,
      this.loggerFor('intake'),
      (deviceId, bill) => this.devices.get(deviceId)?.admit(bill) ?? doctorAdmission(deviceId, bill),
      parts.intake,
    );
    this.links = new JobLinks(db);
    recovery.register(parts.devices.map((device) => device.id));
    for (const device of parts.devices) {
      const fiscalizer = new Fiscalizer(
        device,
        jobs,
        this.loggerFor('fiscalizer', { device: device.id }),
        this.fiscalizerConfig,
        undefined,
        recovery,
      );
      this.fiscalizers.set(device.id, fiscalizer);
      device.on('shift', ({ type, shift }) => {
        void this.publish({
          type: type === 'opened' ? 'shift.opened' : 'shift.closed',
          deviceId: device.id,
          shift,
        });
      });
    }
    this.intake.on('queued', (job) => this.fiscalizers.get(job.deviceId)?.wake());
    // A job's reports commit with the job change that creates them; a delivery that completes a job's
    // reports commits with its REPORTED state (docs/storage.md, "Transactions").
    jobs.onWrite((job, previous) => {
      if (job.state === previous) return;
      // What the register is known to hold moves its watermark in the same commit.
      recovery.noteWithin(job);
      if (job.state === 'FISCALIZED') outbox.draftWithin({ type: 'job.fiscalized', job });
      else if (job.state === 'FAILED') outbox.draftWithin({ type: 'job.failed', job });
    });
    outbox.onDelivered((entry) => this.reportWithin(entry));
    jobs.on('changed', (job, previous) => this.onJobChanged(job, previous));
    for (const sink of [
      ...parts.connectors.flatMap((c) => (c.sink ? [c.sink] : [])),
      ...(parts.sinks ?? []),
    ]) {
      outbox.addSink(sink);
    }
  }

  /**
   * Opens the database (importing the JSONL journals of an older agent on first start), loads the
   * unfinished jobs, and composes the core. Nothing here reads finished history.
   */
  static async open(parts: AgentParts): Promise<Agent> {
    await mkdir(parts.dataDir, { recursive: true, mode: 0o750 });
    const db = AgentDatabase.open(join(parts.dataDir, DATABASE_FILE), { fsync: parts.fsync });
    try {
      await importJournals(
        db,
        parts.dataDir,
        parts.loggerFor?.('store') ?? parts.logger.child({ module: 'store' }),
      );
      const jobs = new JobStore(db);
      const outbox = new Outbox(
        db,
        parts.loggerFor?.('outbox') ?? parts.logger.child({ module: 'outbox' }),
        parts.outbox,
      );
      const connectorState = await openDurableDb<StoreDoc>(join(parts.dataDir, 'connectors.json'), {});
      const doctor = await Doctor.open(
        parts.dataDir,
        parts.loggerFor?.('doctor') ?? parts.logger.child({ module: 'doctor' }),
      );
      const recovery = new Recovery(
        db,
        parts.loggerFor?.('recovery') ?? parts.logger.child({ module: 'recovery' }),
        parts.recovery,
      );
      return new Agent(parts, db, jobs, outbox, connectorState, doctor, recovery);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /**
   * The data directory or the database file was deleted or replaced while running (found before a write
   * or by the periodic check): the daemon stops and exits (docs/storage.md).
   */
  onDataDirGone(listener: (error: DataDirGoneError) => void): void {
    this.db.onDataDirGone(listener);
  }

  /**
   * After the data directory was found gone: saves what the agent's open database holds as
   * `<dataDir>/agent.db.rescued-<time>` (the directory made again if needed). Returns the path, or
   * undefined when it could not be written.
   */
  rescueDatabase(at: Date): string | undefined {
    const path = join(
      this.parts.dataDir,
      `${DATABASE_FILE}.rescued-${at.toISOString().replace(/[:.]/g, '-')}`,
    );
    try {
      mkdirSync(this.parts.dataDir, { recursive: true, mode: 0o750 });
      this.db.copyTo(path);
      return path;
    } catch (error) {
      this.parts.logger.error({ event: 'store.rescue-failed', path, reason: (error as Error).message });
      return undefined;
    }
  }

  /** Commits and fsyncs of the store (benchmarks count them). */
  get storeStats(): DatabaseStats {
    return this.db.stats;
  }

  /** The fiscalizer section with the schema's defaults for what the parts leave out. */
  get fiscalizerConfig(): FiscalizerConfig {
    return { ...FISCALIZER_DEFAULTS, ...this.parts.fiscalizer };
  }

  get logger(): Logger {
    return this.parts.logger;
  }

  loggerFor(module: string, bindings: Record<string, unknown> = {}): Logger {
    return this.parts.loggerFor?.(module, bindings) ?? this.parts.logger.child({ module, ...bindings });
  }

  device(id: string): FiscalDevice {
    const device = this.devices.get(id);
    if (!device) throw new AgentError('DEVICE_UNKNOWN', `No device "${id}" is configured.`, { device: id });
    return device;
  }

  get deviceList(): FiscalDevice[] {
    return [...this.devices.values()];
  }

  connector(name: string): Connector | undefined {
    return this.parts.connectors.find((c) => c.name === name);
  }

  get connectors(): readonly Connector[] {
    return this.parts.connectors;
  }

  /** Jobs being printed right now (the restart lock waits for them). */
  get printingJobs(): string[] {
    return [...this.fiscalizers.values()].flatMap((f) => (f.currentJob ? [f.currentJob] : []));
  }

  storeFor(connector: string): ConnectorStore {
    const db = this.connectorState;
    return {
      get: <T>(key: string) => db.data[connector]?.[key] as T | undefined,
      set: async (key: string, value: unknown) => {
        await db.update((data) => {
          data[connector] = { ...data[connector], [key]: value };
        });
      },
    };
  }

  /**
   * Starts the core. Connectors come first (their sinks may need state loaded at start, ids, before they
   * can draft), except on a store being rebuilt from the registers: then they start once every register
   * has been read back, so no bill is taken before the agent knows what was printed (docs/fiscalization.md,
   * "Rebuilding from the register"). `start` returns without waiting for that; `status` shows its progress.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const rebuilding = this.recovery.rebuilding;
    if (rebuilding) {
      this.parts.logger.warn({
        event: 'agent.rebuilding',
        origin: this.recovery.storeOrigin.origin,
        devices: this.devices.size,
        reason: 'the store is new or was declared lost: the registers are read back before any bill is taken',
      });
    } else {
      await this.startConnectors();
    }
    await this.recoverDrafts();
    this.recoveryTimer = setInterval(() => void this.recoverDrafts(), 60_000);
    this.recoveryTimer.unref();
    this.db.onDataDirGone((error) => {
      this.dataDirGoneAt ??= new Date().toISOString();
      this.parts.logger.error({ event: 'store.data-dir-gone', code: error.code, reason: error.message });
    });
    // Writes check before they commit; this finds it on a quiet box too.
    const { dataDirCheckMs } = { ...JOURNAL_DEFAULTS, ...this.parts.journal };
    this.dataDirTimer = setInterval(() => this.db.checkDataDir(), dataDirCheckMs);
    this.dataDirTimer.unref();
    this.outbox.start();
    await Promise.all(this.deviceList.map((device) => device.start()));
    for (const fiscalizer of this.fiscalizers.values()) fiscalizer.start();
    if (rebuilding) {
      const cancelled = new Promise<boolean>((resolve) => {
        this.cancelConnectorStart = () => resolve(true);
      });
      this.connectorsStarting = Promise.race([this.recovery.whenRebuilt().then(() => false), cancelled]).then(
        async (stopped) => {
          if (stopped || !this.started) return;
          await this.startConnectors();
        },
      );
      this.connectorsStarting.catch((error: unknown) => {
        this.parts.logger.error({ event: 'agent.connectors-failed', reason: (error as Error).message });
      });
    }
    this.parts.logger.info({
      event: 'agent.started',
      devices: this.devices.size,
      connectors: this.parts.connectors.length,
      rebuilding,
    });
  }

  /**
   * Resolves once the connectors run: at once after `start` on a trusted store, after the read-back from
   * the registers on a new or lost one (callers that poll right after starting wait for it).
   */
  async serving(): Promise<void> {
    await this.connectorsStarting;
  }

  /**
   * A technician's confirmation of a device after a lost store or a register change (`kkt-agent recover
   * --confirm`); its fiscalizer looks again at once.
   */
  confirmDevice(deviceId: string, by: string): DeviceRecoveryProgress {
    const progress = this.recovery.confirm(deviceId, by);
    this.fiscalizers.get(deviceId)?.wake();
    return progress;
  }

  private async startConnectors(): Promise<void> {
    const rebuiltSince = this.recovery.horizon()?.coveredSince;
    FailingBillTable.keepConnectors(
      this.db,
      this.parts.connectors.map((connector) => connector.name),
    );
    for (const connector of this.parts.connectors) {
      await connector.start({
        intake: this.intake,
        store: this.storeFor(connector.name),
        failingBills: new FailingBillTable(this.db, connector.name),
        logger: this.loggerFor('connector', { connector: connector.name }),
        devices: () => Promise.all(this.deviceList.map((device) => device.snapshot())),
        ...(rebuiltSince !== undefined ? { rebuiltSince } : {}),
        registerSerial: (route) => this.registerSerial(route),
      });
      this.startedConnectors.push(connector);
    }
  }

  /** The serial number of the register a route leads to, as the register reports it (undefined offline). */
  private async registerSerial(route: { source: string; account: string; currency: string }) {
    const device = this.devices.get(this.parts.router(route));
    if (!device) return undefined;
    return (await device.snapshot()).serial;
  }

  /**
   * Stops taking work, waits (bounded) for receipts being printed so none is cut in half, then closes
   * everything. A print still running after the bound is left to the journal: the next start reconciles it.
   */
  async stop(): Promise<void> {
    if (!this.started) {
      await this.close();
      return;
    }
    this.started = false;
    clearInterval(this.recoveryTimer);
    clearInterval(this.dataDirTimer);
    this.cancelConnectorStart?.();
    await this.connectorsStarting?.catch(() => undefined);
    for (const connector of this.startedConnectors.splice(0)) await connector.stop().catch(() => undefined);
    const timeoutMs = this.fiscalizerConfig.stopTimeoutMs;
    const printing = this.printingJobs;
    if (printing.length > 0)
      this.parts.logger.info({ event: 'agent.waiting-for-print', jobs: printing, timeoutMs });
    const stopped = Promise.all([...this.fiscalizers.values()].map((f) => f.stop()));
    const timedOut = await Promise.race([
      stopped.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), timeoutMs).unref()),
    ]);
    if (timedOut) this.parts.logger.error({ event: 'agent.stop-timeout', jobs: this.printingJobs });
    await this.outbox.stop();
    await Promise.all(this.deviceList.map((device) => device.stop().catch(() => undefined)));
    await this.close();
    this.parts.logger.info({ event: 'agent.stopped' });
  }

  private async close(): Promise<void> {
    await this.outbox.stop().catch(() => undefined);
    try {
      this.db.close();
    } catch (error) {
      this.parts.logger.error({ event: 'store.close-failed', reason: (error as Error).message });
    }
  }

  /** After the commit: a job whose reports no sink wanted is REPORTED at once. */
  private onJobChanged(job: Job, previous: JobState | undefined): void {
    if (job.state === previous || job.state !== 'FISCALIZED') return;
    const event: AgentEvent = { type: 'job.fiscalized', job };
    if (this.outbox.published(event) && this.outbox.allDelivered(job.id))
      void this.markReportedIfDone(job.id);
  }

  /** Inside the transaction that marks `entry` delivered: REPORTED once all of the job's reports are. */
  private reportWithin(entry: OutboxEntry): void {
    if (entry.jobId === undefined) return;
    const job = this.jobs.get(entry.jobId);
    if (job?.state !== 'FISCALIZED' || !this.outbox.allDelivered(entry.jobId)) return;
    try {
      this.jobs.transitionNow(entry.jobId, 'REPORTED');
    } catch (error) {
      // A failed write fails the delivery's transaction too (it is retried); anything else is logged.
      if (error instanceof StorageWriteError) throw error;
      this.parts.logger.error({
        event: 'job.report-mark-failed',
        job: entry.jobId,
        reason: (error as Error).message,
      });
    }
  }

  private async publish(event: AgentEvent): Promise<void> {
    try {
      const entries = await this.outbox.publish(event);
      if (event.type === 'job.fiscalized' && entries.length === 0)
        await this.markReportedIfDone(event.job.id);
      // A sink that could not draft it yet: a shift event lives only here, so keep it for the next recovery.
      const isShift = event.type === 'shift.opened' || event.type === 'shift.closed';
      if (isShift && !this.outbox.published(event)) this.unpublishedShifts.push(event);
    } catch (error) {
      // Nothing was journaled. Jobs are found again by recovery; a shift event only lives here, so keep it.
      if (event.type === 'shift.opened' || event.type === 'shift.closed') this.unpublishedShifts.push(event);
      this.parts.logger.error({
        event: 'outbox.publish-failed',
        on: event.type,
        reason: (error as Error).message,
      });
    }
  }

  private async markReportedIfDone(jobId: string): Promise<void> {
    const job = this.jobs.get(jobId);
    if (job?.state !== 'FISCALIZED' || !this.outbox.allDelivered(jobId)) return;
    await this.jobs.transition(jobId, 'REPORTED').catch((error: Error) => {
      this.parts.logger.error({ event: 'job.report-mark-failed', job: jobId, reason: error.message });
    });
  }

  /**
   * After a crash between a job's journal write and its drafts (or a draft that failed), draft them now;
   * and mark REPORTED the jobs whose reports were all delivered before a crash. Runs at start and every
   * minute, never twice at once, yielding to other work as it goes. Only recent jobs are looked at.
   */
  private recoverDrafts(): Promise<void> {
    this.recovering ??= this.recoverDraftsOnce().finally(() => {
      this.recovering = undefined;
    });
    return this.recovering;
  }

  private async recoverDraftsOnce(): Promise<void> {
    for (const event of this.unpublishedShifts.splice(0)) await this.publish(event);
    // A FISCALIZED job is unfinished however old it is (a box off for a month, a clock that jumped): its
    // marker is never compacted away while it is not REPORTED. A failure's marker may expire, so only
    // recent FAILED jobs are looked at.
    const horizon = new Date(
      Date.now() - { ...OUTBOX_DEFAULTS, ...this.parts.outbox }.retainDeliveredDays * DAY_MS,
    );
    let visited = 0;
    for (const job of [...this.jobs.inState('FISCALIZED'), ...this.jobs.failedSince(horizon.toISOString())]) {
      const event: AgentEvent =
        job.state === 'FISCALIZED' ? { type: 'job.fiscalized', job } : { type: 'job.failed', job };
      if (!this.outbox.published(event)) await this.publish(event);
      else if (job.state === 'FISCALIZED') await this.markReportedIfDone(job.id);
      if (++visited % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * A technician's decision on a BLOCKED job: printed (the receipt exists; give its fiscal data if known)
   * or not printed (print it again). The decision is journaled with who made it.
   */
  async resolveJob(
    jobId: string,
    decision: { printed: boolean; by: string; note?: string; fiscal?: Partial<FiscalData>; force?: boolean },
  ): Promise<Job> {
    const job = this.jobs.require(jobId);
    if (job.state !== 'BLOCKED') {
      throw new AgentError(
        'JOB_NOT_BLOCKED',
        `Job ${jobId} is ${job.state}; only BLOCKED jobs can be resolved.`,
        {
          jobId,
          state: job.state,
        },
      );
    }
    const resolution: NonNullable<Job['resolution']> = {
      printed: decision.printed,
      by: decision.by,
      at: new Date().toISOString(),
      note: decision.note,
    };
    if (!decision.printed) {
      Object.assign(resolution, await this.checkNotPrinted(job, decision.force === true));
      const requeued = await this.jobs.transition(jobId, 'RECEIVED', { resolution, blocked: undefined }, [
        'BLOCKED',
      ]);
      this.fiscalizers.get(job.deviceId)?.wake();
      return requeued;
    }
    const now = new Date().toISOString();
    const fiscal: FiscalData = {
      deviceId: job.deviceId,
      deviceKind: this.devices.get(job.deviceId)?.kind ?? 'unknown',
      dateTime: now,
      dateTimeUtc: `${now.slice(0, 19)}.000Z`,
      totalMinor: job.summary.totalMinor ?? 0,
      ...decision.fiscal,
    };
    return this.jobs.transition(jobId, 'FISCALIZED', { resolution, fiscal }, ['BLOCKED']);
  }

  /**
   * Before a person's "not printed" requeues a job, the register is asked (docs/fiscalization.md, "Resolving
   * a blocked job"): a receipt with the job's marker, in the receipts read back or in the FN after the job's
   * anchor, refuses it naming the FD. A register that cannot be searched refuses it too, unless `force`,
   * which is recorded and logged as the typed warning RESOLVE_FORCED.
   */
  private async checkNotPrinted(job: Job, force: boolean): Promise<{ checked?: string; forced?: string }> {
    const found = (fd: number, fn: string, why = '') =>
      new AgentError(
        'JOB_RECEIPT_FOUND',
        `Job ${job.id}: receipt FD ${fd} of FN ${fn} carries its marker, so it was printed${why}; ` +
          'resolve it as printed (--printed).',
        { jobId: job.id, fiscalDocumentNumber: fd, fnSerial: fn },
      );
    // The register's word beats a person's: a receipt read back with the job's marker was printed.
    const claim = this.recovery.claim(job);
    if (claim.kind !== 'none')
      throw found(
        claim.receipt.documentNumber,
        claim.receipt.fnSerial,
        claim.kind === 'mismatch' ? ` (${claim.reason})` : '',
      );
    const device = this.devices.get(job.deviceId);
    if (device?.readBack !== 'history') return {};
    let search: ReceiptSearch;
    if (job.printing === undefined) {
      search = { kind: 'absent', checked: 'the job was never sent to the register' };
    } else if (!device.ready) {
      search = { kind: 'unknown', reason: 'the register does not answer' };
    } else {
      search = await this.deviceOperation(device.id, (d) => d.searchReceipt(job)).catch(
        (error: unknown): ReceiptSearch => ({
          kind: 'unknown',
          reason: `the register could not be searched (${(error as Error).message})`,
        }),
      );
    }
    if (search.kind === 'found') throw found(search.fiscalDocumentNumber, search.fnSerial);
    if (search.kind === 'absent') return { checked: search.checked };
    if (!force)
      throw new AgentError(
        'JOB_RECEIPT_UNCHECKED',
        `Job ${job.id}: ${search.reason}, so whether its receipt (marker ${job.id}) was printed is not known. ` +
          'Try again once the register answers, or look at its receipts and resolve with --force.',
        { jobId: job.id, reason: search.reason },
      );
    this.parts.logger.warn({
      event: 'job.resolve-forced',
      code: 'RESOLVE_FORCED',
      job: job.id,
      reason: search.reason,
    });
    return { forced: search.reason };
  }

  /** Runs an operation on a device between jobs (see `Fiscalizer.exclusive`). */
  deviceOperation<T>(deviceId: string | undefined, work: (device: FiscalDevice) => Promise<T>): Promise<T> {
    const device = deviceId ? this.device(deviceId) : this.deviceList[0];
    if (!device) throw new AgentError('DEVICE_UNKNOWN', 'No device is configured.');
    return this.fiscalizers.get(device.id)!.exclusive(() => work(device));
  }

  /**
   * The self-test of one device (or all), each between two jobs: the daemon owns the register, so the
   * doctor goes through the same link and the same lock as the receipts.
   */
  runDoctor(options: { device?: string; openShift?: boolean }): Promise<DoctorReport[]> {
    const devices = options.device ? [this.device(options.device)] : this.deviceList;
    return this.doctor.run(devices, { openShift: options.openShift }, (device, work) =>
      this.fiscalizers.get(device.id)!.exclusive(work),
    );
  }

  async status(): Promise<AgentStatus> {
    const devices = await Promise.all(this.deviceList.map((device) => device.snapshot()));
    return {
      startedAt: this.startedAt,
      devices,
      jobs: this.jobs.countByState(),
      kinds: this.jobs.countByKind(),
      links: this.links.countByKind(),
      blocked: this.jobs.inState('BLOCKED').map((job) => ({
        id: job.id,
        key: job.key,
        deviceId: job.deviceId,
        updatedAt: job.updatedAt,
        reason: job.blocked?.message ?? '',
      })),
      failed: this.jobs.latest(RECENT_FAILURES, 'FAILED').map((job) => ({
        id: job.id,
        key: job.key,
        deviceId: job.deviceId,
        updatedAt: job.updatedAt,
        code: job.failure?.code ?? '',
        reason: job.failure?.message ?? '',
      })),
      outbox: this.outbox.sinkStats(),
      connectors: this.parts.connectors.map((c) => c.status()),
      storage: this.db.storageFigures(),
      memory: { rssBytes: process.memoryUsage.rss(), heapUsedBytes: process.memoryUsage().heapUsed },
      recovery: this.recovery.status(),
    };
  }

  /**
   * What needs a person in the agent itself (the devices' alerts come from the periodic checks): receipts
   * fiscalized but not reported for longer than `unreportedAlertMs`, and journal writes that are failing.
   * Computed when asked, so `status` and the state document never lag behind.
   */
  alerts(now = Date.now()): AgentAlert[] {
    const alerts: AgentAlert[] = [];
    const limitMs = { ...OUTBOX_DEFAULTS, ...this.parts.outbox }.unreportedAlertMs;
    const stuck = this.jobs
      .inState('FISCALIZED')
      .filter((job) => now - Date.parse(job.updatedAt) > limitMs)
      .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
    const oldest = stuck[0];
    if (oldest) {
      alerts.push({
        code: 'RECEIPTS_UNREPORTED',
        message: `${stuck.length} receipt(s) fiscalized but not reported for over ${limitMs >= 120_000 ? `${Math.round(limitMs / 60_000)} min` : `${Math.round(limitMs / 1000)} s`} (oldest: job ${oldest.id}, bill ${oldest.key}, since ${oldest.updatedAt}). See kkt-agent outbox list and the log (outbox.draft-failed).`,
        since: oldest.updatedAt,
      });
    }
    const gone = this.db.dataDirGone;
    if (gone) {
      alerts.push({
        code: 'DATA_DIR_GONE',
        message: `${gone.message} Nothing is printed or recorded from now on.`,
        since: this.dataDirGoneAt ?? new Date(now).toISOString(),
      });
    }
    for (const connector of this.parts.connectors) {
      const failing = connector.status().failingBills ?? [];
      const oldest = failing[0];
      if (!oldest) continue;
      const shown = failing
        .slice(0, 3)
        .map((bill) => `${bill.billId} (${bill.failures} tries, ${bill.code}, next ${bill.nextTryAt})`);
      alerts.push({
        code: 'BILLS_FAILING',
        connector: connector.name,
        message: `${connector.name}: ${failing.length} bill(s) could not be taken since ${oldest.since}: ${shown.join('; ')}${failing.length > 3 ? '; …' : ''}; last: ${oldest.message} Newer bills go on; each is tried again on its own backoff.`,
        since: oldest.since,
      });
    }
    const silent = this.jobs
      .latest(RECENT_FAILURES, 'FAILED')
      .filter(
        (job) => job.failure?.code === MARKING_OISM_UNAVAILABLE && now - Date.parse(job.updatedAt) < HOUR_MS,
      );
    const first = silent.at(-1);
    if (first) {
      alerts.push({
        code: 'MARKING_OISM_UNAVAILABLE',
        message: `${silent.length} bill(s) with marked goods refused in the last hour because the register got no answer from Честный ЗНАК (ОИСМ) (latest: job ${silent[0]!.id}, bill ${silent[0]!.key}). Check the register's internet and OFD connection, then fiscalize the bills again (docs/marking.md).`,
        since: first.updatedAt,
      });
    }
    const moduleFaults = this.jobs
      .latest(RECENT_FAILURES, 'FAILED')
      .filter(
        (job) =>
          job.failure !== undefined &&
          LOCAL_MODULE_FAULT_CODES.has(job.failure.code) &&
          now - Date.parse(job.updatedAt) < HOUR_MS,
      );
    const firstFault = moduleFaults.at(-1);
    if (firstFault) {
      const latest = moduleFaults[0]!;
      alerts.push({
        code: 'MARKING_LM_UNAVAILABLE',
        message: `${moduleFaults.length} bill(s) with marked goods refused in the last hour because the local module of Честный ЗНАК could not be used (latest: job ${latest.id}, ${latest.failure!.code}: ${latest.failure!.message}). Check the module (its status, sync and credentials), then fiscalize the bills again (docs/marking.md, "Permissive mode").`,
        since: firstFault.updatedAt,
      });
    }
    for (const changed of this.recovery.changedRegisterAlerts())
      alerts.push({
        code: 'REGISTER_CHANGED',
        device: changed.deviceId,
        message: changed.message,
        since: changed.since,
      });
    const failure = this.db.writeFailure;
    if (failure) {
      alerts.push({
        code: 'JOURNAL_WRITES_FAILING',
        message: `Writes to the agent's database (${failure.path}) are failing since ${failure.since} (${failure.failures} failed; last: ${failure.lastError.errno ?? failure.lastError.code} at ${failure.lastError.at}; the next write that succeeds clears this). Bills and reports cannot be recorded until it is fixed: free space on ${dirname(failure.path)} or check the storage.`,
        since: failure.since,
      });
    }
    return alerts;
  }

  /**
   * Retention (a schedule runs it nightly): finished jobs past `journal.retainDays` lose their bill, delivered
   * reports past the outbox's retention are deleted. Rows are slimmed or deleted in small transactions;
   * the file is never rewritten (SQLite reuses the freed pages).
   */
  async applyRetention(
    now = Date.now(),
  ): Promise<{ jobsSlimmed: number; outboxDropped: number; recoveredDropped: number }> {
    const retainMs = { ...JOURNAL_DEFAULTS, ...this.parts.journal }.retainDays * DAY_MS;
    const { slimmed } = await this.jobs.slimFinished(retainMs, now);
    const outboxDropped = await this.outbox.deleteDelivered(now);
    const recoveredDropped = await this.recovery.applyRetention(retainMs, now);
    return { jobsSlimmed: slimmed, outboxDropped, recoveredDropped };
  }
}
