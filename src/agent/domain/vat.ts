import { roundHalfUpDiv } from '../../lib/decimal.js';
import { ValidationError } from '../../lib/errors.js';

/**
 * VAT types in ATOL's JSON-task vocabulary (`tax.type`). The "calculated" forms (vat120 = 20/120) are the
 * same rate applied to an amount that already includes VAT; they are used for advances and prepayments.
 * VAT is always included in prices here, so both forms compute the same amount.
 */
export const VAT_TYPES = {
  none: { ratePercent: 0, calculated: false },
  vat0: { ratePercent: 0, calculated: false },
  vat5: { ratePercent: 5, calculated: false },
  vat7: { ratePercent: 7, calculated: false },
  vat10: { ratePercent: 10, calculated: false },
  vat20: { ratePercent: 20, calculated: false },
  vat22: { ratePercent: 22, calculated: false },
  vat105: { ratePercent: 5, calculated: true },
  vat107: { ratePercent: 7, calculated: true },
  vat110: { ratePercent: 10, calculated: true },
  vat120: { ratePercent: 20, calculated: true },
  vat122: { ratePercent: 22, calculated: true },
} as const satisfies Record<string, { ratePercent: number; calculated: boolean }>;

export type VatType = keyof typeof VAT_TYPES;

export const VAT_TYPE_NAMES = Object.keys(VAT_TYPES) as [VatType, ...VatType[]];

export function isVatType(value: unknown): value is VatType {
  return typeof value === 'string' && Object.hasOwn(VAT_TYPES, value);
}

export function vatRatePercent(vat: VatType): number {
  return VAT_TYPES[vat].ratePercent;
}

/**
 * `taxPercent` of the bridge's ReceiptCreated item: "Без НДС" and 0 % both give 0
 * (docs/protocol/bridge-api-v2.md §5).
 */
export function taxPercent(vat: VatType): number {
  return VAT_TYPES[vat].ratePercent;
}

/**
 * VAT included in `amountMinor`: round-half-up(amount × rate / (100 + rate)), per position
 * (docs/protocol/bridge-api-v2.md §5). 6.03 @ 20 % → 1.01 (banker's rounding would say 1.00); 1049.75 @ 5 % →
 * 49.99.
 */
export function vatAmountMinor(amountMinor: number, vat: VatType): number {
  if (!Number.isSafeInteger(amountMinor))
    throw new RangeError(`vatAmountMinor needs a safe integer, got ${amountMinor}`);
  const rate = BigInt(VAT_TYPES[vat].ratePercent);
  if (rate === 0n) return 0;
  return Number(roundHalfUpDiv(BigInt(amountMinor) * rate, 100n + rate));
}

/**
 * The VAT type for a plain rate, e.g. OX System's `vatPercent` or a bridge's "20%". Only the rates that
 * the devices know are accepted; 12 % (Uzbekistan's standard rate) has no ATOL tax type and is rejected.
 */
export function vatTypeFromPercent(
  ratePercent: number,
  options: { calculated?: boolean; field?: string } = {},
): VatType {
  const { calculated = false, field = 'vat' } = options;
  for (const name of VAT_TYPE_NAMES) {
    const entry = VAT_TYPES[name];
    if (name !== 'none' && entry.ratePercent === ratePercent && entry.calculated === calculated) return name;
  }
  throw new ValidationError(field, `no VAT type for ${ratePercent}%${calculated ? ' (calculated)' : ''}`);
}

/*
 * Bridge `taxrate` strings (docs/protocol/bridge-api-v2.md §3, §5). Seen: "Без НДС", "5%", "7%", "22%". Also
 * expected: "0%", "10%", "20%". Tolerated, because CRMs write them by hand: surrounding and inner spaces, any
 * letter case, "ё"/"е", a leading "НДС" ("НДС 20%"), a space before "%" ("20 %"), and the calculated forms
 * "20/120" or "20%/120%" (→ vat120). Not tolerated: a bare number ("20") and decimal rates ("20.0%"), since
 * neither has ever been seen and guessing the meaning of a tax string is worse than stopping the bill.
 */
const NO_VAT = /^без ндс$/;
const RATE = /^(?:ндс )?(\d{1,2}) ?%$/;
const CALCULATED_RATE = /^(?:ндс )?(\d{1,2}) ?%? ?\/ ?(\d{3}) ?%?$/;

export function parseBridgeTaxRate(text: string, field = 'taxrate'): VatType {
  const normalized = text.trim().toLowerCase().replace(/ё/g, 'е').replace(/\s+/g, ' ');
  if (NO_VAT.test(normalized)) return 'none';

  const plain = RATE.exec(normalized);
  if (plain) return vatTypeFor(Number(plain[1]), false, text, field);

  const calculated = CALCULATED_RATE.exec(normalized);
  if (calculated && Number(calculated[2]) === 100 + Number(calculated[1])) {
    return vatTypeFor(Number(calculated[1]), true, text, field);
  }
  throw new ValidationError(field, `unknown tax rate "${text}"`);
}

function vatTypeFor(ratePercent: number, calculated: boolean, text: string, field: string): VatType {
  try {
    return vatTypeFromPercent(ratePercent, { calculated, field });
  } catch {
    throw new ValidationError(field, `unknown tax rate "${text}"`);
  }
}
