import { DocumentTag, DocumentType } from './commands/fn.js';
import { Tag } from './commands/receipt.js';
import type { FiscalDocument } from './fiscalResults.js';
import { type DeviceDateTime, ffdSecondsToWallClock } from './protocol/dateTime.js';
import { decodeVln, findTlv, type Tlv, tlvText } from './protocol/tlv.js';

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
  };
}
