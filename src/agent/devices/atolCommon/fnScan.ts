import { RECEIPT_DOCUMENT_TYPES } from '../../../drivers/atol/documentFields.js';
import type { FiscalDocument } from '../../../drivers/atol/kkt.js';
import { type Job, receiptMarker } from '../../jobs/job.js';
import type { ReceiptSearch } from '../device.js';

/** How many documents past the anchor a reconcile reads before it gives up and asks a person. */
const MAX_RECONCILE_SCAN = 20;

/** What reading the FN takes: both ATOL backends answer these. */
export interface FnDocumentReader {
  fnAnchor(): Promise<{ lastDocumentNumber: number; fnSerial: string }>;
  /** `history`: a receipt in full, any other document only as far as its date-time (when that is cheaper). */
  document(fiscalDocumentNumber: number, extent?: 'full' | 'history'): Promise<FiscalDocument>;
}

export type FnScan =
  /** The job's receipt is in the FN. */
  | { kind: 'found'; document: FiscalDocument }
  /** No receipt after the anchor: the job's was never made. */
  | { kind: 'none'; last: number }
  | { kind: 'ambiguous'; reason: string };

/**
 * The documents `from`…`to` (inclusive), read one at a time: `up` from the older to the newer, `down` from
 * the newer back. A range empty in that direction (nothing after an anchor) reads nothing: a number past
 * the FN's last document would be refused (`DA`), and a reconcile would take that for a register that
 * cannot be asked.
 */
export async function* fnDocuments(
  fn: FnDocumentReader,
  from: number,
  to: number,
  extent: 'full' | 'history' = 'full',
  direction: 'up' | 'down' = 'up',
): AsyncGenerator<FiscalDocument> {
  if (direction === 'up')
    for (let number = from; number <= to; number++) yield await fn.document(number, extent);
  else for (let number = from; number >= to; number--) yield await fn.document(number, extent);
}

/**
 * The receipt carrying `marker` among the FN's documents `newest` back to `oldest`, or
 * undefined: the one FN-scan-by-marker that a reconcile, a person's "not printed" and a rebuild share.
 */
export async function findReceiptByMarker(
  fn: FnDocumentReader,
  marker: string,
  newest: number,
  oldest: number,
): Promise<FiscalDocument | undefined> {
  for await (const document of fnDocuments(fn, newest, oldest, 'history', 'down')) {
    if (RECEIPT_DOCUMENT_TYPES.has(document.documentType) && document.marker === marker) return document;
  }
  return undefined;
}

/** How many documents back a search for a person's "not printed" reads before it gives up. */
export const MAX_MARKER_SEARCH = 5000;

/**
 * Searches the FN for a job's receipt by its marker, newest document first, down to the job's anchor (the
 * last document before its first print). Receipts of other jobs may sit in between: a person's "not
 * printed" needs only to know that none of them is this job's.
 */
export async function searchFnForMarker(fn: FnDocumentReader, job: Job): Promise<ReceiptSearch> {
  const { lastDocumentNumber: last, fnSerial } = await fn.fnAnchor();
  const before = job.printing?.lastDocumentNumberBefore;
  const anchoredSerial = job.printing?.fnSerial;
  if (before === undefined)
    return { kind: 'unknown', reason: 'no FN anchor was recorded before printing, so no range to search' };
  if ((anchoredSerial !== undefined && anchoredSerial !== fnSerial) || last < before)
    return {
      kind: 'unknown',
      reason: `the fiscal storage changed since printing started (FN ${anchoredSerial ?? '?'} → ${fnSerial})`,
    };
  if (last - before > MAX_MARKER_SEARCH)
    return { kind: 'unknown', reason: `the FN moved ${last - before} documents past the anchor ${before}` };
  const marker = receiptMarker(job);
  const found = await findReceiptByMarker(fn, marker, last, before + 1);
  if (found) return { kind: 'found', fiscalDocumentNumber: found.fiscalDocumentNumber, fnSerial };
  return {
    kind: 'absent',
    checked: `FN ${fnSerial} documents ${before + 1}…${last} hold no receipt with marker ${marker}`,
  };
}

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
  for await (const document of fnDocuments(fn, before + 1, last)) {
    if (!RECEIPT_DOCUMENT_TYPES.has(document.documentType)) continue;
    if (document.marker === marker) return { kind: 'found', document };
    foreignReceipts.push(document.fiscalDocumentNumber);
  }
  if (foreignReceipts.length > 0) {
    return {
      kind: 'ambiguous',
      reason: `receipts ${foreignReceipts.join(', ')} were printed after the anchor ${before} but none carries marker ${marker}`,
    };
  }
  return { kind: 'none', last };
}
