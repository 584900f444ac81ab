import type { FiscalDocumentFields } from '../../../drivers/atol/fiscalResults.js';
import type { FiscalDocument, ShiftResult } from '../../../drivers/atol/kkt.js';
import { fiscalTimes } from '../../../lib/time.js';
import type { FiscalData, ShiftEvent } from '../../jobs/job.js';

/** The device a fiscal record is credited to. */
export interface FiscalDeviceIdentity {
  id: string;
  kind: string;
}

/** What the journal needs of a receipt: a backend's `FiscalResult` and a `FiscalDocument` both carry it. */
export type ReceiptFields = FiscalDocumentFields & Pick<FiscalDocument, 'totalKop'>;

/**
 * A receipt as the journal records it: one the register has just printed, or one a reconcile found in
 * the FN (whose fields the FN did not report stay absent).
 */
export function fiscalDataFromReceipt(device: FiscalDeviceIdentity, receipt: ReceiptFields): FiscalData {
  return {
    deviceId: device.id,
    deviceKind: device.kind,
    fiscalDocumentNumber: receipt.fiscalDocumentNumber,
    fiscalSign: receipt.fiscalSign,
    ...fiscalTimes(receipt.dateTime),
    shiftNumber: receipt.shiftNumber,
    receiptNumber: receipt.receiptNumber === undefined ? undefined : String(receipt.receiptNumber),
    fnNumber: receipt.fnNumber,
    registrationNumber: receipt.registrationNumber,
    totalMinor: receipt.totalKop ?? 0,
  };
}

/** An opened or closed shift, as the agent reports it to the connectors. */
export function shiftEventFromResult(result: ShiftResult): ShiftEvent {
  return {
    shiftNumber: result.shiftNumber,
    fiscalDocumentNumber: result.fiscalDocumentNumber,
    fiscalSign: result.fiscalSign,
    ...fiscalTimes(result.dateTime),
    fnNumber: result.fnNumber,
    registrationNumber: result.registrationNumber,
  };
}
