import { TAX_CODES, type TaxType, taxTypeForCode } from '../../drivers/atol/commands/receipt.js';

/** A VAT rate as the register applies it to a position's amount (prices include VAT). */
export interface VatRate {
  type: TaxType;
  /** What the receipt prints: "НДС 20%", "НДС 20/120", "БЕЗ НДС". */
  label: string;
  /** Percent, or undefined for "без НДС". */
  percent: number | undefined;
}

const RATES: Record<TaxType, Omit<VatRate, 'type'>> = {
  vat0: { label: 'НДС 0%', percent: 0 },
  vat5: { label: 'НДС 5%', percent: 5 },
  vat7: { label: 'НДС 7%', percent: 7 },
  vat10: { label: 'НДС 10%', percent: 10 },
  vat20: { label: 'НДС 20%', percent: 20 },
  vat22: { label: 'НДС 22%', percent: 22 },
  vat105: { label: 'НДС 5/105', percent: 5 },
  vat107: { label: 'НДС 7/107', percent: 7 },
  vat110: { label: 'НДС 10/110', percent: 10 },
  vat120: { label: 'НДС 20/120', percent: 20 },
  vat122: { label: 'НДС 22/122', percent: 22 },
  none: { label: 'БЕЗ НДС', percent: undefined },
};

/**
 * The legacy 18 % codes of `EB` (1 and 3): firmware since 2019 applies 20 % to them (atol.md §3.5, ⚠).
 * Our driver never sends them; older POS software does.
 */
const LEGACY_CODES: Record<number, TaxType> = { 1: 'vat20', 3: 'vat120' };

/** The rate of an `EB` tax code, or undefined for a code the register does not know (→ EE/0x0104). */
export function vatRateForCode(code: number): VatRate | undefined {
  const type = taxTypeForCode(code) ?? LEGACY_CODES[code];
  return type === undefined ? undefined : { type, ...RATES[type] };
}

export const vatRateForType = (type: TaxType): VatRate => ({ type, ...RATES[type] });

/** VAT contained in an amount: amount × p / (100 + p), rounded half up, in whole kopecks. */
export function vatIncluded(amountKop: number, percent: number | undefined): number {
  if (percent === undefined || percent === 0) return 0;
  const numerator = BigInt(amountKop) * BigInt(percent);
  const denominator = BigInt(100 + percent);
  return Number((numerator * 2n + denominator) / (denominator * 2n));
}

export { TAX_CODES };
