import { EXTENDED_ERROR_CODE } from '../../drivers/atol/protocol/deviceErrors.js';

/** What a command handler decides: an error byte (0 = OK), the result to encode, or an extended code. */
export interface Outcome<R = unknown> {
  errorCode: number;
  result?: R;
  /** Set with errorCode `EE`: the code register 0x37 reports (docs/protocol/atol-v3.md §12). */
  extendedCode?: number;
}

export const ok = <R>(result?: R): Outcome<R> =>
  result === undefined ? { errorCode: 0 } : { errorCode: 0, result };
export const fail = (errorCode: number): Outcome<never> => ({ errorCode });
export const failExtended = (extendedCode: number): Outcome<never> => ({
  errorCode: EXTENDED_ERROR_CODE,
  extendedCode,
});

/** Protocol error bytes the emulator answers with (names for the codes of deviceErrors.ts). */
export const ErrorCode = {
  BadAmount: 0x08,
  BadQuantity: 0x0a,
  BadFormat: 0x13,
  BadLength: 0x14,
  CheckDateTime: 0x1f,
  DateBeforeFn: 0x20,
  WrongMode: 0x66,
  NoPaper: 0x67,
  BadReceiptType: 0x6a,
  BadRegister: 0x6c,
  NonCashExceedsTotal: 0x71,
  PaymentShort: 0x72,
  Busy: 0x76,
  Unsupported: 0x7a,
  BadPaymentType: 0x7e,
  ShiftExpired: 0x88,
  WrongPassword: 0x8c,
  NoCash: 0x98,
  ReceiptClosed: 0x9a,
  ReceiptOpen: 0x9b,
  ShiftOpen: 0x9c,
  BadReportType: 0xa3,
  FnFull: 0xd8,
  NoData: 0xda,
  UnsentDocuments: 0xed,
  Extended: EXTENDED_ERROR_CODE,
} as const;

/** Extended codes of register 0x37. */
export const ExtendedCode = {
  BadTax: 0x0104,
  BadItemPaymentMethod: 0x0105,
  TagWritten: 0x0201,
  TagCombination: 0x0205,
  NoPositionStart: 0x0207,
  ReceiptTagAfterPosition: 0x0208,
} as const;
