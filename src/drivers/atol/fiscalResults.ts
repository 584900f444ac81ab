/** What a register's fiscal documents say, as both ATOL backends (protocol and web) return them. */

export interface FiscalDocument {
  fiscalDocumentNumber: number;
  /** FFD document type: 2 open shift, 3 receipt, 31 correction receipt, 5 close shift. */
  documentType: number;
  fiscalSign: string;
  /** The register's local time with its zone offset, ISO 8601. */
  dateTime: string;
  shiftNumber?: number;
  receiptNumber?: number;
  totalKop?: number;
  /** Tag 1054: 1 sell, 2 sell return, 3 buy, 4 buy return (in a correction: what it corrects). */
  operationType?: number;
  fnNumber?: string;
  registrationNumber?: string;
  /** Tag 1192, the marker the agent writes into its receipts. */
  marker?: string;
  /** The receipt's positions (tag 1059), when the document was read in full and carries them. */
  positions?: DocumentPosition[];
}

/** A position of a receipt as the FN keeps it (tag 1059). A field the FN left out, or could not say, is absent. */
export interface DocumentPosition {
  /** Tag 1079, kopecks. */
  priceKop?: number;
  /** Tag 1023 (FVLN) in thousandths; absent when it has more than three decimal places. */
  quantityMilli?: number;
  /** Tag 1043, kopecks. */
  amountKop?: number;
}

export interface FiscalResult {
  fiscalDocumentNumber: number;
  fiscalSign: string;
  dateTime: string;
  shiftNumber: number;
  receiptNumber: number;
  fnNumber: string;
  registrationNumber: string;
  totalKop: number;
}

export interface ShiftResult {
  fiscalDocumentNumber: number;
  fiscalSign: string;
  dateTime: string;
  shiftNumber: number;
  fnNumber?: string;
  registrationNumber?: string;
}

/** What the FN reports about a document: read back from it (protocol) or in a task's `fiscalParams` (web). */
export type FiscalDocumentFields = Pick<
  FiscalDocument,
  | 'fiscalDocumentNumber'
  | 'fiscalSign'
  | 'dateTime'
  | 'shiftNumber'
  | 'receiptNumber'
  | 'fnNumber'
  | 'registrationNumber'
>;

/**
 * A receipt's result as both backends report it. A field the FN left out reads 0 or '' rather than
 * failing a receipt that was printed; the total is the caller's (each backend has its own fallbacks).
 */
export function fiscalResultOf(fields: FiscalDocumentFields, totalKop: number): FiscalResult {
  return {
    fiscalDocumentNumber: fields.fiscalDocumentNumber,
    fiscalSign: fields.fiscalSign,
    dateTime: fields.dateTime,
    shiftNumber: fields.shiftNumber ?? 0,
    receiptNumber: fields.receiptNumber ?? 0,
    fnNumber: fields.fnNumber ?? '',
    registrationNumber: fields.registrationNumber ?? '',
    totalKop,
  };
}

/** An opened or closed shift's result as both backends report it. */
export function shiftResultOf(fields: FiscalDocumentFields): ShiftResult {
  return {
    fiscalDocumentNumber: fields.fiscalDocumentNumber,
    fiscalSign: fields.fiscalSign,
    dateTime: fields.dateTime,
    shiftNumber: fields.shiftNumber ?? 0,
    fnNumber: fields.fnNumber,
    registrationNumber: fields.registrationNumber,
  };
}
