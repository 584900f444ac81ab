import { MEASUREMENT_UNIT_TAG } from './render.js';
import type { StoredPayment, StoredPosition } from './state.js';
import { positionRate } from './vat.js';

/** One line of the JSONL journal: a fiscal document as a person or a test reads it. */
export interface JournalEntry {
  documentNumber: number;
  /** FFD document type: 2 open shift, 3 receipt, 31 correction receipt, 5 close shift. */
  documentType: number;
  kind: 'openShift' | 'receipt' | 'closeShift';
  /** The printed ФП as a decimal string. */
  fiscalSign: string;
  /** Local wall-clock time of the register with its zone offset (ISO 8601). */
  dateTime: string;
  shiftNumber: number;
  receiptNumber?: number;
  /** `92` receipt type: 1 sell, 2 sell return, 4 buy, 5 buy return, 7–10 their corrections. */
  receiptType?: number;
  items?: JournalItem[];
  payments?: StoredPayment[];
  totalKop?: number;
  changeKop?: number;
  /** Tag 1192, the marker the agent writes into its receipts. */
  marker?: string;
}

export interface JournalItem {
  name: string;
  priceKop: number;
  quantityMilli: number;
  /** After discount or markup. */
  amountKop: number;
  /** ATOL's JSON-task name of the VAT rate ("vat20", "none"). */
  tax: string;
  taxSumKop: number;
  /** Tag 2108 code when written. */
  measurementUnit?: number;
  /** Tag 1214 (1–7), tag 1212. */
  paymentMethod?: number;
  paymentObject?: number;
}

export function journalItem(position: StoredPosition): JournalItem {
  const unit = position.tags.find((t) => t.tag === MEASUREMENT_UNIT_TAG);
  const item: JournalItem = {
    name: position.name,
    priceKop: position.priceKop,
    quantityMilli: position.quantityMilli,
    amountKop: position.totalKop,
    tax: positionRate(position)?.type ?? String(position.taxCode),
    taxSumKop: position.taxSumKop,
    paymentMethod: position.paymentMethod,
    paymentObject: position.paymentObject,
  };
  if (unit) item.measurementUnit = Buffer.from(unit.hex, 'hex')[0] ?? 0;
  return item;
}
