import type { FiscalDocument, FiscalResult, ShiftResult } from './kkt.js';

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
