import { resultCodeInfo } from '../../drivers/intent/resultCodes.js';
import {
  FULL_PERCENT_BASIS_POINTS,
  MAX_QUANTITY_MILLI,
  MAX_SUM_MINOR,
  MIN_QUANTITY_MILLI,
  wireToBasisPoints,
  wireToMoneyMinor,
  wireToQuantityMilli,
} from '../../drivers/intent/wireDecimal.js';
import type { ParsedWireSale, ParsedWireSaleItem } from '../../drivers/intent/wireSale.js';
import { roundHalfUpDiv } from '../../lib/decimal.js';

/**
 * The emulator's arithmetic and checks for a Sale, in the order a request is refused: cashier (435), item
 * prices (403), quantities (415/416), sums (414), negative amounts (404), a total under 0.01 (402).
 * Everything is bigint on integer kopecks; percents are rounded half up to the kopeck.
 *
 * Modelling choices where the vendor is silent (docs/intent.md): a discount is taken first and a markup is
 * applied to what remains, on each line and then on the receipt; an underpaid sale is accepted with zero
 * change unless `strictPayment` is on, because no documented code covers it and the vendor's own success
 * example is underpaid under any reading that applies its markups.
 */

export interface ComputedSaleLine {
  codeNumber: string;
  nameTitle: string | undefined;
  priceMinor: number;
  quantityMilli: number;
  lineTotalMinor: number;
}

export interface ComputedSale {
  cashier: string;
  lines: ComputedSaleLine[];
  totalMinor: number;
  cashMinor: number;
  cashlessMinor: number;
  certificateMinor: number;
  changeMinor: number;
  /** How much the payments fall short of the total (0 when fully paid). */
  underpaidMinor: number;
}

export type SaleCheck =
  | { ok: true; sale: ComputedSale }
  | { ok: false; resultCode: number; messageDetail: string };

export interface SaleRuleOptions {
  /** Refuse (399) a sale whose payments do not cover the total. */
  strictPayment?: boolean;
}

/** What the vendor's example answers when a line sum passes the ceiling (its resultCode is 414). */
export const LINE_SUM_TOO_LARGE_TEXT = 'Максимально допустимая цена 99999999999.99';
/** The emulator's own text: no documented code exists for an underpaid sale. */
export const UNDERPAID_TEXT = 'Сумма оплаты меньше итога чека';

const MAX_SUM = BigInt(MAX_SUM_MINOR);
const FULL_PERCENT = BigInt(FULL_PERCENT_BASIS_POINTS);

class Refusal extends Error {
  constructor(
    readonly resultCode: number,
    readonly messageDetail: string = resultCodeInfo(resultCode)?.terminalText ?? 'Ошибка',
  ) {
    super(messageDetail);
  }
}

export function checkSale(request: ParsedWireSale, options: SaleRuleOptions = {}): SaleCheck {
  try {
    return { ok: true, sale: computeSale(request, options) };
  } catch (error) {
    if (error instanceof Refusal) {
      return { ok: false, resultCode: error.resultCode, messageDetail: error.messageDetail };
    }
    throw error;
  }
}

function computeSale(request: ParsedWireSale, options: SaleRuleOptions): ComputedSale {
  const cashier = request.cashier?.trim() ?? '';
  if (cashier === '') throw new Refusal(435);

  const lines = request.itemList.map(computeLine);
  const subtotal = lines.reduce((sum, line) => sum + line.total, 0n);
  const total = applyModifiers(
    subtotal,
    modifier(request.isPercentDiscount, request.chequeDiscount),
    modifier(request.isPercentIncrease, request.chequeIncrease),
  );
  if (total > MAX_SUM) throw new Refusal(414);
  if (total < 1n) throw new Refusal(402);

  const cash = payment(request.cash);
  const cashless = payment(request.cashless);
  const certificate = payment(request.certificate);
  const paid = cash + cashless + certificate;
  if (paid > MAX_SUM) throw new Refusal(414);
  if (options.strictPayment && paid < total) throw new Refusal(399, UNDERPAID_TEXT);

  // Every amount is bounded by MAX_SUM above, so it converts to a number exactly.
  return {
    cashier,
    lines: lines.map((line) => line.summary),
    totalMinor: Number(total),
    cashMinor: Number(cash),
    cashlessMinor: Number(cashless),
    certificateMinor: Number(certificate),
    changeMinor: Number(paid > total ? paid - total : 0n),
    underpaidMinor: Number(paid < total ? total - paid : 0n),
  };
}

function computeLine(item: ParsedWireSaleItem): { total: bigint; summary: ComputedSaleLine } {
  const price = decimalOr(item.price, (text) => wireToMoneyMinor(text, 'price', true), 403, 403);
  if (price < 0 || price > MAX_SUM_MINOR) throw new Refusal(403);
  const quantity = decimalOr(item.amount, (text) => wireToQuantityMilli(text, 'amount', true), 413, 416);
  if (quantity < MIN_QUANTITY_MILLI) throw new Refusal(415);
  if (quantity > MAX_QUANTITY_MILLI) throw new Refusal(416);

  const base = roundHalfUpDiv(BigInt(price) * BigInt(quantity), 1000n);
  if (base > MAX_SUM) throw new Refusal(414, LINE_SUM_TOO_LARGE_TEXT);
  const total = applyModifiers(
    base,
    modifier(item.isPercentDiscount, item.discount),
    modifier(item.isPercentIncrease, item.increase),
  );
  if (total > MAX_SUM) throw new Refusal(414, LINE_SUM_TOO_LARGE_TEXT);
  return {
    total,
    summary: {
      codeNumber: item.codeNumber,
      nameTitle: item.nameTitle,
      priceMinor: price,
      quantityMilli: quantity,
      lineTotalMinor: Number(total),
    },
  };
}

type Modifier = { percent: true; basisPoints: bigint } | { percent: false; amount: bigint } | undefined;

function modifier(isPercent: boolean | undefined, value: string | undefined): Modifier {
  if (value === undefined) return undefined;
  if (isPercent === true) {
    return {
      percent: true,
      basisPoints: BigInt(decimalOr(value, (text) => wireToBasisPoints(text, 'percent'), 413, 413)),
    };
  }
  return {
    percent: false,
    amount: BigInt(decimalOr(value, (text) => wireToMoneyMinor(text, 'amount'), 413, 414)),
  };
}

/** Discount first, then a markup on what remains; a result below zero is resultCode 404. */
function applyModifiers(amount: bigint, discount: Modifier, increase: Modifier): bigint {
  const afterDiscount = amount - modifierAmount(amount, discount);
  if (afterDiscount < 0n) throw new Refusal(404);
  return afterDiscount + modifierAmount(afterDiscount, increase);
}

function modifierAmount(base: bigint, value: Modifier): bigint {
  if (value === undefined) return 0n;
  return value.percent ? roundHalfUpDiv(base * value.basisPoints, FULL_PERCENT) : value.amount;
}

function payment(text: string | undefined): bigint {
  if (text === undefined) return 0n;
  return BigInt(decimalOr(text, (value) => wireToMoneyMinor(value, 'payment'), 413, 414));
}

/**
 * Runs a decimal conversion. A value it cannot take becomes a refusal: `tooLargeCode` when the integer part
 * alone is beyond any limit, otherwise `resultCode` (too many fraction digits, a sign where none belongs).
 */
function decimalOr(
  text: string,
  convert: (text: string) => number,
  resultCode: number,
  tooLargeCode: number,
): number {
  try {
    return convert(text);
  } catch {
    throw new Refusal(integerPartDigits(text) > MAX_INTEGER_DIGITS ? tooLargeCode : resultCode);
  }
}

/** Every limit here has at most 11 integer digits; 15 or more cannot be exact in a double either. */
const MAX_INTEGER_DIGITS = 14;

function integerPartDigits(text: string): number {
  const match = /^-?0*(\d*)(?:\.\d+)?$/.exec(text);
  return match ? (match[1] ?? '').length : 0;
}
