import { createHash } from 'node:crypto';
import { DocumentTag, DocumentType } from '../../drivers/atol/commands/fn.js';
import { CORRECTION_RECEIPT_TYPES, PaymentType } from '../../drivers/atol/commands/receipt.js';
import {
  decodeTlvList,
  encodeTlv,
  encodeVln,
  tlvByte,
  tlvString,
  tlvUint32,
} from '../../drivers/atol/protocol/tlv.js';
import type {
  OpenReceiptState,
  RegisterIdentity,
  StoredDocument,
  StoredPosition,
  StoredTlv,
} from './state.js';

/** FFD tags the emulator writes beyond the ones the driver reads (`DocumentTag`). */
export const FfdTag = {
  ...DocumentTag,
  userInn: 1018,
  cashierName: 1021,
  cashierInn: 1203,
  taxationSystem: 1055,
  position: 1059,
  positionName: 1030,
  positionPrice: 1079,
  positionQuantity: 1023,
  positionAmount: 1043,
  paymentObject: 1212,
  paymentMethod: 1214,
  measurementUnit: 2108,
  prepaidTotal: 1215,
  creditTotal: 1216,
  otherTotal: 1217,
  receiptsInShift: 1118,
  unsentDocuments: 1097,
  firstUnsentDateTime: 1098,
  marker: 1192,
} as const;

/** `92` receipt type → tag 1054 operation type (1 приход, 2 возврат прихода, 3 расход, 4 возврат расхода). */
export const OPERATION_TYPE_BY_RECEIPT_TYPE: Readonly<Record<number, number>> = {
  1: 1,
  2: 2,
  4: 3,
  5: 4,
  // Correction receipts: 1054 names the operation corrected.
  7: 1,
  8: 2,
  9: 3,
  10: 4,
};

export interface FiscalSign {
  /** The printed ФП: an unsigned 32-bit number. */
  value: number;
  /** Tag 1077 (ФПД): six bytes whose last four are the ФП, big-endian. */
  bytes: Buffer;
}

/**
 * A deterministic stand-in for the FN's signature: the same document always gets the same sign, so
 * tests and restarts agree. SHA-256 over FN serial, FD number, date-time and total.
 */
export function fiscalSign(
  fnSerial: string,
  documentNumber: number,
  ffdSeconds: number,
  totalKop: number,
): FiscalSign {
  const hash = createHash('sha256')
    .update(`${fnSerial}|${documentNumber}|${ffdSeconds}|${totalKop}`)
    .digest();
  const value = hash.readUInt32BE(0);
  return { value, bytes: Buffer.concat([hash.subarray(4, 6), hash.subarray(0, 4)]) };
}

/** FVLN: one byte with the number of decimal places, then the VLN digits (tag 1023, quantity). */
export function encodeFvln(thousandths: number): Buffer {
  let places = 3;
  let value = thousandths;
  while (places > 0 && value % 10 === 0) {
    value /= 10;
    places--;
  }
  return Buffer.concat([Buffer.of(places), encodeVln(value)]);
}

const storedTlvBytes = (tlv: StoredTlv) => encodeTlv(tlv.tag, Buffer.from(tlv.hex, 'hex'));

/**
 * The head of every document, in the order a real register's FN hands it out (the receipt dump in
 * Zzzzipper's FiscalStorage.h, docs/protocol/atol-v3.md §10): FN, registration number, user INN, FD
 * number, date-time, fiscal sign, shift number.
 */
function documentHead(
  identity: RegisterIdentity,
  documentNumber: number,
  ffdSeconds: number,
  sign: FiscalSign,
  shiftNumber: number,
): Buffer[] {
  return [
    tlvString(FfdTag.fnNumber, identity.fnSerial),
    tlvString(FfdTag.registrationNumber, identity.registrationNumber.padEnd(20, ' ')),
    tlvString(FfdTag.userInn, identity.inn.padEnd(12, ' ')),
    tlvUint32(FfdTag.documentNumber, documentNumber),
    tlvUint32(FfdTag.dateTime, ffdSeconds),
    encodeTlv(FfdTag.fiscalSign, sign.bytes),
    tlvUint32(FfdTag.shiftNumber, shiftNumber),
  ];
}

function positionTlv(position: StoredPosition): Buffer {
  const fields = [
    tlvString(FfdTag.positionName, position.name),
    encodeTlv(FfdTag.positionPrice, encodeVln(position.priceKop)),
    encodeTlv(FfdTag.positionQuantity, encodeFvln(position.quantityMilli)),
    encodeTlv(FfdTag.positionAmount, encodeVln(position.totalKop)),
    tlvByte(FfdTag.paymentObject, position.paymentObject),
    tlvByte(FfdTag.paymentMethod, position.paymentMethod),
    ...position.tags.map(storedTlvBytes),
  ];
  return encodeTlv(FfdTag.position, Buffer.concat(fields));
}

export interface BuiltDocument {
  document: StoredDocument;
  sign: FiscalSign;
}

const finish = (number: number, type: number, parts: Buffer[], sign: FiscalSign): BuiltDocument => ({
  document: { number, type, tlvHex: Buffer.concat(parts).toString('hex') },
  sign,
});

export interface ReceiptDocumentInput {
  identity: RegisterIdentity;
  documentNumber: number;
  ffdSeconds: number;
  shiftNumber: number;
  receiptNumber: number;
  receipt: OpenReceiptState;
  totalKop: number;
  /** Paid per payment type after change was taken out of cash. */
  paidByType: ReadonlyMap<number, number>;
}

/** FD type 3, a cash receipt (кассовый чек), or type 31 for the correction types 7–10 (чек коррекции). */
export function buildReceiptDocument(input: ReceiptDocumentInput): BuiltDocument {
  const { identity, receipt } = input;
  const sign = fiscalSign(identity.fnSerial, input.documentNumber, input.ffdSeconds, input.totalKop);
  const tags = [...receipt.tags];
  // The FN requires 1055 in every receipt; a register registered for one system fills it in itself.
  if (!tags.some((t) => t.tag === FfdTag.taxationSystem)) {
    const lowest = identity.taxationSystems & -identity.taxationSystems;
    tags.push({ tag: FfdTag.taxationSystem, hex: Buffer.of(lowest).toString('hex') });
  }
  const paid = (type: number) => input.paidByType.get(type) ?? 0;
  // The order of the real register's dump: head, receipt number, operation type, total, positions,
  // payment totals, then the tags the host wrote (1055 among them).
  const parts = [
    ...documentHead(identity, input.documentNumber, input.ffdSeconds, sign, input.shiftNumber),
    tlvUint32(FfdTag.receiptNumber, input.receiptNumber),
    tlvByte(FfdTag.operationType, OPERATION_TYPE_BY_RECEIPT_TYPE[receipt.receiptType] ?? 1),
    encodeTlv(FfdTag.total, encodeVln(input.totalKop)),
    ...receipt.positions.map(positionTlv),
    encodeTlv(FfdTag.cashTotal, encodeVln(paid(PaymentType.Cash))),
    encodeTlv(FfdTag.electronicTotal, encodeVln(paid(PaymentType.Electronically))),
    encodeTlv(FfdTag.prepaidTotal, encodeVln(paid(PaymentType.Prepaid))),
    encodeTlv(FfdTag.creditTotal, encodeVln(paid(PaymentType.Credit))),
    encodeTlv(FfdTag.otherTotal, encodeVln(paid(PaymentType.Other))),
    ...tags.map(storedTlvBytes),
  ];
  const type = CORRECTION_RECEIPT_TYPES.has(receipt.receiptType)
    ? DocumentType.CorrectionReceipt
    : DocumentType.Receipt;
  return finish(input.documentNumber, type, parts, sign);
}

export interface ShiftDocumentInput {
  identity: RegisterIdentity;
  documentNumber: number;
  ffdSeconds: number;
  shiftNumber: number;
  /** Tags written before the command (1021 cashier, 1203 cashier INN). */
  tags: StoredTlv[];
}

/** FD type 2, the shift-opening report. */
export function buildOpenShiftDocument(input: ShiftDocumentInput): BuiltDocument {
  const sign = fiscalSign(input.identity.fnSerial, input.documentNumber, input.ffdSeconds, 0);
  const parts = [
    ...documentHead(input.identity, input.documentNumber, input.ffdSeconds, sign, input.shiftNumber),
    ...input.tags.map(storedTlvBytes),
  ];
  return finish(input.documentNumber, DocumentType.OpenShift, parts, sign);
}

export interface CloseShiftDocumentInput extends ShiftDocumentInput {
  receiptsInShift: number;
  unsentDocuments: number;
  /** FFD seconds of the oldest unsent document, when there is one. */
  firstUnsentSeconds: number | undefined;
}

/** FD type 5, the shift-closing report (Z report). */
export function buildCloseShiftDocument(input: CloseShiftDocumentInput): BuiltDocument {
  const sign = fiscalSign(input.identity.fnSerial, input.documentNumber, input.ffdSeconds, 0);
  const parts = [
    ...documentHead(input.identity, input.documentNumber, input.ffdSeconds, sign, input.shiftNumber),
    ...input.tags.map(storedTlvBytes),
    tlvUint32(FfdTag.receiptsInShift, input.receiptsInShift),
    tlvUint32(FfdTag.unsentDocuments, input.unsentDocuments),
    ...(input.firstUnsentSeconds === undefined
      ? []
      : [tlvUint32(FfdTag.firstUnsentDateTime, input.firstUnsentSeconds)]),
  ];
  return finish(input.documentNumber, DocumentType.CloseShift, parts, sign);
}

/** What `A4 46` hands out for a document, one TLV per answer, in the document's order. */
export function documentTlvs(document: StoredDocument): Buffer[] {
  return decodeTlvList(Buffer.from(document.tlvHex, 'hex')).map((tlv) => encodeTlv(tlv.tag, tlv.value));
}

/** The size `A4 45` announces: the bytes of the document's TLV list. */
export const documentSize = (document: StoredDocument): number => document.tlvHex.length / 2;
