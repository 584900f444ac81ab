import { bcdByte, decodeBcd, encodeBcd, fromBcdByte } from '../protocol/bcd.js';
import { decodeCp866, encodeCp866 } from '../protocol/cp866.js';
import { decodeTlvList, encodeTlv, type Tlv } from '../protocol/tlv.js';
import { ByteReader, defineCommand, noBytes } from './command.js';

/**
 * `92` receipt types (= LIBFPTR_RT_* of ATOL's driver header; docs/protocol/atol-v3.md §5, §14). atol4j names
 * 7 and 9 the same and calls 10 a sell-return correction; the header's 8 and 10 are what we follow.
 */
export const ReceiptType = {
  Sell: 1,
  SellReturn: 2,
  Buy: 4,
  BuyReturn: 5,
  SellCorrection: 7,
  SellReturnCorrection: 8,
  BuyCorrection: 9,
  BuyReturnCorrection: 10,
} as const;

/** The correction receipt types of `92`: they make an FFD document of type 31. */
export const CORRECTION_RECEIPT_TYPES: ReadonlySet<number> = new Set([
  ReceiptType.SellCorrection,
  ReceiptType.SellReturnCorrection,
  ReceiptType.BuyCorrection,
  ReceiptType.BuyReturnCorrection,
]);

/** `92` flags. The "electronic only" bit is 0x04 per TerminalClient (production code); atol4j says 0x02. */
export const OpenReceiptFlags = { TestMode: 0x01, Electronic: 0x04 } as const;

export interface OpenReceiptParams {
  flags: number;
  receiptType: number;
}

/** `92`: open a receipt in mode 1. A closed shift is opened implicitly by the register. */
export const openReceipt = defineCommand<OpenReceiptParams, void>({
  name: 'openReceipt',
  code: Buffer.of(0x92),
  timeoutMs: 5000,
  layout: 'generic',
  encodeParams: (p) => Buffer.of(p.flags, p.receiptType),
  decodeParams: (bytes) => {
    const r = new ByteReader(bytes, 'open receipt');
    return { flags: r.byte(), receiptType: r.byte() };
  },
  encodeResult: noBytes.encode,
  decodeResult: noBytes.decode,
});

/** `EA 00 01 00`: start a position (FFD ≥ 1.05); position-level tags may follow before `EB`. */
export const beginPosition = defineCommand<void, void>({
  name: 'beginPosition',
  code: Buffer.of(0xea),
  timeoutMs: 3000,
  layout: 'generic',
  encodeParams: () => Buffer.of(0x00, 0x01, 0x00),
  decodeParams: noBytes.decode,
  encodeResult: noBytes.encode,
  decodeResult: noBytes.decode,
});

/**
 * `EB` flags (docs/protocol/atol-v3.md §7). Bit 0x02 switches off the register's check that the drawer
 * holds the position's amount in cash: Crystals sets it, because otherwise a card refund can be refused
 * with `98` when the drawer is short. We set it on return positions.
 */
export const PositionFlags = { NoCashCheck: 0x02 } as const;

export interface RegisterPositionParams {
  flags: number;
  priceKop: number;
  quantityMilli: number;
  amountKop: number;
  /** The `EB` tax byte (see `TaxByteTable`). */
  taxCode: number;
  /** 0 lets the register compute the tax. */
  taxSumKop: number;
  /** The section (отдел), 0–99, sent as one BCD byte as Crystals and Zzzzipper do. */
  department: number;
  /** Tag 1212, 1–33. */
  paymentObject: number;
  /** Tag 1214, 1–7. */
  paymentMethod: number;
  discountSign: number;
  discountKop: number;
  name: string;
}

/** Longest name the `EB` packet should carry; FFD tag 1030 allows 128 characters. */
export const MAX_POSITION_NAME_LENGTH = 128;
/** Seven BCD bytes hold 14 digits: the register's limit for a price or amount in kopecks. */
export const MAX_BCD7_KOP = 99_999_999_999_999;
/** Five BCD bytes of thousandths: at most 9 999 999.999 units. */
export const MAX_QUANTITY_MILLI = 9_999_999_999;

/** `EB`: register the position opened by `EA`. 41 bytes of fields, then the name (docs/protocol/atol-v3.md §7). */
export const registerPosition = defineCommand<RegisterPositionParams, void>({
  name: 'registerPosition',
  code: Buffer.of(0xeb),
  timeoutMs: 3000,
  layout: 'generic',
  encodeParams: (p) =>
    Buffer.concat([
      Buffer.of(p.flags),
      encodeBcd(p.priceKop, 7),
      encodeBcd(p.quantityMilli, 5),
      encodeBcd(p.amountKop, 7),
      Buffer.of(p.taxCode),
      encodeBcd(p.taxSumKop, 7),
      Buffer.of(bcdByte(p.department), bcdByte(p.paymentObject), bcdByte(p.paymentMethod), p.discountSign),
      encodeBcd(p.discountKop, 7),
      Buffer.of(0, 0),
      encodeCp866(p.name),
    ]),
  decodeParams: (bytes) => {
    const r = new ByteReader(bytes, 'register position');
    const flags = r.byte();
    const priceKop = decodeBcd(r.take(7));
    const quantityMilli = decodeBcd(r.take(5));
    const amountKop = decodeBcd(r.take(7));
    const taxCode = r.byte();
    const taxSumKop = decodeBcd(r.take(7));
    const department = fromBcdByte(r.byte());
    const paymentObject = fromBcdByte(r.byte());
    const paymentMethod = fromBcdByte(r.byte());
    const discountSign = r.byte();
    const discountKop = decodeBcd(r.take(7));
    r.take(2);
    const name = decodeCp866(r.rest());
    return {
      flags,
      priceKop,
      quantityMilli,
      amountKop,
      taxCode,
      taxSumKop,
      department,
      paymentObject,
      paymentMethod,
      discountSign,
      discountKop,
      name,
    };
  },
  encodeResult: noBytes.encode,
  decodeResult: noBytes.decode,
});

/** FFD tags the agent writes with `E8` (which on which FFD version: docs/protocol/atol-v3.md §9). */
export const Tag = {
  customerContact: 1008,
  cashierName: 1021,
  taxationSystem: 1055,
  marker: 1192,
  cashierInn: 1203,
  buyerName: 1227,
  buyerInn: 1228,
  /** FFD 1.2: the buyer's details (1227, 1228 …) nested in one STLV. */
  buyerInfo: 1256,
  /** FFD 1.2 only: the position's measurement unit. */
  measurementUnit: 2108,
  /** A settlement on the internet (one byte, 1). */
  internet: 1125,
  /** Correction receipts: 0 self-initiated, 1 by the tax office's order (one byte). */
  correctionType: 1173,
  /** Correction receipts: STLV holding 1178 and 1179. */
  correctionBasis: 1174,
  /** Inside 1174: the date of the corrected settlement (UNIXTIME, midnight of that day). */
  correctionDate: 1178,
  /** Inside 1174: the number of the tax office's order. */
  correctionNumber: 1179,
} as const;

export interface WriteTagParams {
  /** b0 = print the tag on the receipt. */
  flags: number;
  tlv: Tlv;
}

/** `E8`: write one FFD tag into the receipt (or the current position after `EA`). */
export const writeTag = defineCommand<WriteTagParams, void>({
  name: 'writeTag',
  code: Buffer.of(0xe8),
  timeoutMs: 3000,
  layout: 'generic',
  // One block per command: every tag the agent writes is far below a block's size.
  encodeParams: (p) => Buffer.concat([Buffer.of(p.flags, 1, 0), encodeTlv(p.tlv.tag, p.tlv.value)]),
  decodeParams: (bytes) => {
    const r = new ByteReader(bytes, 'write tag');
    const flags = r.byte();
    r.take(2);
    const list = decodeTlvList(r.rest());
    if (list.length !== 1) throw new RangeError(`write tag carries ${list.length} TLVs, expected 1`);
    return { flags, tlv: list[0]! };
  },
  encodeResult: noBytes.encode,
  decodeResult: noBytes.decode,
});

/** Payment types of `99`/`4A` (docs/protocol/atol-v3.md §17, "Payment types"). */
export const PaymentType = { Cash: 1, Electronically: 2, Prepaid: 3, Credit: 4, Other: 5 } as const;

export interface PaymentParams {
  flags: number;
  paymentType: number;
  sumKop: number;
}

export interface PaymentResult {
  remainderKop: number;
  changeKop: number;
}

const encodePayment = (p: PaymentParams) =>
  Buffer.concat([Buffer.of(p.flags, p.paymentType), encodeBcd(p.sumKop, 5)]);
const decodePayment = (bytes: Buffer): PaymentParams => {
  const r = new ByteReader(bytes, 'payment');
  return { flags: r.byte(), paymentType: r.byte(), sumKop: decodeBcd(r.take(5)) };
};

/**
 * `99`: register a payment; answers the remainder still due and the change. The sources disagree on that
 * answer's length, so a shorter one reads as zeros rather than failing a payment the register took.
 */
export const payment = defineCommand<PaymentParams, PaymentResult>({
  name: 'payment',
  code: Buffer.of(0x99),
  timeoutMs: 3000,
  layout: 'generic',
  encodeParams: encodePayment,
  decodeParams: decodePayment,
  encodeResult: (p) => Buffer.concat([encodeBcd(p.remainderKop, 5), encodeBcd(p.changeKop, 5)]),
  decodeResult: (bytes) => {
    const r = new ByteReader(bytes, 'payment result');
    const field = () => (r.remaining >= 5 ? decodeBcd(r.take(5)) : 0);
    return { remainderKop: field(), changeKop: field() };
  },
});

/** `4A`: close the receipt; sum 0 means "exactly the amount due". This is where the FD is made. */
export const closeReceipt = defineCommand<PaymentParams, void>({
  name: 'closeReceipt',
  code: Buffer.of(0x4a),
  timeoutMs: 20_000,
  layout: 'generic',
  encodeParams: encodePayment,
  decodeParams: decodePayment,
  encodeResult: noBytes.encode,
  decodeResult: noBytes.decode,
});

/** `59`: cancel the open receipt (nothing is fiscalized). */
export const cancelReceipt = defineCommand<void, void>({
  name: 'cancelReceipt',
  code: Buffer.of(0x59),
  timeoutMs: 20_000,
  layout: 'generic',
  encodeParams: noBytes.encode,
  decodeParams: noBytes.decode,
  encodeResult: noBytes.encode,
  decodeResult: noBytes.decode,
});
