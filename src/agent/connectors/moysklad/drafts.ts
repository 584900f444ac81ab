import type { Job, ShiftEvent } from '../../jobs/job.js';
import { reportId } from '../../outbox/reportId.js';
import type { AgentEvent, OutboxDraft } from '../../outbox/sink.js';
import type { ConnectorRuntime } from '../runtime.js';
import { isJobOf } from '../sink.js';
import type { MoyskladAccount } from './account.js';
import type { MoyskladAccountConfig } from './config.js';
import { MoyskladReportError } from './errors.js';
import { MOYSKLAD_SOURCE, readSourceData } from './mapping.js';
import {
  type ApproveDraft,
  type ChequeDraft,
  type CloseShiftDraft,
  type OpenShiftDraft,
  REPORT_KINDS,
  type RejectDraft,
  type RetailDemandDraft,
  type ShiftRef,
} from './reports.js';
import type { ShiftCheque, ShiftRecord, ShiftRegistry } from './shifts.js';
import { chequePrinterOf } from './state.js';
import { formatMoment, moyskladTaxSystemOf } from './wire.js';

/**
 * The MoySklad reports of the agent's events. `draft` decides everything a report says once (its syncIds,
 * moments, amounts) and changes nothing: its drafts are thrown away when another sink's draft fails.
 * `recorded` is what the registry learns once the event's drafts are journaled: a shift opened (with the
 * syncId its report carries), a receipt counted, a shift closed, or a shift adopted that MoySklad was never
 * told of (delivery opens it there before its first document).
 */
export class MoyskladDrafts {
  constructor(
    private readonly runtime: ConnectorRuntime,
    private readonly shifts: ShiftRegistry,
    private readonly store: MoyskladAccount,
    private readonly config: MoyskladAccountConfig,
    private readonly softwareVersion: string,
    private readonly hooks: {
      /** The meta of a polled master operation, for its reject. */
      operationMetaOf: (billId: string) => Record<string, string | number | boolean | null> | undefined;
      /** Something visible in `/state` changed (a shift): the reporter looks again soon. */
      kickState: () => void;
    },
  ) {}

  draft(event: AgentEvent): OutboxDraft[] {
    switch (event.type) {
      case 'shift.opened':
        return this.tracksDevice(event.deviceId) ? [this.draftOpenShift(event.deviceId, event.shift)] : [];
      case 'shift.closed':
        return this.tracksDevice(event.deviceId) ? [this.draftCloseShift(event.deviceId, event.shift)] : [];
      case 'job.fiscalized':
        return this.draftFiscalized(event.job);
      case 'job.failed':
        return this.draftFailed(event.job);
    }
  }

  recorded(event: AgentEvent, drafts: readonly OutboxDraft[]): void {
    switch (event.type) {
      case 'shift.opened': {
        const open = drafts.find((draft) => draft.kind === REPORT_KINDS.openShift)?.payload as
          | OpenShiftDraft
          | undefined;
        if (!open) return;
        const record = this.shifts.open({
          deviceId: open.shift.deviceId,
          number: open.shift.number,
          ...(open.shift.fnNumber ? { fnNumber: open.shift.fnNumber } : {}),
          syncId: open.shift.syncId,
          openmoment: open.openmoment,
          ...(event.shift.fiscalDocumentNumber !== undefined
            ? { openFiscalDocumentNumber: event.shift.fiscalDocumentNumber }
            : {}),
          start: open.start,
          adopted: false,
        });
        this.runtime.logger.info(
          {
            event: 'moysklad.shift.drafted',
            account: this.runtime.account,
            device: event.deviceId,
            shift: event.shift.shiftNumber,
            syncId: record.syncId,
          },
          'shift open drafted for MoySklad',
        );
        this.hooks.kickState();
        this.store.refreshSnapshots();
        return;
      }
      case 'shift.closed': {
        if (!this.tracksDevice(event.deviceId)) return;
        const record = this.shifts.find({
          deviceId: event.deviceId,
          number: event.shift.shiftNumber,
          fnNumber: event.shift.fnNumber,
        });
        if (record) this.shifts.close(record, event.shift.dateTimeUtc);
        this.hooks.kickState();
        return;
      }
      case 'job.fiscalized':
        this.recordReceipt(event.job);
        return;
      case 'job.failed':
        return;
    }
  }

  private tracksDevice(deviceId: string): boolean {
    return this.config.device === undefined || this.config.device === deviceId;
  }

  private moment(iso: string): string {
    return formatMoment(iso, this.config.timeZone);
  }

  private isOurs(job: Job): boolean {
    return isJobOf(job, MOYSKLAD_SOURCE, this.runtime.account);
  }

  private draftOpenShift(deviceId: string, shift: ShiftEvent): OutboxDraft {
    const openmoment = this.moment(shift.dateTimeUtc);
    const start = shiftChequeOf(shift, openmoment);
    const payload: OpenShiftDraft = {
      account: this.runtime.account,
      shift: {
        deviceId,
        number: shift.shiftNumber,
        ...(shift.fnNumber ? { fnNumber: shift.fnNumber } : {}),
        syncId: this.shifts.syncIdFor({ fnNumber: shift.fnNumber, number: shift.shiftNumber }),
      },
      name: String(shift.shiftNumber),
      openmoment,
      start,
      adopted: false,
    };
    return { kind: REPORT_KINDS.openShift, payload };
  }

  private draftCloseShift(deviceId: string, shift: ShiftEvent): OutboxDraft {
    const record = this.shifts.find({ deviceId, number: shift.shiftNumber, fnNumber: shift.fnNumber });
    const closemoment = this.moment(shift.dateTimeUtc);
    const end: CloseShiftDraft['end'] = shiftChequeOf(shift, closemoment);
    const chequesTotal = shift.receiptsCount ?? record?.receipts;
    if (chequesTotal !== undefined) end.chequesTotal = chequesTotal;
    // Every fiscal document of the shift lies between its open and close reports, both included.
    const fiscalDocsTotal =
      shift.documentsCount ??
      (record?.openFiscalDocumentNumber !== undefined && shift.fiscalDocumentNumber !== undefined
        ? shift.fiscalDocumentNumber - record.openFiscalDocumentNumber + 1
        : undefined);
    if (fiscalDocsTotal !== undefined && fiscalDocsTotal > 0) end.fiscalDocsTotal = fiscalDocsTotal;
    const payload: CloseShiftDraft = {
      account: this.runtime.account,
      shift: {
        deviceId,
        number: shift.shiftNumber,
        ...(shift.fnNumber ? { fnNumber: shift.fnNumber } : {}),
        ...(record ? { syncId: record.syncId } : {}),
      },
      closemoment,
      ...(record ? { start: record.start } : {}),
      end,
    };
    return { kind: REPORT_KINDS.closeShift, payload };
  }

  /** The shift record a job's receipt went into, if the registry knows it. */
  private shiftOf(job: Job): ShiftRecord | undefined {
    const fiscal = job.fiscal;
    if (!fiscal) return undefined;
    return this.shifts.find({
      deviceId: fiscal.deviceId || job.deviceId,
      number: fiscal.shiftNumber,
      fnNumber: fiscal.fnNumber,
    });
  }

  /**
   * Every receipt of the register counts towards its shift's `chequesTotal`, whatever its source. A receipt
   * of ours in a shift the registry does not know (opened before pairing, or by another program) adopts
   * that shift: MoySklad is told of it before the document is delivered.
   */
  private recordReceipt(job: Job): void {
    const fiscal = job.fiscal;
    if (!fiscal || fiscal.shiftNumber === undefined) return;
    const record = this.shiftOf(job);
    if (record) {
      this.shifts.countReceipt(record);
    } else if (this.isOurs(job) && this.shifts.attached) {
      const openmoment = this.moment(fiscal.dateTimeUtc);
      const start: ShiftCheque = { shiftNumber: String(fiscal.shiftNumber), time: openmoment };
      if (fiscal.fnNumber) start.fnNumber = fiscal.fnNumber;
      if (fiscal.registrationNumber) start.kktRegNumber = fiscal.registrationNumber;
      const adopted = this.shifts.open({
        deviceId: fiscal.deviceId || job.deviceId,
        number: fiscal.shiftNumber,
        ...(fiscal.fnNumber ? { fnNumber: fiscal.fnNumber } : {}),
        openmoment,
        start,
        adopted: true,
        announced: false,
      });
      this.shifts.countReceipt(adopted);
    }
    if (this.isOurs(job) && !this.store.snapshots.get(fiscal.deviceId || job.deviceId)?.model) {
      this.store.refreshSnapshots();
    }
  }

  private draftFiscalized(job: Job): OutboxDraft[] {
    if (!this.isOurs(job)) return [];
    const { account } = this.runtime;
    const fiscal = job.fiscal;
    if (!fiscal) throw new MoyskladReportError(account, `job ${job.id} is fiscalized without fiscal data`);
    const source = readSourceData(job.bill);
    if (!source || !job.bill)
      throw new MoyskladReportError(account, `job ${job.id} carries no MoySklad source data`);
    const deviceId = fiscal.deviceId || job.deviceId;
    const record = this.shiftOf(job);
    const shift: ShiftRef = {
      deviceId,
      ...(fiscal.shiftNumber !== undefined ? { number: fiscal.shiftNumber } : {}),
      ...(fiscal.fnNumber ? { fnNumber: fiscal.fnNumber } : {}),
      ...(record ? { syncId: record.syncId } : {}),
    };
    const time = this.moment(fiscal.dateTimeUtc);
    const cheque: ChequeDraft = {
      fiscal: true,
      online: false,
      printed: true,
      sumKop: fiscal.totalMinor,
      time,
    };
    if (fiscal.receiptNumber !== undefined) cheque.number = fiscal.receiptNumber;
    if (fiscal.fnNumber) cheque.fnNumber = fiscal.fnNumber;
    if (fiscal.fiscalSign) cheque.fiscalDocSign = fiscal.fiscalSign;
    if (fiscal.fiscalDocumentNumber !== undefined)
      cheque.fiscalDocNumber = String(fiscal.fiscalDocumentNumber);
    const snapshot = this.store.snapshots.get(deviceId);
    const chequePrinter = snapshot ? chequePrinterOf(snapshot, this.softwareVersion) : undefined;
    const bill = job.bill;

    if (source.kind === 'master') {
      const taxSystem =
        source.taxSystem ??
        this.store.defaultTaxSystem('master') ??
        (bill.taxationSystem ? moyskladTaxSystemOf(bill.taxationSystem) : undefined);
      const payload: ApproveDraft = {
        account,
        billId: bill.billId,
        operation: source.operation,
        shift,
        cheque,
        ...(chequePrinter ? { chequePrinter } : {}),
        ...(taxSystem ? { taxSystem } : {}),
      };
      return [{ kind: REPORT_KINDS.approve, jobId: job.id, payload }];
    }

    if (source.positions.length !== bill.positions.length) {
      throw new MoyskladReportError(account, `job ${job.id}: positions and source data differ in length`);
    }
    const cashSumKop = bill.payments
      .filter((p) => p.type === 'cash')
      .reduce((sum, p) => sum + p.amountMinor, 0);
    const payload: RetailDemandDraft = {
      account,
      billId: bill.billId,
      // Named by the job (derived from the bill's key): drafted again after an SD-card swap, the document
      // keeps its syncId, MoySklad's unique client-made id (docs/protocol/moysklad-posap.md §2).
      syncId: reportId(this.runtime.name, REPORT_KINDS.retailDemand, job.id),
      shift,
      name: fiscal.fiscalDocumentNumber !== undefined ? String(fiscal.fiscalDocumentNumber) : job.id,
      moment: time,
      customerOrder: source.order,
      ...(source.agent ? { agent: source.agent } : {}),
      vatEnabled: source.vatEnabled,
      positions: bill.positions.map((position, index) => {
        const from = source.positions[index]!;
        return {
          assortment: from.assortment,
          quantityMilli: position.quantityMilli,
          priceKop: position.priceMinor,
          vat: from.vat,
          vatEnabled: from.vatEnabled,
        };
      }),
      cashSumKop,
      noCashSumKop: bill.totalMinor - cashSumKop,
      ...(source.taxSystem ? { taxSystem: source.taxSystem } : {}),
      cheque,
      ...(chequePrinter ? { chequePrinter } : {}),
    };
    return [{ kind: REPORT_KINDS.retailDemand, jobId: job.id, payload }];
  }

  private draftFailed(job: Job): OutboxDraft[] {
    if (!this.isOurs(job)) return [];
    const source = readSourceData(job.bill);
    const billId = job.bill?.billId ?? job.summary.billId;
    if (source?.kind === 'customerorder' || billId.startsWith('customerorder:')) {
      // posap has no "could not fiscalize this order" call: the order stays as it is; status shows the job.
      return [];
    }
    const operation = source?.kind === 'master' ? source.operation : this.hooks.operationMetaOf(billId);
    if (!operation) {
      this.runtime.logger.error(
        { event: 'moysklad.reject.unavailable', account: this.runtime.account, billId },
        'cannot reject: the operation meta is unknown',
      );
      return [];
    }
    const failure = job.failure;
    const message = failure ? `${failure.code}: ${failure.message}` : 'the receipt was not printed';
    const payload: RejectDraft = {
      account: this.runtime.account,
      billId,
      operation,
      fiscalErrMsg: message.slice(0, 1000),
    };
    return [{ kind: REPORT_KINDS.reject, jobId: job.id, payload }];
  }
}

/** posap's `cheque.start` / `cheque.end` from the register's shift report. */
function shiftChequeOf(shift: ShiftEvent, time: string): ShiftCheque {
  const cheque: ShiftCheque = { shiftNumber: String(shift.shiftNumber), time };
  if (shift.fnNumber) cheque.fnNumber = shift.fnNumber;
  if (shift.registrationNumber) cheque.kktRegNumber = shift.registrationNumber;
  if (shift.fiscalSign) cheque.fiscalDocSign = shift.fiscalSign;
  if (shift.fiscalDocumentNumber !== undefined) cheque.fiscalDocNumber = String(shift.fiscalDocumentNumber);
  return cheque;
}
