import type { Logger } from 'pino';
import { isOutcomeUnknown } from '../../../drivers/atol/errors.js';
import type { FiscalDocument, FiscalResult, ShiftResult } from '../../../drivers/atol/kkt.js';
import {
  AtolWebKkt,
  type AtolWebKktOptions,
  type FiscalRequestState,
  KktDriverError,
  KktWebError,
} from '../../../drivers/atol/web/index.js';
import { KktAgentError, ValidationError } from '../../../lib/errors.js';
import { fiscalTimes } from '../../../lib/time.js';
import type { ShiftEvent } from '../../connectors/types.js';
import type { FiscalData, Job } from '../../jobs/job.js';
import { type AtolReceiptDefaults, billToAtolReceipt } from '../atol/receiptMapping.js';
import {
  type DeviceSnapshot,
  deviceErrorSummary,
  FiscalDevice,
  PrintRefusedError,
  type ReconcileOutcome,
} from '../device.js';

/** FFD document type of a receipt. */
const RECEIPT_DOCUMENT = 3;
/** How many documents past the anchor a reconcile reads before it gives up and asks a person. */
const MAX_RECONCILE_SCAN = 20;

export interface AtolWebDeviceOptions {
  id: string;
  /** The web server and how to talk to it. */
  server: Omit<AtolWebKktOptions, 'logger' | 'onExchange'>;
  receiptDefaults?: AtolReceiptDefaults;
  /** How long a reconcile waits for a request the server is still running; default the task timeout. */
  reconcileWaitMs?: number;
  logger: Logger;
}

/** A request is still queued or running on the web server: the reconcile waits for it and tries again. */
export class RequestStillRunningError extends KktAgentError {
  readonly outcomeUnknown = true;

  constructor(uuid: string) {
    super(
      'KKT_WEB_REQUEST_PENDING',
      `Request ${uuid} is still queued or running on the ATOL web server; the job waits for its result.`,
      { uuid },
    );
  }
}

type FnScan =
  | { kind: 'found'; document: FiscalDocument }
  | { kind: 'none'; last: number }
  | { kind: 'ambiguous'; reason: string };

/**
 * An ATOL register behind driver 10's web server as a fiscal device (kind `atol-web`). Each job is one
 * request chain on the server whose uuid is the job id, so the server itself refuses a second copy (409)
 * and keeps the result of the first. As a second line of defence the adapter anchors every print on the
 * FN's last document number, like the protocol device, and its reconcile reads the documents after the
 * anchor for its marker (tag 1192) whenever the server cannot say "done".
 */
export class AtolWebDevice extends FiscalDevice {
  readonly id: string;
  readonly kind = 'atol-web';
  readonly currencies = ['RUB'] as const;
  private readonly kkt: AtolWebKkt;
  private readonly logger: Logger;
  private shiftKnownOpen = false;
  private lastError: DeviceSnapshot['lastError'];
  /** Per job, request uuids a reconcile proved (on the FN) did nothing: a re-print moves past them. */
  private readonly retired = new Map<string, Set<string>>();

  constructor(private readonly options: AtolWebDeviceOptions) {
    super();
    this.id = options.id;
    this.logger = options.logger;
    this.kkt = new AtolWebKkt({
      ...options.server,
      logger: options.logger,
      onExchange: () => {
        this.lastActivityAt = Date.now();
      },
    });
    this.kkt.on('connected', () => {
      this.shiftKnownOpen = false;
      this.emit('ready');
    });
    this.kkt.on('disconnected', (error) =>
      this.emit('unready', error?.message ?? 'the web server is unreachable'),
    );
  }

  get ready(): boolean {
    return this.kkt.isConnected;
  }

  /** The backend, for operations the agent does not wrap (tests, diagnostics). */
  get driver(): AtolWebKkt {
    return this.kkt;
  }

  async start(): Promise<void> {
    try {
      await this.kkt.start();
    } catch (error) {
      // The backend keeps probing in the background; the agent starts anyway and waits for 'ready'.
      this.noteError(error);
      this.logger.warn({ event: 'device.connect-failed', device: this.id, reason: (error as Error).message });
    }
  }

  async stop(): Promise<void> {
    await this.kkt.close();
  }

  private noteError(error: unknown): void {
    this.lastError = deviceErrorSummary(error);
  }

  /** Opens (or renews an expired) shift before the anchor is read, so shift documents never sit after it. */
  async preparePrint(_job: Job): Promise<{ lastDocumentNumberBefore: number; fnSerial: string }> {
    await this.ensureShiftOpen();
    const anchor = await this.kkt.fnAnchor();
    return { lastDocumentNumberBefore: anchor.lastDocumentNumber, fnSerial: anchor.fnSerial };
  }

  private async ensureShiftOpen(): Promise<void> {
    if (this.shiftKnownOpen) return;
    const status = await this.kkt.status();
    if (status.shift.state === 'expired') {
      this.logger.warn({ event: 'device.shift-expired', device: this.id, shift: status.shift.number });
      await this.closeShift();
    }
    if (status.shift.state !== 'open') await this.openShift();
    this.shiftKnownOpen = true;
  }

  async print(job: Job): Promise<FiscalData> {
    if (!job.bill) throw new ValidationError('bill', 'the job carries no valid bill');
    const receipt = billToAtolReceipt(job, job.bill, this.options.receiptDefaults ?? {});
    const request = { requestId: job.id, retired: this.retired.get(job.id) };
    try {
      const result =
        job.operation === 'sellReturn'
          ? await this.kkt.sellReturn(receipt, request)
          : await this.kkt.sell(receipt, request);
      this.retired.delete(job.id);
      return this.fiscalFromResult(result);
    } catch (error) {
      this.noteError(error);
      if (error instanceof KktDriverError) {
        const found = await this.confirmRefusal(job, error);
        if (found) return found;
      }
      throw this.translate(error);
    }
  }

  /**
   * The driver runs a whole receipt per task, so a refusal could in principle come after the FN closed the
   * document (⚠ unverified on real hardware). The FN is asked: our marker after the anchor means the
   * receipt exists after all. Anything short of finding it leaves the driver's definite refusal standing.
   */
  private async confirmRefusal(job: Job, refusal: KktDriverError): Promise<FiscalData | undefined> {
    let scan: FnScan;
    try {
      scan = await this.scanFn(job);
    } catch (error) {
      this.logger.warn({
        event: 'device.refusal-unchecked',
        device: this.id,
        job: job.id,
        code: refusal.code,
        reason: (error as Error).message,
      });
      return undefined;
    }
    if (scan.kind !== 'found') return undefined;
    this.logger.warn({
      event: 'device.refusal-contradicted',
      device: this.id,
      job: job.id,
      code: refusal.code,
    });
    this.retired.delete(job.id);
    return this.fiscalFromDocument(scan.document);
  }

  /** Driver refusals become `PrintRefusedError`; input problems stay final, device states are retryable. */
  private translate(error: unknown): unknown {
    if (error instanceof KktDriverError) {
      // The shift expired, was closed behind the agent's back, or the register is in some other state:
      // look at it again before the next print.
      if (error.kind === 'state') this.shiftKnownOpen = false;
      return new PrintRefusedError(error.code, error.message, error.kind !== 'input', {
        driverCode: error.driverCode,
        deviceCode: error.deviceCode,
        deviceText: error.deviceText,
      });
    }
    if (error instanceof KktWebError)
      return new PrintRefusedError(error.code, error.message, true, error.details);
    return error;
  }

  async reconcile(job: Job): Promise<ReconcileOutcome> {
    const retired = this.retired.get(job.id);
    const state = await this.kkt.findRequest({ requestId: job.id, retired }, this.options.reconcileWaitMs);
    if (state.state === 'done') {
      this.retired.delete(job.id);
      return { kind: 'fiscalized', fiscal: this.fiscalFromResult(state.result) };
    }
    if (state.state === 'pending') throw new RequestStillRunningError(state.uuid);
    if (job.printing?.lastDocumentNumberBefore === undefined) {
      return {
        kind: 'ambiguous',
        reason: `${describe(state)}, and no FN anchor was recorded before printing`,
      };
    }
    const scan = await this.scanFn(job);
    if (scan.kind === 'found') {
      this.retired.delete(job.id);
      return { kind: 'fiscalized', fiscal: this.fiscalFromDocument(scan.document) };
    }
    if (scan.kind === 'ambiguous') return { kind: 'ambiguous', reason: `${describe(state)}; ${scan.reason}` };
    if (state.state === 'uncertain') {
      const set = this.retired.get(job.id) ?? new Set<string>();
      set.add(state.uuid);
      this.retired.set(job.id, set);
    }
    this.shiftKnownOpen = false;
    return {
      kind: 'not-printed',
      note: `${describe(state)}, and the FN holds no receipt after FD ${job.printing.lastDocumentNumberBefore} (last FD ${scan.last})`,
    };
  }

  /** Reads the documents after the job's anchor, looking for its marker. */
  private async scanFn(job: Job): Promise<FnScan> {
    const before = job.printing?.lastDocumentNumberBefore;
    if (before === undefined)
      return { kind: 'ambiguous', reason: 'no FN anchor was recorded before printing' };
    const { lastDocumentNumber: last, fnSerial } = await this.kkt.fnAnchor();
    const anchoredSerial = job.printing?.fnSerial;
    if ((anchoredSerial !== undefined && fnSerial !== anchoredSerial) || last < before) {
      // Another FN counts documents afresh: its numbers say nothing about ours.
      return {
        kind: 'ambiguous',
        reason: `the fiscal storage changed since printing started (FN ${anchoredSerial ?? '?'} → ${fnSerial})`,
      };
    }
    if (last - before > MAX_RECONCILE_SCAN) {
      return {
        kind: 'ambiguous',
        reason: `the FN moved ${last - before} documents past the anchor ${before}`,
      };
    }
    const foreign: number[] = [];
    for (let number = before + 1; number <= last; number++) {
      const document = await this.kkt.document(number);
      if (document.documentType !== RECEIPT_DOCUMENT) continue;
      if (document.marker === job.id) return { kind: 'found', document };
      foreign.push(number);
    }
    if (foreign.length > 0) {
      return {
        kind: 'ambiguous',
        reason: `receipts ${foreign.join(', ')} were printed after the anchor ${before} but none carries marker ${job.id}`,
      };
    }
    return { kind: 'none', last };
  }

  private fiscalFromResult(result: FiscalResult): FiscalData {
    return {
      deviceId: this.id,
      deviceKind: this.kind,
      fiscalDocumentNumber: result.fiscalDocumentNumber,
      fiscalSign: result.fiscalSign,
      ...fiscalTimes(result.dateTime || undefined),
      shiftNumber: result.shiftNumber,
      receiptNumber: String(result.receiptNumber),
      fnNumber: result.fnNumber,
      registrationNumber: result.registrationNumber,
      totalMinor: result.totalKop,
    };
  }

  private fiscalFromDocument(document: FiscalDocument): FiscalData {
    return {
      deviceId: this.id,
      deviceKind: this.kind,
      fiscalDocumentNumber: document.fiscalDocumentNumber,
      fiscalSign: document.fiscalSign,
      ...fiscalTimes(document.dateTime || undefined),
      shiftNumber: document.shiftNumber,
      receiptNumber: document.receiptNumber === undefined ? undefined : String(document.receiptNumber),
      fnNumber: document.fnNumber,
      registrationNumber: document.registrationNumber,
      totalMinor: document.totalKop ?? 0,
    };
  }

  private shiftEvent(result: ShiftResult): ShiftEvent {
    return {
      shiftNumber: result.shiftNumber,
      fiscalDocumentNumber: result.fiscalDocumentNumber,
      fiscalSign: result.fiscalSign,
      ...fiscalTimes(result.dateTime || undefined),
      fnNumber: result.fnNumber,
      registrationNumber: result.registrationNumber,
    };
  }

  async openShift(): Promise<ShiftEvent> {
    const event = this.shiftEvent(await this.kkt.openShift(this.options.receiptDefaults?.operator));
    this.shiftKnownOpen = true;
    this.emit('shift', { type: 'opened', shift: event });
    return event;
  }

  async closeShift(): Promise<ShiftEvent> {
    const event = this.shiftEvent(await this.kkt.closeShift(this.options.receiptDefaults?.operator));
    this.shiftKnownOpen = false;
    this.emit('shift', { type: 'closed', shift: event });
    return event;
  }

  reportX(): Promise<void> {
    return this.kkt.reportX(this.options.receiptDefaults?.operator);
  }

  cashIn(amountMinor: number): Promise<void> {
    return this.kkt.cashIn(amountMinor, this.options.receiptDefaults?.operator);
  }

  cashOut(amountMinor: number): Promise<void> {
    return this.kkt.cashOut(amountMinor, this.options.receiptDefaults?.operator);
  }

  async snapshot(): Promise<DeviceSnapshot> {
    const base: DeviceSnapshot = {
      id: this.id,
      kind: this.kind,
      online: this.ready,
      lastError: this.lastError,
    };
    if (!this.ready) return { ...base, details: { url: this.kkt.url } };
    try {
      const status = await this.kkt.status();
      const fn = await this.kkt.fnInfo();
      const info = this.kkt.deviceInfoCached;
      this.shiftKnownOpen = status.shift.state === 'open';
      return {
        ...base,
        model: info?.modelName,
        serial: info?.serial,
        firmware: info?.firmwareVersion,
        shift: status.shift,
        fn: {
          serial: fn.serial,
          validUntil: fn.validUntil,
          warnings: Object.entries(fn.warnings)
            .filter(([, on]) => on)
            .map(([name]) => name),
          lastDocumentNumber: fn.lastDocumentNumber,
          lastDocumentAt: fn.lastDocumentDateTime || undefined,
        },
        ofd: { unsentCount: fn.ofd.unsentCount, oldestUnsentAt: fn.ofd.firstUnsentDateTime },
        paper: status.paper,
        coverOpen: status.coverOpen,
        details: {
          url: this.kkt.url,
          platform: info?.platform,
          registrationNumber: fn.registrationNumber,
          inn: fn.inn,
          blocked: status.blocked,
        },
      };
    } catch (error) {
      this.noteError(error);
      if (isOutcomeUnknown(error)) return { ...base, online: this.ready };
      return base;
    }
  }
}

function describe(state: FiscalRequestState): string {
  switch (state.state) {
    case 'unknown':
      return 'the web server holds no request for the job';
    case 'refused':
      return `request ${state.uuid} was refused (${state.error.code})`;
    case 'uncertain':
      return `request ${state.uuid} ended without a clear result (${state.reason})`;
    default:
      return `request ${state.state}`;
  }
}
