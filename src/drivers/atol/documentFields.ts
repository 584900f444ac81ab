import { DocumentTag, DocumentType } from './commands/fn.js';
import { Tag } from './commands/receipt.js';
import type { DocumentPosition, FiscalDocument } from './fiscalResults.js';
import { type DeviceDateTime, ffdSecondsToWallClock } from './protocol/dateTime.js';
import { decodeTlvList, decodeVln, findTlv, type Tlv, tlvText } from './protocol/tlv.js';

/**
 * What the normal path reads of a document it has just made, and stops after (docs/protocol/atol-v3.md
 * §10): everything a result reports. The marker (1192) is not among them: it sits near the end of a
 * receipt, and only a reconcile needs it, which reads the whole document.
 */
const RESULT_TAGS: readonly number[] = [
  DocumentTag.fnNumber,
  DocumentTag.registrationNumber,
  DocumentTag.documentNumber,
  DocumentTag.dateTime,
  DocumentTag.fiscalSign,
  DocumentTag.shiftNumber,
];
const RECEIPT_RESULT_TAGS: readonly number[] = [...RESULT_TAGS, DocumentTag.receiptNumber];

/** True once the TLVs read so far hold what a result of this document type reports. */
export function hasResultFields(documentType: number, tlvs: readonly Tlv[]): boolean {
  const receipt = documentType === DocumentType.Receipt || documentType === DocumentType.CorrectionReceipt;
  const wanted = receipt ? RECEIPT_RESULT_TAGS : RESULT_TAGS;
  return wanted.every((tag) => tlvs.some((tlv) => tlv.tag === tag));
}

/** Tags of a position inside 1059 (FFD; the real receipt of docs/protocol/atol-v3.md §10 carries them). */
const PositionTag = { price: 1079, quantity: 1023, amount: 1043 } as const;

/** FFD document types that are receipts and may carry a marker: receipt, BSO, and their corrections. */
export const RECEIPT_DOCUMENT_TYPES: ReadonlySet<number> = new Set([DocumentType.Receipt, 4, 31, 41]);

/**
 * What a history scan matches a receipt of ours on and reports of it: the fiscal data (FN, registration,
 * FD, date-time, fiscal sign, shift, receipt number), the operation and the total, and the marker.
 */
const RECEIPT_HISTORY_TAGS: readonly number[] = [
  ...RECEIPT_RESULT_TAGS,
  DocumentTag.operationType,
  DocumentTag.total,
  Tag.marker,
];

/**
 * True once a document is read far enough for a history scan (a rebuild after a lost store), so the read
 * stops there (docs/protocol/atol-v3.md §10): any document but a receipt up to its date-time, which is all
 * the scan needs of it; a receipt once it has its marker, the tags the scan matches on and its positions
 * (a tag after the last 1059 read: they come in one run). Payment totals, tax sums and the other tags after
 * that are not read. A receipt without our marker (another program's) is read to its end.
 */
export function hasHistoryFields(documentType: number, tlvs: readonly Tlv[]): boolean {
  if (!RECEIPT_DOCUMENT_TYPES.has(documentType)) return tlvs.some((tlv) => tlv.tag === DocumentTag.dateTime);
  const lastPosition = tlvs.findLastIndex((tlv) => tlv.tag === DocumentTag.position);
  if (lastPosition < 0 || lastPosition === tlvs.length - 1) return false;
  return RECEIPT_HISTORY_TAGS.every((tag) => tlvs.some((tlv) => tlv.tag === tag));
}

/** FVLN (tag 1023): a byte with the number of decimal places, then the digits as a VLN; in thousandths. */
export function decodeFvlnMilli(value: Buffer): number | undefined {
  if (value.length < 2) return undefined;
  const places = value[0]!;
  const digits = decodeVln(value.subarray(1));
  if (places <= 3) return digits * 10 ** (3 - places);
  const divisor = 10 ** (places - 3);
  return digits % divisor === 0 ? digits / divisor : undefined;
}

function positionOf(value: Buffer): DocumentPosition | undefined {
  let fields: Tlv[];
  try {
    fields = decodeTlvList(value);
  } catch {
    return undefined;
  }
  const vln = (tag: number) => {
    const found = findTlv(fields, tag);
    return found === undefined ? undefined : decodeVln(found);
  };
  const quantity = findTlv(fields, PositionTag.quantity);
  return {
    priceKop: vln(PositionTag.price),
    quantityMilli: quantity === undefined ? undefined : decodeFvlnMilli(quantity),
    amountKop: vln(PositionTag.amount),
  };
}

/** A fiscal document's fields from its TLVs; the date-time is the register's wall clock. */
export function fiscalDocumentFromTlvs(
  documentType: number,
  tlvs: readonly Tlv[],
  requestedNumber: number,
  iso: (t: DeviceDateTime) => string,
): FiscalDocument {
  const list = [...tlvs];
  const int = (tag: number) => {
    const value = findTlv(list, tag);
    return value === undefined ? undefined : decodeVln(value);
  };
  const sign = findTlv(list, DocumentTag.fiscalSign);
  const seconds = int(DocumentTag.dateTime);
  const positions = list
    .filter((tlv) => tlv.tag === DocumentTag.position)
    .map((tlv) => positionOf(tlv.value));
  return {
    fiscalDocumentNumber: int(DocumentTag.documentNumber) ?? requestedNumber,
    documentType,
    // 1077 holds six bytes; the printed fiscal sign is the last four as a big-endian integer.
    fiscalSign: sign && sign.length >= 4 ? String(sign.readUInt32BE(sign.length - 4)) : '',
    dateTime: seconds === undefined ? '' : iso(ffdSecondsToWallClock(seconds)),
    shiftNumber: int(DocumentTag.shiftNumber),
    receiptNumber: int(DocumentTag.receiptNumber),
    totalKop: int(DocumentTag.total),
    operationType: int(DocumentTag.operationType),
    fnNumber: tlvText(findTlv(list, DocumentTag.fnNumber))?.trim(),
    registrationNumber: tlvText(findTlv(list, DocumentTag.registrationNumber))?.trim(),
    marker: tlvText(findTlv(list, Tag.marker)),
    // A position that does not decode makes the list unusable for a comparison: none is better than a wrong one.
    ...(positions.length > 0 && positions.every((p) => p !== undefined)
      ? { positions: positions as DocumentPosition[] }
      : {}),
  };
}
