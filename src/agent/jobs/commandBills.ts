import { ValidationError } from '../../lib/errors.js';
import { type Bill, type BillCorrection, buildPosition, type Position } from '../domain/bill.js';
import type { PaymentType } from '../domain/payment.js';
import {
  isCorrection,
  kindOf,
  operationOf,
  type ReceiptKind,
  type ReceiptOperation,
  returnKindOf,
} from '../domain/receiptKind.js';
import type { Job } from './job.js';

/**
 * The bills a person (CLI) or the cloud (MQTT command) asks for about an earlier job: a return built from
 * its positions, a correction of its settlement (docs/fiscalization.md, "Receipt kinds"). They are plain
 * bills: the intake checks them like any other (kind rules, links, limits) before anything prints.
 */

/** Bills made by a command carry this source: no cloud connector reports them; MQTT and the CLI do. */
export const COMMAND_SOURCE = 'agent';

export interface ReturnLineRequest {
  /** The position's index in the original job's bill (0-based). */
  index: number;
  /** How much of it comes back; the whole position when absent. */
  quantityMilli?: number;
}

export interface ReturnRequest {
  /** Whole positions or parts; every position in full when absent. */
  positions?: ReturnLineRequest[];
  /** How the money goes back; the original's payment type when it had one. */
  payment?: PaymentType;
  /** Buyer's e-mail or phone (tag 1008) for the receipt. */
  emailOrPhone?: string;
  /** How many returns of this job exist already (numbers the return's bill id). */
  returnsSoFar: number;
}

function requireBill(job: Job, what: string): Bill {
  if (!job.bill) {
    throw new ValidationError(
      'jobId',
      `job ${job.id} keeps no bill (it was unreadable or retention dropped it)`,
      {
        what,
      },
    );
  }
  return job.bill;
}

/** The payment type money goes back by: the asked one, else the original's single type. */
function refundPayment(original: Bill, asked: PaymentType | undefined): PaymentType {
  if (asked !== undefined) return asked;
  const types = [...new Set(original.payments.map((p) => p.type))].filter((t) => t !== 'prepaid');
  if (types.length === 1) return types[0]!;
  throw new ValidationError(
    'payment',
    `the original was paid by ${original.payments.map((p) => p.type).join(' and ')}; say how the money goes back (cash or card)`,
  );
}

/** A return of (part of) a printed job: its positions at their price, linked to it for the limit check. */
export function buildReturnBill(original: Job, request: ReturnRequest): { bill: Bill; kind: ReceiptKind } {
  const bill = requireBill(original, 'return');
  const kind = returnKindOf(original.operation);
  if (kind === undefined || isCorrection(original.operation)) {
    throw new ValidationError(
      'jobId',
      `job ${original.id} is a ${original.operation} receipt, which has no return made from its positions`,
    );
  }
  const lines: ReturnLineRequest[] = request.positions ?? bill.positions.map((_, index) => ({ index }));
  if (lines.length === 0) throw new ValidationError('positions', 'name at least one position to return');
  const positions: Position[] = lines.map((line, at) => {
    const field = `positions[${at}]`;
    const source = bill.positions[line.index];
    if (!source) {
      throw new ValidationError(
        `${field}.index`,
        `job ${original.id} has positions 1 to ${bill.positions.length}, not ${line.index + 1}`,
      );
    }
    const quantityMilli = line.quantityMilli ?? source.quantityMilli;
    return buildPosition(
      {
        name: source.name,
        ...(source.code !== undefined ? { code: source.code } : {}),
        priceMinor: source.priceMinor,
        quantityMilli,
        vat: source.vat,
        unit: source.unit,
        paymentMethod: source.paymentMethod,
        paymentObject: source.paymentObject,
      },
      field,
    );
  });
  const totalMinor = positions.reduce((sum, p) => sum + p.amountMinor, 0);
  const returned: Bill = {
    source: COMMAND_SOURCE,
    account: bill.account,
    billId: `${original.id}:return:${request.returnsSoFar + 1}`,
    number: `${bill.number}-R${request.returnsSoFar + 1}`,
    currency: bill.currency,
    ...(bill.taxationSystem ? { taxationSystem: bill.taxationSystem } : {}),
    ...(bill.cashier ? { cashier: bill.cashier } : {}),
    ...(request.emailOrPhone ? { customer: { emailOrPhone: request.emailOrPhone } } : {}),
    ...(bill.order !== undefined ? { order: bill.order } : {}),
    positions,
    payments: [{ type: refundPayment(bill, request.payment), amountMinor: totalMinor }],
    totalMinor,
    relatesTo: { jobId: original.id, positions: lines.map((line) => line.index) },
  };
  return { bill: returned, kind };
}

/** The operation that takes a printed receipt of each operation back. */
const UNDOES: Readonly<Record<ReceiptOperation, ReceiptOperation>> = {
  sell: 'sellReturn',
  sellReturn: 'sell',
  buy: 'buyReturn',
  buyReturn: 'buy',
};

export interface CorrectionRequest {
  /** Tag 1178, `YYYY-MM-DD`: the day of the settlement being corrected. Required. */
  baseDate?: string;
  type?: BillCorrection['type'];
  /** Tag 1179: the tax office's order number (required for `instruction`). */
  baseNumber?: string;
  /** The correction kind; by default what the job's state calls for (below). */
  kind?: ReceiptKind;
}

/** The correction's basis, refused naming the field when the date is missing. */
export function correctionBasis(request: CorrectionRequest): BillCorrection {
  if (request.baseDate === undefined) {
    throw new ValidationError(
      'correction.baseDate',
      'a correction receipt needs the date of the settlement it corrects (tag 1178), YYYY-MM-DD',
    );
  }
  return {
    type: request.type ?? 'self',
    baseDate: request.baseDate,
    ...(request.baseNumber !== undefined ? { baseNumber: request.baseNumber } : {}),
  };
}

/**
 * A correction of an earlier job, for the two real cases: a settlement that was never receipted (the job
 * FAILED: a correction of the same operation with its bill), and a receipt printed with wrong data (the
 * job is FISCALIZED or REPORTED: by default the correction of its return, which takes the wrong receipt
 * back; the right data then goes in as a correction with an inline bill).
 */
export function buildCorrectionBill(
  related: Job,
  request: CorrectionRequest,
  correctionsSoFar: number,
): { bill: Bill; kind: ReceiptKind } {
  const bill = requireBill(related, 'correction');
  if (isCorrection(related.operation)) {
    throw new ValidationError(
      'jobId',
      `job ${related.id} is itself a correction; correct the settlement it corrects`,
    );
  }
  const printed = related.state === 'FISCALIZED' || related.state === 'REPORTED';
  const kind =
    request.kind ??
    kindOf(printed ? UNDOES[operationOf(related.operation)] : operationOf(related.operation), true);
  if (!isCorrection(kind)) throw new ValidationError('kind', `${kind} is not a correction kind`);
  const corrected: Bill = {
    ...bill,
    source: COMMAND_SOURCE,
    billId: `${related.id}:correction:${correctionsSoFar + 1}`,
    correction: correctionBasis(request),
    relatesTo: { jobId: related.id },
  };
  delete corrected.sourceData;
  return { bill: corrected, kind };
}
