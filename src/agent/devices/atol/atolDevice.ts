import type { Logger } from 'pino';
import { isOutcomeUnknown } from '../../../drivers/atol/errors.js';
import { type FiscalDocument, Kkt, type KktOptions, type ShiftResult } from '../../../drivers/atol/kkt.js';
import { KktDeviceError } from '../../../drivers/atol/protocol/deviceErrors.js';
import { ValidationError } from '../../../lib/errors.js';
import { fiscalTimes } from '../../../lib/time.js';
import type { ShiftEvent } from '../../connectors/types.js';
import type { FiscalData, Job } from '../../jobs/job.js';
import {
  type DeviceSnapshot,
  deviceErrorSummary,
  FiscalDevice,
  PrintRefusedError,
  type ReconcileOutcome,
} from '../device.js';
import { type AtolReceiptDefaults, billToAtolReceipt } from './receiptMapping.js';

/** FFD document types the reconcile looks at. */
const RECEIPT_DOCUMENT = 3;
/** How many documents past the anchor a reconcile reads before it gives up and asks a person. */
const MAX_RECONCILE_SCAN = 20;

export interface AtolDeviceOptions extends Omit<KktOptions, 'logger'> {
  id: string;
  receiptDefaults?: AtolReceiptDefaults;
  logger: Logger;
}

/**
 * An ATOL register (protocol v3) as a fiscal device. It anchors every print on the FN's last document
 * number and reconciles by reading the documents after it, looking for its own marker (tag 1192).
 */
export class AtolDevice extends FiscalDevice {
  readonly id: string;
  readonly kind = 'atol';
  readonly currencies = ['RUB'] as const;
  private readonly kkt: Kkt;
  private readonly logger: Logger;
  private shiftKnownOpen = false;
  private lastError: DeviceSnapshot['lastError'];

  constructor(private readonly options: AtolDeviceOptions) {
    super();
    this.id = options.id;
    this.logger = options.logger;
    this.kkt = new Kkt({
      ...options,
      logger: options.logger,
      onCommand: (event) => {
        this.lastActivityAt = Date.now();
        options.onCommand?.(event);
      },
    });
    this.kkt.on('connected', () => {
      this.shiftKnownOpen = false;
      this.emit('ready');
    });
    this.kkt.on('disconnected', (error) => this.emit('unready', error?.message ?? 'link closed'));
  }

  get ready(): boolean {
    return this.kkt.isConnected;
  }

  /** The driver, for operations and diagnostics the agent does not wrap (tests, the CLI's emulator checks). */
  get driver(): Kkt {
    return this.kkt;
  }

  async start(): Promise<void> {
    try {
      await this.kkt.start();
    } catch (error) {
      // The driver keeps reconnecting in the background; the agent starts anyway and waits for 'ready'.
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

  /**
   * Opens (or renews an expired) shift explicitly before the anchor is read, so the shift's own documents
   * never sit between the anchor and our receipt.
   */
  async preparePrint(_job: Job): Promise<{ lastDocumentNumberBefore: number; fnSerial: string }> {
    await this.ensureShiftOpen();
    const anchor = await this.kkt.fnAnchor();
    return { lastDocumentNumberBefore: anchor.lastDocumentNumber, fnSerial: anchor.fnSerial };
  }

  private async ensureShiftOpen(): Promise<void> {
    if (this.shiftKnownOpen) return;
    const status = await this.kkt.status();
    if (status.receipt.open) {
      // Left open by an interrupted print whose job has been reconciled already: never fiscalized.
      await this.kkt.cancelOpenReceipt();
    }
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
    try {
      const result =
        job.operation === 'sellReturn' ? await this.kkt.sellReturn(receipt) : await this.kkt.sell(receipt);
      return {
        deviceId: this.id,
        deviceKind: this.kind,
        fiscalDocumentNumber: result.fiscalDocumentNumber,
        fiscalSign: result.fiscalSign,
        ...fiscalTimes(result.dateTime),
        shiftNumber: result.shiftNumber,
        receiptNumber: String(result.receiptNumber),
        fnNumber: result.fnNumber,
        registrationNumber: result.registrationNumber,
        totalMinor: result.totalKop,
      };
    } catch (error) {
      this.noteError(error);
      throw this.translate(error);
    }
  }

  /** Device refusals become `PrintRefusedError`; input problems stay final, device states are retryable. */
  private translate(error: unknown): unknown {
    if (error instanceof KktDeviceError) {
      if (error.deviceCode === 0x88 || error.deviceCode === 0xf0) this.shiftKnownOpen = false;
      return new PrintRefusedError(error.code, error.message, error.kind !== 'input', {
        deviceCode: error.deviceCode,
        deviceText: error.deviceText,
      });
    }
    return error;
  }

  async reconcile(job: Job): Promise<ReconcileOutcome> {
    const before = job.printing?.lastDocumentNumberBefore;
    if (before === undefined)
      return { kind: 'ambiguous', reason: 'no FN anchor was recorded before printing' };
    const { lastDocumentNumber: last, fnSerial } = await this.kkt.fnAnchor();
    if ((job.printing?.fnSerial !== undefined && fnSerial !== job.printing.fnSerial) || last < before) {
      // Another FN counts documents afresh: its numbers say nothing about ours.
      return {
        kind: 'ambiguous',
        reason: `the fiscal storage changed since printing started (FN ${job.printing?.fnSerial} → ${fnSerial})`,
      };
    }
    if (last - before > MAX_RECONCILE_SCAN) {
      return {
        kind: 'ambiguous',
        reason: `the FN moved ${last - before} documents past the anchor ${before}`,
      };
    }
    const foreignReceipts: number[] = [];
    for (let number = before + 1; number <= last; number++) {
      const document = await this.kkt.document(number);
      if (document.documentType !== RECEIPT_DOCUMENT) continue;
      if (document.marker === job.id)
        return { kind: 'fiscalized', fiscal: this.fiscalFromDocument(document) };
      foreignReceipts.push(number);
    }
    if (foreignReceipts.length > 0) {
      return {
        kind: 'ambiguous',
        reason: `receipts ${foreignReceipts.join(', ')} were printed after the anchor ${before} but none carries marker ${job.id}`,
      };
    }
    const cancelled = await this.kkt.cancelOpenReceipt();
    this.shiftKnownOpen = false;
    return {
      kind: 'not-printed',
      note: cancelled
        ? 'an open receipt was cancelled; no fiscal document was made'
        : 'no fiscal document was made',
    };
  }

  private fiscalFromDocument(document: FiscalDocument): FiscalData {
    return {
      deviceId: this.id,
      deviceKind: this.kind,
      fiscalDocumentNumber: document.fiscalDocumentNumber,
      fiscalSign: document.fiscalSign,
      ...fiscalTimes(document.dateTime),
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
      ...fiscalTimes(result.dateTime),
      fnNumber: result.fnNumber,
      registrationNumber: result.registrationNumber,
    };
  }

  async openShift(): Promise<ShiftEvent> {
    const operator = this.options.receiptDefaults?.operator;
    const event = this.shiftEvent(await this.kkt.openShift(operator));
    this.shiftKnownOpen = true;
    this.emit('shift', { type: 'opened', shift: event });
    return event;
  }

  async closeShift(): Promise<ShiftEvent> {
    const event = this.shiftEvent(await this.kkt.closeShift());
    this.shiftKnownOpen = false;
    this.emit('shift', { type: 'closed', shift: event });
    return event;
  }

  reportX(): Promise<void> {
    return this.kkt.reportX();
  }

  cashIn(amountMinor: number): Promise<void> {
    return this.kkt.cashIn(amountMinor);
  }

  cashOut(amountMinor: number): Promise<void> {
    return this.kkt.cashOut(amountMinor);
  }

  async snapshot(): Promise<DeviceSnapshot> {
    const base: DeviceSnapshot = {
      id: this.id,
      kind: this.kind,
      online: this.ready,
      lastError: this.lastError,
    };
    if (!this.ready) return base;
    try {
      const status = await this.kkt.status();
      const fn = await this.kkt.fnInfo();
      const info = this.kkt.deviceInfoCached;
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
          lastDocumentAt: fn.lastDocumentDateTime,
        },
        ofd: { unsentCount: fn.ofd.unsentCount, oldestUnsentAt: fn.ofd.firstUnsentDateTime },
        paper: status.paper,
        coverOpen: status.coverOpen,
        receiptOpen: status.receipt.open,
        details: {
          registrationNumber: fn.registrationNumber,
          inn: fn.inn,
          mode: `${status.mode}.${status.submode}`,
        },
      };
    } catch (error) {
      this.noteError(error);
      if (isOutcomeUnknown(error)) return { ...base, online: this.ready };
      return base;
    }
  }
}
