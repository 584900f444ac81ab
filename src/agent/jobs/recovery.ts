import type { Logger } from 'pino';
import { KktAgentError } from '../../lib/errors.js';
import type { AgentDatabase } from '../store/database.js';
import { readStoreOrigin, type StoreOriginRecord, writeStoreOrigin } from '../store/storeOrigin.js';
import { RECOVERY_DEFAULTS, type RecoveryConfig } from './config.js';
import type { FiscalData, Job } from './job.js';
import type { JobStore } from './jobStore.js';
import {
  type HistoryHead,
  matchReceipt,
  type PrintedReceipt,
  type ReadBack,
  type ReceiptHistory,
} from './receiptHistory.js';
import {
  type DeviceRecoveryRecord,
  type FnWatermark,
  type RecoveredReceipt,
  RecoveredReceipts,
} from './recoveredReceipts.js';

/**
 * Rebuilding from the register (docs/fiscalization.md, "Rebuilding from the register"). Before a device
 * prints anything after a start, the documents its fiscal storage made that the store does not account for
 * are read back, and every receipt of ours among them (it carries a marker) is recorded. A job whose marker
 * one carries takes that receipt instead of printing again. On a new store, or one a technician declared
 * lost, that read goes back a configured depth (a rebuild) and the connectors wait for it; on every other
 * start it covers the documents after the device's watermark (usually none, or a shift report).
 */

export type RecoveryPhase = 'waiting' | 'reading' | 'done' | 'unreadable' | 'confirmed' | 'blocked';

/** What `status` shows of one device's read-back. */
export interface DeviceRecoveryProgress {
  deviceId: string;
  phase: RecoveryPhase;
  /** `rebuild`: back to the configured depth; `gap`: the documents after the watermark. */
  mode?: 'rebuild' | 'gap';
  readBack?: ReadBack;
  documentsRead: number;
  /** The most the read can take (the documents up to the depth are not known in advance). */
  documentsAtMost?: number;
  receiptsFound: number;
  fnSerial?: string;
  /** The FN the store knew before this one answered (a replaced FN or another register). */
  previousFnSerial?: string;
  /** The factory serial of the register that answered, when the device tells it. */
  registerSerial?: string;
  /** The register the store knew, while another one answers at the device's address (phase `blocked`). */
  previousRegisterSerial?: string;
  /** The newest and the oldest document read. */
  lastDocument?: number;
  firstDocument?: number;
  /** The register's time of the oldest document read: what the read covers. */
  coveredSince?: string;
  /** The read reached the fiscal storage's first document: everything on it was seen. */
  complete?: boolean;
  startedAt?: string;
  finishedAt?: string;
  confirmedBy?: string;
  /** Why the last attempt stopped (the read is tried again once the device answers). */
  error?: string;
}

export interface RecoveryStatus {
  origin: StoreOriginRecord['origin'];
  rebuild: StoreOriginRecord['rebuild'];
  since: string;
  note?: string;
  devices: DeviceRecoveryProgress[];
  receipts: { found: number; taken: number };
}

/** What a job's marker finds among the recovered receipts. */
export type RecoveredClaim =
  | { kind: 'none' }
  | { kind: 'match'; receipt: RecoveredReceipt }
  | { kind: 'mismatch'; receipt: RecoveredReceipt; reason: string };

export class RecoveryError extends KktAgentError {}

/**
 * The register at a device's address is not the one the store's watermark was read on (another serial, or
 * another FN where a serial cannot tell): a register swapped, or this SD card from another box. Nothing of
 * the old register's watermark is applied and no marker is matched against this FN until a technician
 * takes the new register with `kkt-agent recover --confirm <device>`.
 */
export class RegisterChangedError extends RecoveryError {
  constructor(
    readonly deviceId: string,
    readonly was: FnWatermark,
    readonly now: HistoryHead,
  ) {
    const name = (r: { registerSerial?: string | undefined; fnSerial: string }) =>
      `register ${r.registerSerial ?? '(serial unknown)'} with FN ${r.fnSerial}`;
    super(
      'RECOVERY_REGISTER_CHANGED',
      `Device ${deviceId}: ${name(now)} answers where this store knew ${name(was)}. A register was ` +
        'swapped, or this SD card comes from another box: nothing is printed on it or matched against its FN ' +
        'until a technician checks. If this register serves the device from now on, run ' +
        `"kkt-agent recover --confirm ${deviceId}" (its FN is then read back for receipts of ours before ` +
        'anything prints); if not, put the right register (or the right card) back.',
      {
        device: deviceId,
        was: { registerSerial: was.registerSerial, fnSerial: was.fnSerial },
        now: { registerSerial: now.registerSerial, fnSerial: now.fnSerial },
      },
    );
  }
}

/**
 * Whether the register that answers is another one than the watermark's: another serial, or (where either
 * serial is unknown) another FN. The same register with another FN is an FN replaced, which is read from
 * the new FN's first document.
 */
function registerChanged(was: FnWatermark, now: HistoryHead): boolean {
  if (was.registerSerial !== undefined && now.registerSerial !== undefined)
    return was.registerSerial !== now.registerSerial;
  return was.fnSerial !== now.fnSerial;
}

const YIELD_EVERY_DOCUMENTS = 50;
const COMMIT_EVERY_DOCUMENTS = 50;
const LOG_EVERY_DOCUMENTS = 100;

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A read in progress, kept across attempts so that a dropped link resumes where it stopped. */
interface ScanState {
  mode: 'rebuild' | 'gap';
  fnSerial: string;
  registerSerial?: string;
  head: number;
  /** The next document to read, going back. */
  next: number;
  lowest: number;
  newestMs?: number;
  shiftsSeen: number;
}

export class Recovery {
  readonly receipts: RecoveredReceipts;
  private readonly config: RecoveryConfig;
  private origin: StoreOriginRecord;
  private readonly progress = new Map<string, DeviceRecoveryProgress>();
  private readonly prepared = new Map<string, Deferred>();
  private readonly scans = new Map<string, ScanState>();
  /** Devices blocked because another register answers at their address, until a technician takes it. */
  private readonly changedRegisters = new Map<string, { error: RegisterChangedError; since: string }>();
  private stored = new Map<string, DeviceRecoveryRecord>();

  constructor(
    private readonly db: AgentDatabase,
    private readonly logger: Logger,
    config: Partial<RecoveryConfig> = {},
  ) {
    this.receipts = new RecoveredReceipts(db);
    this.config = { ...RECOVERY_DEFAULTS, ...config };
    this.origin = readStoreOrigin(db);
    this.stored = new Map(this.receipts.deviceRecords().map((record) => [record.deviceId, record]));
  }

  /** A new store, or one a technician declared lost, that has not been rebuilt yet. */
  get rebuilding(): boolean {
    return this.origin.rebuild === 'pending';
  }

  get storeOrigin(): StoreOriginRecord {
    return this.origin;
  }

  /** The devices whose read-back the connectors wait for while rebuilding. */
  register(deviceIds: readonly string[]): void {
    for (const id of deviceIds) {
      if (this.prepared.has(id)) continue;
      this.prepared.set(id, deferred());
      const record = this.stored.get(id);
      this.progress.set(
        id,
        record ? progressOf(record) : { deviceId: id, phase: 'waiting', documentsRead: 0, receiptsFound: 0 },
      );
    }
  }

  /** Resolves once every registered device has been read back (at once when nothing is being rebuilt). */
  async whenRebuilt(): Promise<void> {
    await Promise.all([...this.prepared.values()].map((d) => d.promise));
  }

  /**
   * What a device needs before it prints after a start or a reconnect: on a store being rebuilt, its
   * read-back to the configured depth (or, for a device that cannot be read back, a hold until a technician
   * confirms it); otherwise the documents after its watermark. Throws when the device stops answering;
   * the fiscalizer calls again once it is back, and the read resumes where it stopped.
   */
  async prepare(deviceId: string, readBack: ReadBack, history: ReceiptHistory | undefined): Promise<void> {
    const progress = this.progressOf(deviceId);
    progress.readBack = readBack;
    try {
      if (this.rebuilding && !this.stored.has(deviceId)) {
        if (readBack === 'history' && history) await this.scan(deviceId, history, 'rebuild');
        else this.finishUnread(deviceId, readBack);
      } else if (readBack === 'history' && history) {
        await this.catchUp(deviceId, history);
      }
      progress.error = undefined;
    } catch (error) {
      progress.error = (error as Error).message;
      throw error;
    }
    this.prepared.get(deviceId)?.resolve();
    this.finishRebuildIfDone();
  }

  /** A store that knows the device's FN reads only what came after; one that never saw it starts there. */
  private async catchUp(deviceId: string, history: ReceiptHistory): Promise<void> {
    const watermark = this.receipts.watermark(deviceId);
    const scan = this.scans.get(deviceId);
    if (scan) {
      await this.scan(deviceId, history, scan.mode);
      return;
    }
    const head = await history.head();
    if (watermark === undefined) {
      // A trusted store (imported, upgraded) or a device new to it: its documents so far are not ours to find.
      this.db.write('fn-watermark', () => {
        this.receipts.advanceWatermarkWithin(
          deviceId,
          head.fnSerial,
          head.lastDocumentNumber,
          new Date().toISOString(),
        );
        if (head.registerSerial) this.receipts.setRegisterWithin(deviceId, head.registerSerial);
      });
      this.logger.info({
        event: 'recovery.watermark-set',
        device: deviceId,
        fn: head.fnSerial,
        document: head.lastDocumentNumber,
      });
      this.markProgress(deviceId, {
        phase: 'done',
        fnSerial: head.fnSerial,
        lastDocument: head.lastDocumentNumber,
        ...(head.registerSerial ? { registerSerial: head.registerSerial } : {}),
      });
      return;
    }
    if (registerChanged(watermark, head)) this.blockChangedRegister(deviceId, watermark, head);
    this.forgetChangedRegister(deviceId);
    if (head.registerSerial && watermark.registerSerial === undefined) {
      // A watermark of an older version: from now on it names its register.
      const serial = head.registerSerial;
      this.db.write('fn-watermark', () => this.receipts.setRegisterWithin(deviceId, serial));
    }
    if (head.registerSerial) this.markProgress(deviceId, { registerSerial: head.registerSerial });
    const sameFn = watermark.fnSerial === head.fnSerial;
    if (sameFn && head.lastDocumentNumber <= watermark.documentNumber) {
      this.markProgress(deviceId, {
        phase: 'done',
        fnSerial: head.fnSerial,
        lastDocument: head.lastDocumentNumber,
      });
      return;
    }
    // Documents the store does not account for: another POS, a technician's report, or commits a lying disk
    // lost. An FN replaced in the same register is read from its first document (its numbers say nothing
    // about the old one's), which a person should know of.
    if (!sameFn) {
      this.logger.warn({
        event: 'recovery.fn-changed',
        device: deviceId,
        was: watermark.fnSerial,
        now: head.fnSerial,
        reason: 'the register answers with another FN (a replaced one): it is read from its first document',
      });
      this.markProgress(deviceId, { previousFnSerial: watermark.fnSerial });
    }
    await this.scan(deviceId, history, 'gap', sameFn ? watermark.documentNumber + 1 : 1, head);
  }

  private async scan(
    deviceId: string,
    history: ReceiptHistory,
    mode: 'rebuild' | 'gap',
    lowest = 1,
    knownHead?: HistoryHead,
  ): Promise<void> {
    let state = this.scans.get(deviceId);
    const progress = this.progressOf(deviceId);
    if (!state) {
      const head = knownHead ?? (await history.head());
      state = {
        mode,
        fnSerial: head.fnSerial,
        ...(head.registerSerial ? { registerSerial: head.registerSerial } : {}),
        head: head.lastDocumentNumber,
        next: head.lastDocumentNumber,
        lowest,
        shiftsSeen: 0,
      };
      this.scans.set(deviceId, state);
      Object.assign(progress, {
        phase: 'reading',
        mode,
        documentsRead: 0,
        receiptsFound: 0,
        documentsAtMost: Math.max(0, Math.min(state.head - lowest + 1, this.config.maxDocuments)),
        fnSerial: state.fnSerial,
        lastDocument: state.head,
        firstDocument: undefined,
        coveredSince: undefined,
        complete: undefined,
        startedAt: new Date().toISOString(),
        finishedAt: undefined,
      } satisfies Partial<DeviceRecoveryProgress>);
      this.logger.info({
        event: 'recovery.reading',
        device: deviceId,
        mode,
        fn: state.fnSerial,
        from: state.head,
        downTo: mode === 'gap' ? lowest : undefined,
        atMost: progress.documentsAtMost,
      });
    }
    progress.phase = 'reading';
    let batch: PrintedReceipt[] = [];
    const flush = () => {
      if (batch.length === 0) return;
      const found = batch;
      batch = [];
      this.db.write('recovered-receipts', () => this.receipts.insertWithin(found, new Date().toISOString()));
    };
    let stopped: 'depth' | 'max-documents' | undefined;
    try {
      while (state.next >= state.lowest) {
        if (progress.documentsRead >= this.config.maxDocuments) {
          stopped = 'max-documents';
          break;
        }
        const document = await history.read(state.next);
        progress.documentsRead += 1;
        progress.firstDocument = state.next;
        state.next -= 1;
        if (document.dateTime !== undefined) {
          const at = Date.parse(document.dateTime);
          if (!Number.isNaN(at)) {
            state.newestMs ??= at;
            progress.coveredSince = document.dateTime;
          }
        }
        if (document.kind === 'shift-open') state.shiftsSeen += 1;
        if (document.receipt) {
          batch.push(document.receipt);
          progress.receiptsFound += 1;
        }
        if (progress.documentsRead % COMMIT_EVERY_DOCUMENTS === 0) flush();
        if (progress.documentsRead % LOG_EVERY_DOCUMENTS === 0)
          this.logger.info({
            event: 'recovery.progress',
            device: deviceId,
            read: progress.documentsRead,
            atMost: progress.documentsAtMost,
            receipts: progress.receiptsFound,
            coveredSince: progress.coveredSince,
          });
        if (state.mode === 'rebuild' && this.deepEnough(state, document.dateTime)) {
          stopped = 'depth';
          break;
        }
        if (progress.documentsRead % YIELD_EVERY_DOCUMENTS === 0)
          await new Promise((resolve) => setImmediate(resolve));
      }
      flush();
    } catch (error) {
      // What was found so far stays (a second sighting changes nothing); the next attempt resumes here.
      try {
        flush();
      } catch {
        // The store refused it: the next attempt finds them again.
      }
      this.logger.warn({
        event: 'recovery.read-interrupted',
        device: deviceId,
        read: progress.documentsRead,
        at: state.next + 1,
        reason: (error as Error).message,
      });
      throw error;
    }
    // Reaching document 1 means everything on the FN was seen, whatever else stopped the read there.
    const complete = state.next < state.lowest && state.lowest === 1;
    if (stopped === 'max-documents')
      this.logger.warn({
        event: 'recovery.max-documents',
        device: deviceId,
        read: progress.documentsRead,
        coveredSince: progress.coveredSince,
      });
    const at = new Date().toISOString();
    Object.assign(progress, { phase: 'done', complete, finishedAt: at });
    this.db.write('recovery-read', () => {
      this.receipts.advanceWatermarkWithin(deviceId, state.fnSerial, state.head, at);
      if (state.registerSerial) this.receipts.setRegisterWithin(deviceId, state.registerSerial);
      if (state.mode === 'rebuild') {
        const record = { deviceId, state: 'done' as const, at, detail: detailOf(progress) };
        this.receipts.setDeviceWithin(record);
        this.db.afterCommit(() => this.stored.set(deviceId, record));
      }
    });
    this.scans.delete(deviceId);
    this.logger.info({
      event: 'recovery.read',
      device: deviceId,
      mode: state.mode,
      read: progress.documentsRead,
      receipts: progress.receiptsFound,
      from: state.head,
      downTo: progress.firstDocument,
      coveredSince: progress.coveredSince,
      complete,
    });
  }

  /** Past the opening of the configured number of shifts, and the configured hours before the newest one. */
  private deepEnough(state: ScanState, dateTime: string | undefined): boolean {
    if (state.shiftsSeen < this.config.shifts || dateTime === undefined || state.newestMs === undefined)
      return false;
    const at = Date.parse(dateTime);
    return !Number.isNaN(at) && state.newestMs - at >= this.config.depthHours * 3_600_000;
  }

  /** A device with nothing to read back: held for a technician (SmartX), or nothing to do (the text printer). */
  private finishUnread(deviceId: string, readBack: ReadBack): void {
    const held = readBack === 'none' && this.config.holdUnreadable;
    const at = new Date().toISOString();
    const record: DeviceRecoveryRecord = {
      deviceId,
      state: held ? 'unreadable' : readBack === 'none' ? 'confirmed' : 'done',
      at,
      detail: {
        readBack,
        ...(readBack === 'none' && !held ? { confirmedBy: 'config:recovery.holdUnreadable' } : {}),
      },
    };
    this.db.write('recovery-device', () => this.receipts.setDeviceWithin(record));
    this.stored.set(deviceId, record);
    this.markProgress(deviceId, progressOf(record));
    if (held)
      this.logger.warn({
        event: 'recovery.device-held',
        device: deviceId,
        reason: 'the device cannot be read back; it prints nothing until a technician confirms it',
      });
  }

  private finishRebuildIfDone(): void {
    if (!this.rebuilding) return;
    if ([...this.prepared.keys()].some((id) => !this.stored.has(id))) return;
    const record: StoreOriginRecord = { ...this.origin, rebuild: 'done', at: new Date().toISOString() };
    writeStoreOrigin(this.db, record);
    this.origin = record;
    this.logger.info({
      event: 'recovery.rebuilt',
      origin: record.origin,
      devices: [...this.progress.values()].map((p) => ({
        device: p.deviceId,
        phase: p.phase,
        read: p.documentsRead,
        receipts: p.receiptsFound,
        coveredSince: p.coveredSince,
        complete: p.complete,
      })),
    });
  }

  /** Why a device prints nothing now (it cannot be read back and no technician confirmed it), if it does not. */
  held(deviceId: string): string | undefined {
    if (this.stored.get(deviceId)?.state !== 'unreadable') return undefined;
    return (
      'the agent lost its store and this device cannot be asked what it printed; check its receipts for ' +
      'this bill, then resolve the job (printed or not printed), or confirm the device with ' +
      `"kkt-agent recover --confirm ${deviceId}" once its earlier sales are all accounted for`
    );
  }

  /**
   * A technician's word: for a device blocked because another register answers, that this register serves
   * it from now on (its FN is read back from its first document at the next prepare, then it prints); for a
   * device that cannot be read back, that its earlier sales are accounted for (it prints again).
   */
  confirm(deviceId: string, by: string): DeviceRecoveryProgress {
    const changed = this.changedRegisters.get(deviceId);
    if (changed) return this.takeRegister(deviceId, changed.error, by);
    const record = this.stored.get(deviceId);
    if (record?.state !== 'unreadable') {
      throw new RecoveryError(
        'RECOVERY_NOTHING_TO_CONFIRM',
        `Device ${deviceId} is not waiting for a confirmation (${record?.state ?? 'no rebuild recorded'}).`,
        { device: deviceId },
      );
    }
    const confirmed: DeviceRecoveryRecord = {
      ...record,
      state: 'confirmed',
      at: new Date().toISOString(),
      detail: { ...record.detail, confirmedBy: by },
    };
    this.db.write('recovery-device', () => this.receipts.setDeviceWithin(confirmed));
    this.stored.set(deviceId, confirmed);
    this.logger.info({ event: 'recovery.device-confirmed', device: deviceId, by });
    return this.markProgress(deviceId, progressOf(confirmed));
  }

  /** Another register answers at a device's address: recorded for `status` and the alert, then thrown. */
  private blockChangedRegister(deviceId: string, was: FnWatermark, now: HistoryHead): never {
    const error = new RegisterChangedError(deviceId, was, now);
    const earlier = this.changedRegisters.get(deviceId);
    if (earlier?.error.message !== error.message) {
      this.changedRegisters.set(deviceId, { error, since: earlier?.since ?? new Date().toISOString() });
      this.logger.error({
        event: 'recovery.register-changed',
        device: deviceId,
        code: error.code,
        was: error.details?.['was'],
        now: error.details?.['now'],
        reason: error.message,
      });
    }
    this.markProgress(deviceId, {
      phase: 'blocked',
      fnSerial: now.fnSerial,
      previousFnSerial: was.fnSerial,
      registerSerial: now.registerSerial,
      previousRegisterSerial: was.registerSerial,
      error: error.message,
    });
    throw error;
  }

  /** The register the store knew answers again (it was put back): nothing for a technician any more. */
  private forgetChangedRegister(deviceId: string): void {
    if (!this.changedRegisters.delete(deviceId)) return;
    this.logger.info({ event: 'recovery.register-back', device: deviceId });
    this.markProgress(deviceId, { phase: 'waiting', previousRegisterSerial: undefined, error: undefined });
  }

  private takeRegister(deviceId: string, error: RegisterChangedError, by: string): DeviceRecoveryProgress {
    const { now } = error;
    // Document 0: every document of the new register's FN is after the watermark, so the next prepare reads
    // it back (up to recovery.maxDocuments) before anything prints; nothing of the old register's is kept.
    this.db.write('recovery-register-taken', () =>
      this.receipts.replaceWatermarkWithin(
        deviceId,
        {
          fnSerial: now.fnSerial,
          documentNumber: 0,
          ...(now.registerSerial ? { registerSerial: now.registerSerial } : {}),
        },
        new Date().toISOString(),
      ),
    );
    this.changedRegisters.delete(deviceId);
    this.logger.warn({
      event: 'recovery.register-taken',
      device: deviceId,
      by,
      was: error.details?.['was'],
      now: error.details?.['now'],
    });
    return this.markProgress(deviceId, {
      phase: 'waiting',
      confirmedBy: by,
      previousRegisterSerial: error.was.registerSerial,
      error: undefined,
    });
  }

  /** Devices blocked because another register answers at their address: what `status` alerts. */
  changedRegisterAlerts(): Array<{ deviceId: string; message: string; since: string }> {
    return [...this.changedRegisters.entries()].map(([deviceId, { error, since }]) => ({
      deviceId,
      message: error.message,
      since,
    }));
  }

  /** The receipt a job's marker finds, if any, and whether it is this bill's (docs/fiscalization.md). */
  claim(job: Job): RecoveredClaim {
    const candidates = this.receipts
      .withMarker(job.id)
      .filter((r) => r.jobId === undefined || r.jobId === job.id);
    if (candidates.length === 0) return { kind: 'none' };
    for (const receipt of candidates)
      if (matchReceipt(job, receipt).kind === 'match') return { kind: 'match', receipt };
    const receipt = candidates[0]!;
    const verdict = matchReceipt(job, receipt);
    return { kind: 'mismatch', receipt, reason: verdict.kind === 'mismatch' ? verdict.reason : '' };
  }

  /**
   * A job takes a receipt found on its register: FISCALIZED with the fiscal data read back (its reports are
   * drafted in the same commit), never printed again.
   */
  take(jobs: JobStore, job: Job, receipt: RecoveredReceipt): Job {
    const fiscal: FiscalData = receipt.fiscal;
    return this.db.write('job-recovered', () => {
      this.receipts.claimWithin(receipt, job.id);
      return jobs.transitionNow(
        job.id,
        'FISCALIZED',
        {
          fiscal,
          failure: undefined,
          resolution: {
            printed: true,
            by: 'recovery',
            at: new Date().toISOString(),
            note: `receipt FD ${receipt.documentNumber} of FN ${receipt.fnSerial} found on the register by its marker`,
          },
        },
        ['RECEIVED'],
      );
    });
  }

  /**
   * Inside a job's write: what the register is known to hold moves the device's watermark (the anchor read
   * before a print, the document a print made), so the next start reads only what came after.
   */
  noteWithin(job: Job): void {
    const at = job.updatedAt;
    if (
      job.state === 'PRINTING' &&
      job.printing?.fnSerial &&
      job.printing.lastDocumentNumberBefore !== undefined
    )
      this.receipts.advanceWatermarkWithin(
        job.deviceId,
        job.printing.fnSerial,
        job.printing.lastDocumentNumberBefore,
        at,
      );
    else if (
      job.state === 'FISCALIZED' &&
      job.fiscal?.fnNumber &&
      job.fiscal.fiscalDocumentNumber !== undefined
    )
      this.receipts.advanceWatermarkWithin(
        job.deviceId,
        job.fiscal.fnNumber,
        job.fiscal.fiscalDocumentNumber,
        at,
      );
  }

  /**
   * How far back a rebuild saw every receipt, for a cloud that serves old bills again (the bridge's LIST):
   * undefined when nothing was rebuilt, or every device's storage was read to its first document.
   */
  horizon(): { coveredSince: string } | undefined {
    if (this.origin.origin !== 'new' && this.origin.origin !== 'declared-lost') return undefined;
    let latest: string | undefined;
    for (const record of this.stored.values()) {
      if (record.state !== 'done' || record.detail['complete'] !== false) continue;
      const since = record.detail['coveredSince'];
      if (typeof since === 'string' && (latest === undefined || Date.parse(since) > Date.parse(latest)))
        latest = since;
    }
    return latest === undefined ? undefined : { coveredSince: latest };
  }

  status(): RecoveryStatus {
    return {
      origin: this.origin.origin,
      rebuild: this.origin.rebuild,
      since: this.origin.at,
      ...(this.origin.note ? { note: this.origin.note } : {}),
      devices: [...this.progress.values()].map((p) => ({ ...p })),
      receipts: this.receipts.counts(),
    };
  }

  /** Retention: receipts found more than `retainMs` ago are deleted, in batches. */
  async applyRetention(retainMs: number, now = Date.now()): Promise<number> {
    const cutoff = new Date(now - retainMs).toISOString();
    let deleted = 0;
    for (;;) {
      const changed = this.receipts.deleteFoundBefore(cutoff);
      deleted += changed;
      if (changed < 500) return deleted;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private progressOf(deviceId: string): DeviceRecoveryProgress {
    let progress = this.progress.get(deviceId);
    if (!progress) {
      progress = { deviceId, phase: 'waiting', documentsRead: 0, receiptsFound: 0 };
      this.progress.set(deviceId, progress);
    }
    return progress;
  }

  private markProgress(deviceId: string, patch: Partial<DeviceRecoveryProgress>): DeviceRecoveryProgress {
    return Object.assign(this.progressOf(deviceId), patch);
  }
}

/**
 * A technician's word that the store lost receipts (`kkt-agent recover --from-register`): the next start
 * reads every register back to the configured depth, as on a new store, before any bill is taken. Runs
 * while no agent holds the data directory.
 */
export function declareStoreLost(db: AgentDatabase, by: string, note?: string): StoreOriginRecord {
  const record: StoreOriginRecord = {
    origin: 'declared-lost',
    rebuild: 'pending',
    at: new Date().toISOString(),
    note: note ? `${by}: ${note}` : by,
  };
  const receipts = new RecoveredReceipts(db);
  db.write('store-declared-lost', () => {
    writeStoreOrigin(db, record);
    receipts.clearDevicesWithin();
  });
  return record;
}

/** The lasting record of a device's rebuild. */
function detailOf(progress: DeviceRecoveryProgress): Record<string, unknown> {
  const { deviceId: _id, phase: _phase, error: _error, ...detail } = progress;
  return JSON.parse(JSON.stringify(detail)) as Record<string, unknown>;
}

function progressOf(record: DeviceRecoveryRecord): DeviceRecoveryProgress {
  const detail = record.detail as Partial<DeviceRecoveryProgress>;
  return {
    documentsRead: 0,
    receiptsFound: 0,
    ...detail,
    deviceId: record.deviceId,
    phase: record.state,
  };
}
