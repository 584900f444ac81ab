import type { FiscalDocument } from '../../../drivers/atol/kkt.js';
import { type Job, receiptMarker } from '../../jobs/job.js';

/** FFD document types of a receipt (3) and of a correction receipt (31). */
const RECEIPT_DOCUMENTS: ReadonlySet<number> = new Set([3, 31]);
/** How many documents past the anchor a reconcile reads before it gives up and asks a person. */
const MAX_RECONCILE_SCAN = 20;

/** What reading the FN takes: both ATOL backends answer these. */
export interface FnDocumentReader {
  fnAnchor(): Promise<{ lastDocumentNumber: number; fnSerial: string }>;
  document(fiscalDocumentNumber: number): Promise<FiscalDocument>;
}

export type FnScan =
  /** The job's receipt is in the FN. */
  | { kind: 'found'; document: FiscalDocument }
  /** No receipt after the anchor: the job's was never made. */
  | { kind: 'none'; last: number }
  | { kind: 'ambiguous'; reason: string };

/**
 * Reads the documents the FN made after the job's anchor (recorded before printing), looking for the job's
 * marker (tag 1192, `receiptMarker`) in receipts and correction receipts. Shift documents may sit there; a receipt without our marker means someone else
 * printed, and then nothing can be concluded without a person.
 */
export async function scanFnAfterAnchor(fn: FnDocumentReader, job: Job): Promise<FnScan> {
  const before = job.printing?.lastDocumentNumberBefore;
  if (before === undefined) return { kind: 'ambiguous', reason: 'no FN anchor was recorded before printing' };
  const { lastDocumentNumber: last, fnSerial } = await fn.fnAnchor();
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
  const foreignReceipts: number[] = [];
  const marker = receiptMarker(job);
  for (let number = before + 1; number <= last; number++) {
    const document = await fn.document(number);
    if (!RECEIPT_DOCUMENTS.has(document.documentType)) continue;
    if (document.marker === marker) return { kind: 'found', document };
    foreignReceipts.push(number);
  }
  if (foreignReceipts.length > 0) {
    return {
      kind: 'ambiguous',
      reason: `receipts ${foreignReceipts.join(', ')} were printed after the anchor ${before} but none carries marker ${marker}`,
    };
  }
  return { kind: 'none', last };
}
