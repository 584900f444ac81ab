import {
  CORRECTION_TYPE_NAMES,
  type CorrectionType,
  RECEIPT_OPERATIONS,
  type ReceiptOperation,
} from '../../lib/ffd.js';

export { CORRECTION_TYPE_NAMES, type CorrectionType, RECEIPT_OPERATIONS, type ReceiptOperation };

/**
 * What kind of receipt a job makes: its operation (tag 1054) and whether it is a correction receipt (FFD
 * document type 31, tags 1173/1174). The names are ATOL's JSON-task types (docs/protocol/atol-v3.md §17),
 * which users of ATOL registers already know.
 */
export const RECEIPT_KINDS = {
  sell: { operation: 'sell', correction: false },
  sellReturn: { operation: 'sellReturn', correction: false },
  buy: { operation: 'buy', correction: false },
  buyReturn: { operation: 'buyReturn', correction: false },
  sellCorrection: { operation: 'sell', correction: true },
  sellReturnCorrection: { operation: 'sellReturn', correction: true },
  buyCorrection: { operation: 'buy', correction: true },
  buyReturnCorrection: { operation: 'buyReturn', correction: true },
} as const satisfies Record<string, { operation: ReceiptOperation; correction: boolean }>;

export type ReceiptKind = keyof typeof RECEIPT_KINDS;
export const RECEIPT_KIND_NAMES = Object.keys(RECEIPT_KINDS) as [ReceiptKind, ...ReceiptKind[]];

export function isReceiptKind(value: unknown): value is ReceiptKind {
  return typeof value === 'string' && Object.hasOwn(RECEIPT_KINDS, value);
}

/** The operation a kind settles or corrects (tag 1054). */
export const operationOf = (kind: ReceiptKind): ReceiptOperation => RECEIPT_KINDS[kind].operation;

export const isCorrection = (kind: ReceiptKind): boolean => RECEIPT_KINDS[kind].correction;

/** A return of a sale or of a purchase (as a plain receipt or as a correction). */
export const isReturn = (kind: ReceiptKind): boolean => {
  const operation = operationOf(kind);
  return operation === 'sellReturn' || operation === 'buyReturn';
};

/** The kind of a receipt of `operation`, plain or as a correction. */
export function kindOf(operation: ReceiptOperation, correction: boolean): ReceiptKind {
  if (!correction) return operation;
  return `${operation}Correction` as ReceiptKind;
}

/** What undoes a receipt of this kind: sell → sellReturn, buyCorrection → buyReturnCorrection. */
export function returnKindOf(kind: ReceiptKind): ReceiptKind | undefined {
  const operation = operationOf(kind);
  if (operation === 'sell') return kindOf('sellReturn', isCorrection(kind));
  if (operation === 'buy') return kindOf('buyReturn', isCorrection(kind));
  return undefined;
}

/** Money leaves the drawer: a return of a sale, or a purchase. */
export const paysOut = (kind: ReceiptKind): boolean => {
  const operation = operationOf(kind);
  return operation === 'sellReturn' || operation === 'buy';
};

/** How a receipt of each kind is titled on paper and in `jobs show`. */
export const RECEIPT_KIND_TITLES: Readonly<Record<ReceiptKind, string>> = {
  sell: 'sale (приход)',
  sellReturn: 'sale return (возврат прихода)',
  buy: 'purchase (расход)',
  buyReturn: 'purchase return (возврат расхода)',
  sellCorrection: 'sale correction (коррекция прихода)',
  sellReturnCorrection: 'sale return correction (коррекция возврата прихода)',
  buyCorrection: 'purchase correction (коррекция расхода)',
  buyReturnCorrection: 'purchase return correction (коррекция возврата расхода)',
};
