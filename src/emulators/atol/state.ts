import { z } from 'zod';

/**
 * Everything the emulated register remembers across restarts, as plain JSON. The schemas double as the
 * types, and check a state file when it is loaded back.
 */

const int = z.number().int();
const kop = int.min(0);
const digits = (length: number) =>
  z.string().regex(new RegExp(`^\\d{${length}}$`), `must be ${length} digits`);

/** One TLV as stored: tag and the value's bytes in hex. */
export const storedTlvSchema = z.object({
  tag: int.min(0).max(0xffff),
  hex: z.string().regex(/^([0-9a-f]{2})*$/),
});
export type StoredTlv = z.infer<typeof storedTlvSchema>;

export const identitySchema = z.object({
  modelCode: int.min(0).max(255),
  modelName: z.string(),
  lineWidth: int.min(16).max(99),
  /** Factory serial number, 14 digits (register 0x16). */
  serial: digits(14),
  /** FN serial, 16 ASCII digits (tag 1041). */
  fnSerial: digits(16),
  /** Registration number of the register (РНМ, tag 1037), 16 digits. */
  registrationNumber: digits(16),
  /** The user's INN (tag 1018), 10 or 12 digits. */
  inn: z.string().regex(/^(\d{10}|\d{12})$/),
  /** Tag 1062 bitmask of the taxation systems the registration allows. */
  taxationSystems: int.min(1).max(0x3f),
  firmware: z.object({ major: int.min(0).max(99), minor: int.min(0).max(99), build: int.min(0).max(9999) }),
  fnVersion: z.string().max(16),
  organizationName: z.string(),
  address: z.string(),
  /** When the register was registered with the tax service (device clock, ms). */
  registeredAtMs: int,
  fnValidUntil: z.object({
    year: int.min(2000).max(2099),
    month: int.min(1).max(12),
    day: int.min(1).max(31),
  }),
  /**
   * FFD version code the register works to (register 0x36): 2 = 1.05, 4 = 1.2. States saved before it
   * existed are FFD 1.2 registers.
   */
  ffdVersion: int.min(1).max(4).optional(),
});
export type RegisterIdentity = z.infer<typeof identitySchema>;

export const positionSchema = z.object({
  name: z.string(),
  priceKop: kop,
  quantityMilli: int.min(1),
  /** Price × quantity as the host sent it (checked against the register's own rounding). */
  amountKop: kop,
  discountSign: int.min(0).max(1),
  discountKop: kop,
  /** The amount after discount or markup: what the position adds to the receipt total. */
  totalKop: kop,
  taxCode: int,
  /** The rate the tax byte stood for when the position was registered ("vat20", "none"). */
  taxType: z.string().optional(),
  taxSumKop: kop,
  department: int.min(0).max(255),
  paymentObject: int,
  paymentMethod: int,
  /** Position-level tags written with `E8` between `EA` and `EB` (e.g. 2108, the measurement unit). */
  tags: z.array(storedTlvSchema),
});
export type StoredPosition = z.infer<typeof positionSchema>;

export const paymentSchema = z.object({ paymentType: int.min(1).max(5), sumKop: kop });
export type StoredPayment = z.infer<typeof paymentSchema>;

export const openReceiptSchema = z.object({
  receiptType: int,
  flags: int,
  openedAtMs: int,
  /** Receipt-level tags (1021, 1055, 1192 …) in the order written. */
  tags: z.array(storedTlvSchema),
  positions: z.array(positionSchema),
  payments: z.array(paymentSchema),
  /** `EA` was sent and its `EB` has not come yet. */
  positionStarted: z.boolean(),
  positionTags: z.array(storedTlvSchema),
  /** Lines printed with `4C` while the receipt was open; they appear on the printed receipt. */
  textLines: z.array(z.string()),
});
export type OpenReceiptState = z.infer<typeof openReceiptSchema>;

export const shiftSchema = z.object({
  open: z.boolean(),
  /** Number of the last closed shift; an open shift has this number + 1. */
  lastClosedNumber: int.min(0),
  /** When the current (or last) shift was opened, on the register's clock. */
  openedAtMs: int.optional(),
  /** Number of the last receipt of the current shift (tag 1042); 0 after a Z report. */
  lastReceiptNumber: int.min(0),
  /** Fiscal documents made in the current shift (for the close-shift report). */
  documentsInShift: int.min(0),
});
export type ShiftState = z.infer<typeof shiftSchema>;

/** Shift totals, cleared by the Z report (registers 0x03 and 0x06, the X and Z reports). */
export const countersSchema = z.object({
  /** Receipts per receipt type ("1" sell, "2" sell return …). */
  receipts: z.record(z.string(), int.min(0)),
  /** Sums per receipt type and payment type, keyed "receiptType:paymentType". */
  payments: z.record(z.string(), kop),
  /** Receipt totals per receipt type. */
  totals: z.record(z.string(), kop),
  cashInKop: kop,
  cashInCount: int.min(0),
  cashOutKop: kop,
  cashOutCount: int.min(0),
});
export type ShiftCounters = z.infer<typeof countersSchema>;

export const ofdSchema = z.object({
  unsentCount: int.min(0),
  firstUnsentNumber: int.min(0),
  /** When the oldest unsent document was made (register clock); undefined when none is pending. */
  firstUnsentAtMs: int.optional(),
});
export type OfdState = z.infer<typeof ofdSchema>;

export const deviceStateSchema = z.object({
  format: z.literal(1),
  identity: identitySchema,
  /** Passwords of users 1–30 (index 0 is user 1). The defaults equal the user numbers. */
  userPasswords: z.array(int.min(0).max(99_999_999)).length(30),
  clockOffsetMs: int,
  /** The user who entered the current (or last) mode; 3F reports it as the cashier number. */
  cashierNumber: int.min(0).max(30),
  shift: shiftSchema,
  receipt: openReceiptSchema.optional(),
  /** Tags written with `E8` outside a receipt: they go into the next document (open/close shift, receipt). */
  pendingTags: z.array(storedTlvSchema),
  lastDocumentNumber: int.min(0),
  /** Tag 1012 of the last document (FFD seconds), for `ED`'s "not earlier than the FN" rule. */
  lastDocumentSeconds: int.min(0),
  counters: countersSchema,
  cashKop: kop,
  ofd: ofdSchema,
  /** Register 0x37: the command and extended code of the last `EE` error. */
  extendedError: z.object({ command: int.min(0).max(0xffff), code: int.min(0).max(0xffff) }),
});
export type DeviceState = z.infer<typeof deviceStateSchema>;

export const emptyCounters = (): ShiftCounters => ({
  receipts: {},
  payments: {},
  totals: {},
  cashInKop: 0,
  cashInCount: 0,
  cashOutKop: 0,
  cashOutCount: 0,
});

/** A stored fiscal document: what `A4 45`/`A4 46` read back. */
export const storedDocumentSchema = z.object({
  number: int.min(1),
  /** FFD document type: 2 open shift, 3 receipt, 5 close shift. */
  type: int.min(1),
  /** The document's TLV list, hex. */
  tlvHex: z.string().regex(/^([0-9a-f]{2})*$/),
});
export type StoredDocument = z.infer<typeof storedDocumentSchema>;

export const tlvToStored = (tag: number, value: Buffer): StoredTlv => ({ tag, hex: value.toString('hex') });
export const storedValue = (tlv: StoredTlv): Buffer => Buffer.from(tlv.hex, 'hex');
