import { RECEIPT_DOCUMENT_TYPES } from '../../../drivers/atol/documentFields.js';
import type { FiscalDocument } from '../../../drivers/atol/kkt.js';
import type {
  HistoryDocument,
  HistoryDocumentKind,
  PrintedReceipt,
  ReceiptHistory,
} from '../../jobs/receiptHistory.js';
import { type FiscalDeviceIdentity, fiscalDataFromReceipt } from './fiscalData.js';
import type { FnDocumentReader } from './fnScan.js';

/** FFD document types (docs/protocol/atol-v3.md §10): shift opening and closing reports. */
const SHIFT_OPEN = 2;
const SHIFT_CLOSE = 5;

/** Tag 1054 → the operation: 1 sale (приход), 2 its return; the rest the agent does not print. */
function operationOf(type: number | undefined): PrintedReceipt['operation'] {
  if (type === undefined) return undefined;
  return type === 1 ? 'sell' : type === 2 ? 'sellReturn' : 'other';
}

function kindOf(documentType: number): HistoryDocumentKind {
  if (RECEIPT_DOCUMENT_TYPES.has(documentType)) return 'receipt';
  if (documentType === SHIFT_OPEN) return 'shift-open';
  if (documentType === SHIFT_CLOSE) return 'shift-close';
  return 'other';
}

/** A document read back, in the words of the rebuild: its kind and time, and a receipt of ours in full. */
export function historyDocumentOf(
  device: FiscalDeviceIdentity,
  fnSerial: string,
  document: FiscalDocument,
): HistoryDocument {
  const kind = kindOf(document.documentType);
  const entry: HistoryDocument = {
    number: document.fiscalDocumentNumber,
    kind,
    ...(document.dateTime ? { dateTime: document.dateTime } : {}),
  };
  if (kind !== 'receipt' || !document.marker) return entry;
  return {
    ...entry,
    receipt: {
      deviceId: device.id,
      fnSerial: document.fnNumber || fnSerial,
      documentNumber: document.fiscalDocumentNumber,
      marker: document.marker,
      operation: operationOf(document.operationType),
      ...(document.totalKop === undefined ? {} : { totalMinor: document.totalKop }),
      ...(document.positions
        ? {
            positions: document.positions.map((p) => ({
              ...(p.priceKop === undefined ? {} : { priceMinor: p.priceKop }),
              ...(p.quantityMilli === undefined ? {} : { quantityMilli: p.quantityMilli }),
              ...(p.amountKop === undefined ? {} : { amountMinor: p.amountKop }),
            })),
          }
        : {}),
      fiscal: fiscalDataFromReceipt(device, { ...document, fnNumber: document.fnNumber || fnSerial }),
    },
  };
}

/**
 * An ATOL register's FN as a receipt history (either backend): its anchor (with the serial of the register
 * identified on this connection, when known), then documents by number.
 */
export function fnReceiptHistory(
  device: FiscalDeviceIdentity,
  fn: FnDocumentReader & { readonly deviceInfoCached?: { serial?: string } | undefined },
): ReceiptHistory {
  let fnSerial = '';
  return {
    async head() {
      const anchor = await fn.fnAnchor();
      fnSerial = anchor.fnSerial;
      // Read after the anchor: a link that dropped and came back identified the register again.
      const registerSerial = fn.deviceInfoCached?.serial;
      return {
        fnSerial: anchor.fnSerial,
        lastDocumentNumber: anchor.lastDocumentNumber,
        ...(registerSerial ? { registerSerial } : {}),
      };
    },
    async read(documentNumber) {
      return historyDocumentOf(device, fnSerial, await fn.document(documentNumber, 'history'));
    },
  };
}
