import { type ErrorCode, ValidationError } from '../../lib/errors.js';
import type { Bill, Position } from '../domain/bill.js';
import {
  isCorrection,
  isReturn,
  operationOf,
  type ReceiptKind,
  returnKindOf,
} from '../domain/receiptKind.js';
import { ADVANCE_METHODS, amountByMethods, paidBy } from '../domain/receiptRules.js';
import type { Job, RelatedReceipt } from './job.js';
import { type JobLinkInput, orderKey, type ReturnLine } from './links.js';

/**
 * Which links a new job makes (docs/fiscalization.md, "Links"): computed from its bill, its kind and the
 * receipt it relates to, checked and written by the job store in the job's own transaction.
 */

/** The related job is missing or cannot be returned or corrected. Nothing was created. */
export class RelatedJobError extends ValidationError {
  constructor(code: ErrorCode, reason: string, details: Record<string, unknown> = {}) {
    super('relatesTo.jobId', reason, details, code);
  }
}

const PRINTED = new Set<Job['state']>(['FISCALIZED', 'REPORTED']);
/** States in which the related job may still print: correcting it now could make a second receipt. */
const IN_FLIGHT = new Set<Job['state']>(['RECEIVED', 'PRINTING', 'BLOCKED']);

/** The ledger key of a bill's order: its `order`, else the bill itself (a later receipt names it). */
export function orderKeyOf(bill: Pick<Bill, 'source' | 'account' | 'billId' | 'order'>): string {
  return orderKey(bill.source, bill.account, bill.order ?? bill.billId);
}

/** Checks that `related` may be returned or corrected by a receipt of `kind`; throws `RelatedJobError`. */
export function assertRelatable(kind: ReceiptKind, related: Job | undefined, jobId: string): asserts related {
  if (!related) throw new RelatedJobError('RELATED_JOB_UNKNOWN', `no job ${jobId} is known to this agent`);
  if (isReturn(kind)) {
    if (!PRINTED.has(related.state)) {
      throw new RelatedJobError(
        'RELATED_JOB_NOT_RETURNABLE',
        `job ${related.id} is ${related.state}: only a printed receipt (FISCALIZED or REPORTED) can be returned`,
        { state: related.state },
      );
    }
    const undoes = returnKindOf(related.operation);
    if (undoes === undefined || operationOf(undoes) !== operationOf(kind)) {
      throw new RelatedJobError(
        'RELATED_JOB_NOT_RETURNABLE',
        `job ${related.id} is a ${related.operation} receipt, which a ${kind} receipt does not return`,
        { operation: related.operation },
      );
    }
    return;
  }
  if (IN_FLIGHT.has(related.state)) {
    throw new RelatedJobError(
      'RELATED_JOB_IN_FLIGHT',
      `job ${related.id} is ${related.state}: it may still print; correct it once it is FISCALIZED or FAILED ` +
        '(resolve a BLOCKED job first)',
      { state: related.state },
    );
  }
}

/** What a job keeps of the receipt it relates to (its fiscal sign goes into a correction's tag 1192). */
export function relatedReceipt(related: Job): RelatedReceipt {
  return {
    jobId: related.id,
    key: related.key,
    ...(related.fiscal?.fiscalDocumentNumber !== undefined
      ? { fiscalDocumentNumber: related.fiscal.fiscalDocumentNumber }
      : {}),
    ...(related.fiscal?.fiscalSign ? { fiscalSign: related.fiscal.fiscalSign } : {}),
    ...(related.fiscal?.dateTime ? { dateTime: related.fiscal.dateTime } : {}),
  };
}

const samePosition = (a: Position, b: Position) =>
  a.name === b.name && a.priceMinor === b.priceMinor && a.vat === b.vat;

/**
 * The original position each returned position stands for: given by the bill (`relatesTo.positions`, as the
 * refund command builds it), else the first position of the original with the same name, price and VAT.
 * Undefined when one cannot be matched: the return is then checked against the total only.
 */
function returnLines(bill: Bill, original: Bill | undefined): ReturnLine[] | undefined {
  if (!original) return undefined;
  const given = bill.relatesTo?.positions;
  const lines: ReturnLine[] = [];
  for (const [index, position] of bill.positions.entries()) {
    const at = given ? given[index] : original.positions.findIndex((p) => samePosition(p, position));
    if (at === undefined || at < 0) return undefined;
    lines.push({
      index,
      position: at,
      quantityMilli: position.quantityMilli,
      amountMinor: position.amountMinor,
    });
  }
  return lines;
}

/** The order key a related job's advances were booked to. */
function relatedOrderKey(related: Job): string {
  const order = related.bill?.order ?? related.summary.order ?? related.summary.billId;
  return orderKey(related.summary.source, related.summary.account, order);
}

/** The links a bill of `kind` makes. `related` is the job it returns or corrects, already checked. */
export function planLinks(bill: Bill, kind: ReceiptKind, related: Job | undefined): JobLinkInput[] {
  const links: JobLinkInput[] = [];
  const advanceMinor = amountByMethods(bill, ADVANCE_METHODS);
  if (isReturn(kind)) {
    if (related) {
      const lines = returnLines(bill, related.bill);
      links.push({
        kind: 'return',
        target: related.id,
        amountMinor: bill.totalMinor,
        ...(lines ? { lines } : {}),
        limit: {
          totalMinor: related.bill?.totalMinor ?? related.summary.totalMinor ?? 0,
          ...(related.bill
            ? {
                positions: related.bill.positions.map((p) => ({
                  name: p.name,
                  quantityMilli: p.quantityMilli,
                })),
              }
            : {}),
        },
      });
      if (isCorrection(kind))
        links.push({ kind: 'correction', target: related.id, amountMinor: bill.totalMinor });
    }
    if (advanceMinor > 0) {
      const target = related ? relatedOrderKey(related) : orderKeyOf(bill);
      links.push({ kind: 'advanceReturn', target, amountMinor: advanceMinor });
    }
    return links;
  }
  if (isCorrection(kind) && related) {
    links.push({ kind: 'correction', target: related.id, amountMinor: bill.totalMinor });
  }
  const order = orderKeyOf(bill);
  if (advanceMinor > 0) links.push({ kind: 'advance', target: order, amountMinor: advanceMinor });
  // An advance receipted elsewhere is on no ledger of ours: nothing to draw on, nothing to book.
  const offsetMinor = bill.prepaidElsewhere === true ? 0 : paidBy(bill, 'prepaid');
  if (offsetMinor > 0) links.push({ kind: 'offset', target: order, amountMinor: offsetMinor });
  const creditMinor = paidBy(bill, 'credit');
  if (creditMinor > 0) links.push({ kind: 'credit', target: order, amountMinor: creditMinor });
  const repaidMinor = amountByMethods(bill, new Set(['creditPayment']));
  if (repaidMinor > 0) links.push({ kind: 'creditPayment', target: order, amountMinor: repaidMinor });
  return links;
}
