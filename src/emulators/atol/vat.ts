import { SOURCE_TAX_BYTES, TAX_TYPES, type TaxBytes, type TaxType } from '../../drivers/atol/taxBytes.js';
import { EmulatorConfigError } from './errors.js';

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
 * The emulated firmware's tax bytes: the six the public sources show (docs/protocol/atol-v3.md §8), and
 * stand-ins for the 2026 rates. No public source shows those; the emulator takes ATOL's driver numbering
 * (9 = 5 % … 14 = 22/122) so that tests can configure a driver for them. A real register may differ.
 */
export const EMULATOR_TAX_BYTES: Readonly<Record<TaxType, number>> = {
  ...(SOURCE_TAX_BYTES as Record<TaxType, number>),
  vat5: 9,
  vat7: 10,
  vat105: 11,
  vat107: 12,
  vat22: 13,
  vat122: 14,
};

/** The bytes of the 2026 rates only: what a driver must be configured with to use them on the emulator. */
export const EMULATOR_EXTRA_TAX_BYTES: TaxBytes = {
  vat5: EMULATOR_TAX_BYTES.vat5,
  vat7: EMULATOR_TAX_BYTES.vat7,
  vat105: EMULATOR_TAX_BYTES.vat105,
  vat107: EMULATOR_TAX_BYTES.vat107,
  vat22: EMULATOR_TAX_BYTES.vat22,
  vat122: EMULATOR_TAX_BYTES.vat122,
};

/**
 * The table the emulated register applies to `EB`'s tax byte. Options change it: a byte per rate, or 0 to
 * make a rate unknown to this firmware (it then answers `EE`/0x0104, as an old firmware would).
 */
export class EmulatorVatTable {
  private readonly byByte = new Map<number, TaxType>();
  private readonly byType = new Map<TaxType, number>();

  constructor(overrides: Partial<Record<TaxType, number>> = {}) {
    for (const type of TAX_TYPES) {
      const byte = overrides[type] ?? EMULATOR_TAX_BYTES[type];
      if (!Number.isInteger(byte) || byte < 0 || byte > 255)
        throw new EmulatorConfigError(`taxBytes.${type}`, `must be a byte 0–255 (0 = unknown), got ${byte}`);
      if (byte === 0) continue;
      const other = this.byByte.get(byte);
      if (other) throw new EmulatorConfigError(`taxBytes.${type}`, `byte ${byte} is already ${other}'s`);
      this.byByte.set(byte, type);
      this.byType.set(type, byte);
    }
  }

  /** The rate of an `EB` tax byte, or undefined for a byte this firmware does not know. */
  rateForCode(code: number): VatRate | undefined {
    const type = this.byByte.get(code);
    return type === undefined ? undefined : vatRateForType(type);
  }

  byteFor(type: TaxType): number | undefined {
    return this.byType.get(type);
  }
}

/** The default emulated firmware's table, for positions saved before they kept their rate. */
const DEFAULT_VAT_TABLE = new EmulatorVatTable();

/** The rate a stored position was registered with. */
export function positionRate(position: { taxType?: string; taxCode: number }): VatRate | undefined {
  const type = TAX_TYPES.find((t) => t === position.taxType);
  return type === undefined ? DEFAULT_VAT_TABLE.rateForCode(position.taxCode) : vatRateForType(type);
}

export const vatRateForType = (type: TaxType): VatRate => ({ type, ...RATES[type] });

/** VAT contained in an amount: amount × p / (100 + p), rounded half up, in whole kopecks. */
export function vatIncluded(amountKop: number, percent: number | undefined): number {
  if (percent === undefined || percent === 0) return 0;
  const numerator = BigInt(amountKop) * BigInt(percent);
  const denominator = BigInt(100 + percent);
  return Number((numerator * 2n + denominator) / (denominator * 2n));
}
