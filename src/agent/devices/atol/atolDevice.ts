import { KktTaxRateUnknownError, KktUnsupportedFfdError } from '../../../drivers/atol/errors.js';
import { Kkt, type KktOptions, type KktStatus } from '../../../drivers/atol/kkt.js';
import { KktDeviceError } from '../../../drivers/atol/protocol/deviceErrors.js';
import type { TaxType } from '../../../drivers/atol/taxBytes.js';
import type { LinkTap } from '../../../drivers/atol/transport/link.js';
import type { KktAgentError } from '../../../lib/errors.js';
import type { Bill } from '../../domain/bill.js';
import type { FiscalData, Job, ShiftEvent } from '../../jobs/job.js';
import {
  AtolDeviceBase,
  type AtolDeviceBaseOptions,
  type RegisterSnapshot,
} from '../atolCommon/atolDeviceBase.js';
import { fiscalDataFromReceipt } from '../atolCommon/fiscalData.js';
import { scanFnAfterAnchor } from '../atolCommon/fnScan.js';
import {
  firstMarkedPosition,
  MarkingUnsupportedError,
  PrintRefusedError,
  type ReconcileOutcome,
} from '../device.js';
import type { DoctorOptions, DoctorReport } from '../doctorReport.js';
import { doctorReportOf } from './selfTestReport.js';

export interface AtolDeviceOptions extends Omit<KktOptions, 'logger'>, AtolDeviceBaseOptions {}

/**
 * An ATOL register (protocol v3) as a fiscal device. It anchors every print on the FN's last document
 * number and reconciles by reading the documents after it, looking for its own marker (tag 1192).
 */
export class AtolDevice extends AtolDeviceBase<Kkt> {
  readonly kind = 'atol';

  constructor(options: AtolDeviceOptions) {
    super(
      options,
      (noteActivity) =>
        new Kkt({
          ...options,
          logger: options.logger,
          onCommand: (event) => {
            noteActivity();
            options.onCommand?.(event);
          },
        }),
      'link closed',
    );
  }

  /**
   * No public source shows platform 2.5 firmware's FFD 1.2 marking commands over protocol v3 (the code
   * check in the FN, its acceptance, tags 2106/2110; docs/marking.md, "Backends"): marked goods are
   * refused here, before a job exists, rather than printed as unmarked.
   */
  override admit(bill: Bill): KktAgentError | undefined {
    const marked = firstMarkedPosition(bill);
    if (marked) {
      return new MarkingUnsupportedError(
        this.id,
        this.kind,
        marked,
        'speaks ATOL protocol v3, which cannot check and sell marked goods (Честный ЗНАК): ' +
          'connect this register through ATOL driver 10 (device kind "atol-web", docs/marking.md)',
      );
    }
    return super.admit(bill);
  }

  /** A receipt left open by an interrupted print, whose job has been reconciled already, was never fiscalized. */
  protected override async statusBeforePrint(): Promise<KktStatus> {
    const status = await this.kkt.status();
    if (status.receipt.open) await this.kkt.cancelOpenReceipt();
    return status;
  }

  async print(job: Job): Promise<FiscalData> {
    const receipt = this.receiptFor(job);
    try {
      const result =
        job.operation === 'sellReturn' ? await this.kkt.sellReturn(receipt) : await this.kkt.sell(receipt);
      return fiscalDataFromReceipt(this, result);
    } catch (error) {
      this.noteError(error);
      throw this.translate(error);
    }
  }

  /**
   * Device refusals become `PrintRefusedError`; input problems stay final, device states are retryable.
   * A rate or FFD version the register's configuration cannot carry is final too: nothing was sent, and
   * retrying changes nothing until a person fixes the configuration.
   */
  private translate(error: unknown): unknown {
    if (error instanceof KktTaxRateUnknownError || error instanceof KktUnsupportedFfdError) {
      return new PrintRefusedError(error.code, error.message, false, error.details);
    }
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
    const scan = await scanFnAfterAnchor(this.kkt, job);
    if (scan.kind === 'ambiguous') return { kind: 'ambiguous', reason: scan.reason };
    if (scan.kind === 'found')
      return { kind: 'fiscalized', fiscal: fiscalDataFromReceipt(this, scan.document) };
    const cancelled = await this.kkt.cancelOpenReceipt();
    this.shiftKnownOpen = false;
    return {
      kind: 'not-printed',
      note: cancelled
        ? 'an open receipt was cancelled; no fiscal document was made'
        : 'no fiscal document was made',
    };
  }

  /**
   * The self-test of docs/atol-backends.md: identity and state, then every tag the agent writes and every
   * rate the VAT table allows, probed inside a receipt the register cancels. A probe that stopped halfway
   * may leave that receipt open: the next print looks at the register first and cancels it.
   */
  override async doctor(options: DoctorOptions = {}): Promise<DoctorReport> {
    if (!this.ready) return super.doctor(options);
    const report = await this.kkt.selfTest({
      rates: this.probeRates(),
      operator: this.receiptDefaults.operator,
      ...(this.receiptDefaults.taxationType ? { taxationType: this.receiptDefaults.taxationType } : {}),
      openShift: options.openShift === true,
      ...(options.onProbe ? { onProbe: options.onProbe } : {}),
    });
    if (report.shiftOpened) this.shiftChanged('opened', report.shiftOpened);
    if (report.interrupted) this.shiftKnownOpen = false;
    return doctorReportOf(this.id, this.kind, report);
  }

  override traceWire(tap: (() => LinkTap) | undefined): (() => LinkTap) | undefined {
    return this.kkt.traceWire(tap);
  }

  protected override currentTaxByte(vat: string): number | undefined {
    return this.kkt.taxBytes.byteFor(vat as TaxType);
  }

  async closeShift(): Promise<ShiftEvent> {
    return this.shiftChanged('closed', await this.kkt.closeShift());
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

  protected async readRegisterSnapshot(): Promise<RegisterSnapshot> {
    const status = await this.kkt.status();
    const fn = await this.kkt.fnInfo();
    return {
      ...this.registerFields(status, fn),
      receiptOpen: status.receipt.open,
      details: {
        registrationNumber: fn.registrationNumber,
        inn: fn.inn,
        mode: `${status.mode}.${status.submode}`,
      },
    };
  }
}
