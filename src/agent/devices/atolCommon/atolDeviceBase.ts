import type { Logger } from 'pino';
import type { DeviceInfo, FnInfo, KktStatus, ShiftResult } from '../../../drivers/atol/kkt.js';
import type { ReceiptInput } from '../../../drivers/atol/receipt.js';
import { KktAgentError, ValidationError } from '../../../lib/errors.js';
import { systemTimeZone, wallClockAt } from '../../../lib/time.js';
import type { Bill } from '../../domain/bill.js';
import { VAT_TYPE_NAMES, type VatType } from '../../domain/vat.js';
import { DEFAULT_VAT_POLICY, type VatPolicy } from '../../domain/vatRules.js';
import type { Job, ShiftEvent } from '../../jobs/job.js';
import type { ReceiptHistory } from '../../jobs/receiptHistory.js';
import {
  type DeviceSnapshot,
  deviceErrorSummary,
  FiscalDevice,
  firstIdentificationMarks,
  MarkingUnsupportedError,
  type ReceiptSearch,
} from '../device.js';
import { type DoctorReport, RefusedInSelfTestError } from '../doctorReport.js';
import { shiftEventFromResult } from './fiscalData.js';
import { fnReceiptHistory } from './fnHistory.js';
import { type FnDocumentReader, searchFnForMarker } from './fnScan.js';
import { type AtolReceiptDefaults, atolReceiptNeeds, billToAtolReceipt } from './receiptMapping.js';

/** The part of a register's status the shared logic reads; both backends report at least this. */
export interface AtolRegisterStatus {
  shift: KktStatus['shift'];
  paper: { present: boolean; nearEnd?: boolean };
  coverOpen: boolean;
}

/** What the two ATOL backends (the protocol `Kkt` and the web server's `AtolWebKkt`) answer alike. */
export interface AtolBackend extends FnDocumentReader {
  readonly isConnected: boolean;
  /** Set while the register does not answer on a link that was open (the protocol backend watches this). */
  readonly notAnsweringSince?: string;
  readonly deviceInfoCached: DeviceInfo | undefined;
  on(event: 'connected', listener: () => void): unknown;
  on(event: 'disconnected', listener: (error?: Error) => void): unknown;
  start(): Promise<void>;
  close(): Promise<void>;
  status(): Promise<AtolRegisterStatus>;
  fnInfo(): Promise<FnInfo>;
  openShift(operator?: AtolReceiptDefaults['operator']): Promise<ShiftResult>;
}

export interface AtolDeviceBaseOptions {
  id: string;
  receiptDefaults: AtolReceiptDefaults;
  /** Which VAT rates a receipt may carry on its settlement date; default: the built-in table. */
  vatPolicy?: VatPolicy;
  /** The register clock's zone: its calendar date is the settlement date. Default: the system's. */
  timeZone?: string;
  /** The clock the settlement date is read from (tests). */
  now?: () => Date;
  logger: Logger;
}

/** A snapshot's fields that come from the register (the rest say which device it is and how it fares). */
export type RegisterSnapshot = Omit<DeviceSnapshot, 'id' | 'kind' | 'online' | 'lastError'>;

/**
 * What the ATOL adapters share, whichever backend carries their commands: following the backend's
 * connection, the error a snapshot shows, the shift opened before the anchor of every print, and the
 * snapshot's frame. Each adapter keeps how it prints, reads refusals and reconciles.
 */
export abstract class AtolDeviceBase<Backend extends AtolBackend> extends FiscalDevice {
  readonly id: string;
  readonly currencies = ['RUB'] as const;
  /** The FN keeps every receipt with our marker: it is read back after a lost store. */
  readonly readBack = 'history' as const;
  protected readonly kkt: Backend;
  protected readonly logger: Logger;
  protected readonly receiptDefaults: AtolReceiptDefaults;
  private readonly vatPolicy: VatPolicy | undefined;
  private readonly settlementTimeZone: string;
  private readonly now: () => Date;
  /** Cleared whenever the register may have changed behind the agent's back: look before the next print. */
  protected shiftKnownOpen = false;
  private lastError: DeviceSnapshot['lastError'];

  /**
   * `createBackend` gets the callback to run on every exchange with the register (the watchdog's liveness
   * probe); `unreachableReason` is what 'unready' says when the backend gives no error.
   */
  protected constructor(
    options: AtolDeviceBaseOptions,
    createBackend: (noteActivity: () => void) => Backend,
    unreachableReason: string,
  ) {
    super();
    this.id = options.id;
    this.logger = options.logger;
    this.receiptDefaults = options.receiptDefaults;
    this.vatPolicy = options.vatPolicy;
    this.settlementTimeZone = options.timeZone ?? systemTimeZone();
    this.now = options.now ?? (() => new Date());
    this.kkt = createBackend(() => {
      this.lastActivityAt = Date.now();
    });
    this.kkt.on('connected', () => {
      this.shiftKnownOpen = false;
      this.emit('ready');
    });
    this.kkt.on('disconnected', (error) => {
      if (error) this.noteError(error);
      this.emit('unready', error?.message ?? unreachableReason);
    });
  }

  get ready(): boolean {
    return this.kkt.isConnected;
  }

  override history(): ReceiptHistory {
    return fnReceiptHistory(this, this.kkt);
  }

  override searchReceipt(job: Job): Promise<ReceiptSearch> {
    return searchFnForMarker(this.kkt, job);
  }

  /** A Russian register takes Честный ЗНАК codes (where its backend can), never Belarusian marks. */
  override admit(bill: Bill): KktAgentError | undefined {
    const marks = firstIdentificationMarks(bill);
    if (marks) {
      return new MarkingUnsupportedError(
        this.id,
        this.kind,
        marks,
        'is a Russian register: Belarusian marks (СИ, УКЗ) go to a SmartX terminal',
      );
    }
    return undefined;
  }

  /** The backend, for operations and diagnostics the agent does not wrap (tests, the CLI's emulator checks). */
  get driver(): Backend {
    return this.kkt;
  }

  async start(): Promise<void> {
    try {
      await this.kkt.start();
    } catch (error) {
      // The backend keeps reconnecting in the background; the agent starts anyway and waits for 'ready'.
      this.noteError(error);
      this.logger.warn({ event: 'device.connect-failed', device: this.id, reason: (error as Error).message });
    }
  }

  async stop(): Promise<void> {
    await this.kkt.close();
  }

  protected noteError(error: unknown): void {
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
    const status = await this.statusBeforePrint();
    if (status.shift.state === 'expired') {
      this.logger.warn({ event: 'device.shift-expired', device: this.id, shift: status.shift.number });
      await this.closeShift();
    }
    if (status.shift.state !== 'open') await this.openShift();
    this.shiftKnownOpen = true;
  }

  /** The register's status as a print finds it; an adapter whose register can hold a stale receipt clears it here. */
  protected statusBeforePrint(): Promise<AtolRegisterStatus> {
    return this.kkt.status();
  }

  /**
   * The job's bill as an ATOL receipt, its texts in CP866 and its VAT rates checked for today's date on the
   * register; a job without a valid bill never reaches the register.
   */
  protected receiptFor(job: Job): ReceiptInput {
    if (!job.bill) throw new ValidationError('bill', 'the job carries no valid bill');
    const { year, month, day } = wallClockAt(this.now(), this.settlementTimeZone);
    const settlementDate = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    const { receipt, normalisedFields } = billToAtolReceipt(job, job.bill, {
      defaults: this.receiptDefaults,
      ...(this.vatPolicy ? { vatPolicy: this.vatPolicy } : {}),
      settlementDate,
    });
    if (normalisedFields.length > 0) {
      this.logger.info({
        event: 'device.text-normalised',
        device: this.id,
        job: job.id,
        fields: normalisedFields,
      });
    }
    return receipt;
  }

  /** Every VAT rate the configured rate table allows in any period: what the self-test probes. */
  protected probeRates(): VatType[] {
    const table = (this.vatPolicy ?? DEFAULT_VAT_POLICY).table;
    const used = new Set(table.flatMap((period) => period.rates.flatMap((rule) => rule.vat)));
    return VAT_TYPE_NAMES.filter((vat) => used.has(vat));
  }

  /** The `EB` byte this device sends for a rate now (a finding about another byte no longer applies). */
  protected currentTaxByte(_vat: string): number | undefined {
    return undefined;
  }

  /**
   * Refuses a bill whose receipt needs something the register refused in the last self-test. A finding
   * about another register (its serial changed) or about a tax byte no longer configured is not applied.
   */
  override admissionRefusal(bill: Bill, report: DoctorReport): ValidationError | undefined {
    const serial = this.kkt.deviceInfoCached?.serial;
    if (serial !== undefined && report.identity?.serial !== undefined && serial !== report.identity.serial)
      return undefined;
    for (const need of atolReceiptNeeds(bill, this.receiptDefaults)) {
      const finding = report.findings.find((f) => f.feature === need.feature && f.verdict === 'refused');
      if (!finding) continue;
      if (need.feature.startsWith('vat:') && finding.byte !== this.currentTaxByte(need.feature.slice(4)))
        continue;
      return new RefusedInSelfTestError(need.field, this.id, finding, report.at);
    }
    return undefined;
  }

  async openShift(): Promise<ShiftEvent> {
    return this.shiftChanged('opened', await this.kkt.openShift(this.receiptDefaults.operator));
  }

  /** Records a shift the agent opened or closed and tells the listeners. */
  protected shiftChanged(type: 'opened' | 'closed', result: ShiftResult): ShiftEvent {
    const event = shiftEventFromResult(result);
    this.shiftKnownOpen = type === 'opened';
    this.emit('shift', { type, shift: event });
    return event;
  }

  async snapshot(): Promise<DeviceSnapshot> {
    const base: DeviceSnapshot = {
      id: this.id,
      kind: this.kind,
      online: this.ready,
      lastError: this.lastError,
    };
    const silentSince = this.kkt.notAnsweringSince;
    if (silentSince !== undefined) base.notAnsweringSince = silentSince;
    if (!this.ready) return this.offlineSnapshot(base);
    try {
      return { ...base, ...(await this.readRegisterSnapshot()) };
    } catch (error) {
      this.noteError(error);
      if (error instanceof KktAgentError && error.outcome === 'unknown')
        return { ...base, online: this.ready };
      return base;
    }
  }

  /** What a snapshot shows while the register is unreachable. */
  protected offlineSnapshot(base: DeviceSnapshot): DeviceSnapshot {
    return base;
  }

  /** Reads the register for a snapshot: the shared fields (`registerFields`) and the backend's own. */
  protected abstract readRegisterSnapshot(): Promise<RegisterSnapshot>;

  /** The snapshot fields both backends report alike. */
  protected registerFields(status: AtolRegisterStatus, fn: FnInfo): RegisterSnapshot {
    const info = this.kkt.deviceInfoCached;
    return {
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
        // The web server reports no time for an FN that holds no document yet.
        lastDocumentAt: fn.lastDocumentDateTime || undefined,
      },
      ofd: { unsentCount: fn.ofd.unsentCount, oldestUnsentAt: fn.ofd.firstUnsentDateTime },
      paper: status.paper,
      coverOpen: status.coverOpen,
    };
  }
}
