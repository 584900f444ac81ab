import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  describeFsError,
  readFileIfExists,
  StorageWriteError,
  writeFileDurable,
} from '../../../lib/durableFile.js';
import { type ErrorCode, type KktAgentError, ValidationError } from '../../../lib/errors.js';
import { formatIsoWithOffset, wallClockAt } from '../../../lib/time.js';
import type { Bill } from '../../domain/bill.js';
import { CURRENCY_CODES } from '../../domain/money.js';
import type { FiscalData, Job, ShiftEvent } from '../../jobs/job.js';
import {
  type DeviceSnapshot,
  FiscalDevice,
  firstIdentificationMarks,
  firstMarkedPosition,
  MarkingUnsupportedError,
  OperationNotSupportedError,
  PrintOutcomeUnknownError,
  PrintRefusedError,
  type ReconcileOutcome,
} from '../device.js';
import { type NonfiscalDeviceConfig, nonfiscalDeviceSchema, nonfiscalDirectory } from './config.js';
import { parseTrailer, renderReceipt } from './receiptText.js';

export interface NonfiscalDeviceOptions {
  id: string;
  directory: string;
  currencies?: readonly string[];
  header?: readonly string[];
  lineWidth?: number;
  timeZone: string;
  logger: Logger;
  /** Milliseconds since the epoch; tests fix it. */
  now?: () => number;
}

/** The receipt file was renamed into place but the directory could not be synced: it may not survive. */
export class NonfiscalOutcomeUnknownError extends PrintOutcomeUnknownError {}

export const NONFISCAL_COUNTER_FILE = 'counter.json';
const RECEIPT_NAME = /^(\d{8,})-([0-9a-z]{1,32})\.txt$/;
const STALE_TEMP =
  /^\.\d{8,}-[0-9a-z]{1,32}\.txt\.\d+\.[0-9a-f]{12}\.tmp$|^\.counter\.json\.\d+\.[0-9a-f]{12}\.tmp$/;

/** `00000017-mb1x2k3l4abc.txt`: the number first, so a directory listing reads in order. */
export function receiptFileName(receiptNumber: number, jobId: string): string {
  return `${String(receiptNumber).padStart(8, '0')}-${jobId}.txt`;
}

/**
 * A device of kind `nonfiscal`. Its "print" is a plain-text receipt written durably (temp file, fsync,
 * rename) as one file per receipt, named by its own receipt number (persisted, and recovered from the
 * file names) and the job id. A reconcile looks for the job's file: there means printed, absent means
 * not printed. There are no shifts, no cash drawer and no fiscal attributes.
 */
export class NonfiscalDevice extends FiscalDevice {
  readonly id: string;
  readonly kind = 'nonfiscal';
  readonly currencies: readonly string[];
  /** Its receipt files are named by job id: a second print of a job finds the first one's file. */
  readonly readBack = 'own-records' as const;
  private readonly now: () => number;
  private readonly logger: Logger;
  private isReady = false;
  private lastNumber = 0;
  private lastError: DeviceSnapshot['lastError'];

  constructor(private readonly options: NonfiscalDeviceOptions) {
    super();
    this.id = options.id;
    this.currencies = options.currencies ?? [...CURRENCY_CODES];
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** Marked goods must be sold through a fiscal register that checks their codes: never on a plain slip. */
  override admit(bill: Bill): KktAgentError | undefined {
    const marked = firstMarkedPosition(bill) ?? firstIdentificationMarks(bill);
    if (!marked) return undefined;
    return new MarkingUnsupportedError(
      this.id,
      this.kind,
      marked,
      'prints non-fiscal slips: marked goods need a fiscal register that checks their codes',
    );
  }

  get directory(): string {
    return this.options.directory;
  }

  /** The last receipt number issued. */
  get lastReceiptNumber(): number {
    return this.lastNumber;
  }

  async start(): Promise<void> {
    try {
      await mkdir(this.directory, { recursive: true, mode: 0o750 });
      const names = await readdir(this.directory);
      for (const name of names.filter((n) => STALE_TEMP.test(n)))
        await rm(join(this.directory, name), { force: true });
      const fromNames = names.reduce(
        (max, name) => Math.max(max, Number(RECEIPT_NAME.exec(name)?.[1] ?? 0)),
        0,
      );
      this.lastNumber = Math.max(await this.readCounter(), fromNames);
      this.isReady = true;
      this.lastError = undefined;
      this.logger.info(
        {
          event: 'nonfiscal.started',
          device: this.id,
          directory: this.directory,
          lastReceiptNumber: this.lastNumber,
        },
        'non-fiscal device ready',
      );
      this.emit('ready');
    } catch (error) {
      this.isReady = false;
      this.noteError('NONFISCAL_DIRECTORY', `Cannot use ${this.directory}: ${describeFsError(error)}.`);
      this.logger.error({
        event: 'nonfiscal.start-failed',
        device: this.id,
        directory: this.directory,
        reason: describeFsError(error),
      });
      this.emit('unready', describeFsError(error));
    }
  }

  async stop(): Promise<void> {
    this.isReady = false;
  }

  async preparePrint(): Promise<Record<string, never>> {
    return {};
  }

  async print(job: Job): Promise<FiscalData> {
    const bill = job.bill;
    if (!bill) throw new ValidationError('bill', 'the job carries no valid bill');
    if (!this.currencies.includes(bill.currency)) {
      throw new PrintRefusedError(
        'DEVICE_CURRENCY_UNSUPPORTED',
        `The non-fiscal device ${this.id} is configured for ${this.currencies.join(', ')}; this bill is in ${bill.currency}.`,
        false,
        { currency: bill.currency },
      );
    }
    if (!this.isReady) {
      throw new PrintRefusedError(
        'NONFISCAL_NOT_READY',
        `The non-fiscal device ${this.id} is not ready: ${this.lastError?.message ?? 'not started'}`,
        true,
      );
    }
    // A print of a job whose receipt exists (it cannot happen after a reconcile, but costs one listing) returns it.
    const existing = await this.findReceipt(job);
    if (existing) return existing;

    const receiptNumber = this.lastNumber + 1;
    const at = new Date(Math.floor(this.now() / 1000) * 1000);
    const dateTime = formatIsoWithOffset(wallClockAt(at, this.options.timeZone), this.options.timeZone);
    const text = renderReceipt({
      bill,
      kind: job.operation,
      deviceId: this.id,
      jobId: job.id,
      receiptNumber,
      dateTime,
      header: this.options.header ?? [],
      lineWidth: this.options.lineWidth ?? nonfiscalDeviceSchema.shape.lineWidth.parse(undefined),
    });
    const name = receiptFileName(receiptNumber, job.id);
    try {
      await writeFileDurable(join(this.directory, name), text, { mode: 0o640 });
    } catch (error) {
      if (error instanceof StorageWriteError && error.details['action'] !== 'write') {
        // Renamed into place, but the directory sync failed: the file may or may not survive a power cut.
        this.lastNumber = receiptNumber;
        throw new NonfiscalOutcomeUnknownError('NONFISCAL_OUTCOME_UNKNOWN', error.message, { file: name });
      }
      const reason =
        error instanceof StorageWriteError ? String(error.details['meaning']) : describeFsError(error);
      this.noteError('NONFISCAL_WRITE_FAILED', `Could not write receipt ${name}: ${reason}.`);
      throw new PrintRefusedError(
        'NONFISCAL_WRITE_FAILED',
        `Could not write the receipt file ${name}: ${reason}.`,
        true,
      );
    }
    this.lastNumber = receiptNumber;
    this.lastActivityAt = Date.now();
    await this.writeCounter();
    this.logger.info(
      {
        event: 'nonfiscal.printed',
        device: this.id,
        job: job.id,
        receipt: receiptNumber,
        totalMinor: bill.totalMinor,
        currency: bill.currency,
        positions: bill.positions.length,
        file: name,
      },
      'non-fiscal receipt written',
    );
    return this.fiscalData(receiptNumber, dateTime, bill.totalMinor, name);
  }

  async reconcile(job: Job): Promise<ReconcileOutcome> {
    const found = await this.findReceipt(job);
    if (found) return { kind: 'fiscalized', fiscal: found };
    return { kind: 'not-printed', note: `no receipt file for job ${job.id} in ${this.directory}` };
  }

  async snapshot(): Promise<DeviceSnapshot> {
    const snapshot: DeviceSnapshot = {
      id: this.id,
      kind: this.kind,
      online: this.isReady,
      details: {
        fiscal: false,
        directory: this.directory,
        lastReceiptNumber: this.lastNumber,
        currencies: this.currencies,
      },
    };
    if (this.lastError) snapshot.lastError = this.lastError;
    return snapshot;
  }

  openShift(): Promise<ShiftEvent> {
    return Promise.reject(new OperationNotSupportedError(this.kind, 'open shift'));
  }

  closeShift(): Promise<ShiftEvent> {
    return Promise.reject(new OperationNotSupportedError(this.kind, 'close shift'));
  }

  reportX(): Promise<void> {
    return Promise.reject(new OperationNotSupportedError(this.kind, 'X report'));
  }

  cashIn(_amountMinor: number): Promise<void> {
    return Promise.reject(new OperationNotSupportedError(this.kind, 'cash in'));
  }

  cashOut(_amountMinor: number): Promise<void> {
    return Promise.reject(new OperationNotSupportedError(this.kind, 'cash out'));
  }

  // --- internals --------------------------------------------------------------------------------------------

  /** The job's receipt file as FiscalData, or undefined. Throws when the directory cannot be read. */
  private async findReceipt(job: Job): Promise<FiscalData | undefined> {
    const names = await readdir(this.directory);
    const name = names.find((n) => RECEIPT_NAME.exec(n)?.[2] === job.id);
    if (!name) return undefined;
    const path = join(this.directory, name);
    const number = Number(RECEIPT_NAME.exec(name)![1]);
    const trailer = parseTrailer(await readFile(path, 'utf8'));
    if (trailer && trailer.job === job.id) {
      return this.fiscalData(trailer.receipt, trailer.time, trailer.totalMinor, name);
    }
    // Written atomically, so a file without its trailer was edited by hand: its name and age still tell.
    const modified = (await stat(path)).mtime;
    const dateTime = formatIsoWithOffset(wallClockAt(modified, this.options.timeZone), this.options.timeZone);
    return this.fiscalData(number, dateTime, job.bill?.totalMinor ?? job.summary.totalMinor ?? 0, name);
  }

  private fiscalData(receiptNumber: number, dateTime: string, totalMinor: number, file: string): FiscalData {
    return {
      deviceId: this.id,
      deviceKind: this.kind,
      dateTime,
      dateTimeUtc: `${new Date(dateTime).toISOString().slice(0, 19)}.000Z`,
      receiptNumber: String(receiptNumber),
      totalMinor,
      extra: { fiscal: 'no', file },
    };
  }

  private async readCounter(): Promise<number> {
    const text = await readFileIfExists(join(this.directory, NONFISCAL_COUNTER_FILE));
    if (text === undefined) return 0;
    try {
      const value: unknown = JSON.parse(text);
      const last = (value as { lastReceiptNumber?: unknown } | null)?.lastReceiptNumber;
      return typeof last === 'number' && Number.isSafeInteger(last) && last >= 0 ? last : 0;
    } catch {
      // The file names hold the numbers too; a damaged counter is recovered from them.
      return 0;
    }
  }

  private async writeCounter(): Promise<void> {
    try {
      await writeFileDurable(
        join(this.directory, NONFISCAL_COUNTER_FILE),
        `${JSON.stringify({ lastReceiptNumber: this.lastNumber })}\n`,
        { mode: 0o640 },
      );
    } catch (error) {
      // The receipt is written; its file name carries the number, which the next start reads back.
      this.logger.warn({
        event: 'nonfiscal.counter-write-failed',
        device: this.id,
        reason: describeFsError(error),
      });
    }
  }

  private noteError(code: ErrorCode, message: string): void {
    this.lastError = { code, message, at: new Date(this.now()).toISOString() };
  }
}

/** A NonfiscalDevice from its config entry (the agent's `dataDir` and `timeZone` fill the defaults). */
export function createNonfiscalDevice(
  config: NonfiscalDeviceConfig,
  agent: { dataDir: string; timeZone: string; logger: Logger; now?: () => number },
): NonfiscalDevice {
  return new NonfiscalDevice({
    id: config.id,
    directory: nonfiscalDirectory(config, agent.dataDir),
    currencies: config.currencies,
    header: config.header,
    lineWidth: config.lineWidth,
    timeZone: config.timeZone ?? agent.timeZone,
    logger: agent.logger,
    ...(agent.now ? { now: agent.now } : {}),
  });
}
