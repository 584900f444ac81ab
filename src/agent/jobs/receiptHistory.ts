import type { FiscalData, Job, JobOperation } from './job.js';

/**
 * What a device tells about the receipts it printed, read back after the agent lost (part of) its store
 * (docs/fiscalization.md, "Rebuilding from the register"). The jobs room owns the contract; devices that
 * keep a readable history (an ATOL register's FN) implement it.
 */

/** How a device can tell, without the agent's store, what it printed. */
export type ReadBack =
  /** Its fiscal storage can be read document by document (ATOL, either backend). */
  | 'history'
  /** It finds its own receipt of a job by the job id when asked to print it again (the text printer). */
  | 'own-records'
  /** It cannot be asked (SmartX): after a lost store it prints nothing until a technician confirms. */
  | 'none';

/** A position as the fiscal storage keeps it; a field it did not say is absent. */
export interface PrintedPosition {
  priceMinor?: number;
  quantityMilli?: number;
  amountMinor?: number;
}

/** A receipt of ours (it carries a marker) found on a device. */
export interface PrintedReceipt {
  deviceId: string;
  fnSerial: string;
  documentNumber: number;
  /** Tag 1192: the job id of the bill it was printed for. */
  marker: string;
  /** From tag 1054; `other` for a kind the agent does not print. */
  operation?: JobOperation | 'other';
  totalMinor?: number;
  positions?: PrintedPosition[];
  /** The fiscal data the agent reports, exactly as the print would have returned it. */
  fiscal: FiscalData;
}

export type HistoryDocumentKind = 'receipt' | 'shift-open' | 'shift-close' | 'other';

export interface HistoryDocument {
  number: number;
  kind: HistoryDocumentKind;
  /** The register's clock, ISO 8601 with its offset; absent when the document did not say. */
  dateTime?: string;
  /** A receipt that carries a marker. */
  receipt?: PrintedReceipt;
}

export interface HistoryHead {
  fnSerial: string;
  lastDocumentNumber: number;
  registerSerial?: string;
}

export interface ReceiptHistory {
  /**
   * Where the history ends now: the fiscal storage's serial and its last document number, and the factory
   * serial of the register that holds it when the device knows it.
   */
  head(): Promise<HistoryHead>;
  /** One document, read as far as telling it needs (a receipt in full, others to their date-time). */
  read(documentNumber: number): Promise<HistoryDocument>;
}

export type ReceiptMatch = { kind: 'match' } | { kind: 'mismatch'; reason: string };

/**
 * Whether a receipt found by its marker is the receipt of this job's bill: the marker is a digest of the
 * bill's key, so it is confirmed against what the fiscal storage holds (operation, total, and each
 * position's price, quantity and amount where it keeps them). A total the storage did not give cannot
 * confirm anything: that is a mismatch too, for a person to look at.
 */
export function matchReceipt(job: Job, receipt: PrintedReceipt): ReceiptMatch {
  const bill = job.bill;
  if (!bill) return { kind: 'mismatch', reason: 'the job carries no bill to compare the receipt with' };
  const where = `receipt FD ${receipt.documentNumber} (FN ${receipt.fnSerial}) carries marker ${receipt.marker}`;
  if (receipt.operation !== undefined && receipt.operation !== job.operation)
    return { kind: 'mismatch', reason: `${where} but is a ${receipt.operation}, not a ${job.operation}` };
  if (receipt.totalMinor === undefined)
    return { kind: 'mismatch', reason: `${where} but its total could not be read to confirm it` };
  if (receipt.totalMinor !== bill.totalMinor)
    return {
      kind: 'mismatch',
      reason: `${where} but its total is ${receipt.totalMinor} where the bill's is ${bill.totalMinor} (minor units)`,
    };
  const positions = receipt.positions;
  if (positions === undefined) return { kind: 'match' };
  if (positions.length !== bill.positions.length)
    return {
      kind: 'mismatch',
      reason: `${where} but has ${positions.length} positions where the bill has ${bill.positions.length}`,
    };
  for (const [index, printed] of positions.entries()) {
    const position = bill.positions[index]!;
    const differs = (
      [
        ['price', printed.priceMinor, position.priceMinor],
        ['quantity', printed.quantityMilli, position.quantityMilli],
        ['amount', printed.amountMinor, position.amountMinor],
      ] as const
    ).find(([, found, expected]) => found !== undefined && found !== expected);
    if (differs)
      return {
        kind: 'mismatch',
        reason: `${where} but its position ${index + 1} has ${differs[0]} ${differs[1]} where the bill has ${differs[2]}`,
      };
  }
  return { kind: 'match' };
}
