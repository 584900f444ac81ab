import { z } from 'zod';
import { ValidationError } from '../../lib/errors.js';
import type { Bill } from './bill.js';
import { TAXATION_SYSTEM_NAMES, type TaxationSystem } from './payment.js';
import { VAT_TYPE_NAMES, VAT_TYPES, type VatType } from './vat.js';

/**
 * Which VAT rates a receipt may carry, by the date of the settlement and the seller's taxation system. The
 * law changes by date (22 % from 2026-01-01; 5 % and 7 % for УСН since 2025), so the rules are a table of
 * periods, and next year's change is a new row, not new code. Sources and reasoning: docs/money.md, "VAT by
 * settlement date".
 */

const ISO_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
export const isoDateSchema = z.string().regex(ISO_DATE, 'expected a date YYYY-MM-DD');

export const vatRateRuleSchema = z.strictObject({
  /** The VAT types this rule allows. */
  vat: z.array(z.enum(VAT_TYPE_NAMES)).min(1),
  /** Only for these taxation systems (tag 1055); absent: for every one. */
  taxationSystems: z.array(z.enum(TAXATION_SYSTEM_NAMES)).min(1).optional(),
});

export const vatPeriodSchema = z.strictObject({
  /** The first settlement date the period governs; it ends where the next period begins. */
  from: isoDateSchema,
  /** The law behind it, quoted in refusals. */
  basis: z.string().min(1).max(300),
  rates: z.array(vatRateRuleSchema).min(1),
});

/** Periods in strictly ascending `from` order. */
export const vatRateTableSchema = z
  .array(vatPeriodSchema)
  .min(1)
  .superRefine((periods, ctx) => {
    for (let i = 1; i < periods.length; i++) {
      if (periods[i]!.from <= periods[i - 1]!.from) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'from'],
          message: `must come after the previous period's ${periods[i - 1]!.from}`,
        });
      }
    }
  });

export type VatRateRule = z.infer<typeof vatRateRuleSchema>;
export type VatPeriod = z.infer<typeof vatPeriodSchema>;
export type VatRateTable = readonly VatPeriod[];

const USN: TaxationSystem[] = ['usnIncome', 'usnIncomeOutcome'];
const REDUCED_USN: VatRateRule = { vat: ['vat5', 'vat7', 'vat105', 'vat107'], taxationSystems: USN };

/** Russian VAT for receipts (art. 164 of the Tax Code), as in force on each date. */
export const RUSSIAN_VAT_TABLE: VatRateTable = Object.freeze([
  {
    from: '2019-01-01',
    basis: 'Tax Code art. 164 as amended by Federal law 303-FZ of 03.08.2018: general rate 20 %',
    rates: [{ vat: ['none', 'vat0', 'vat10', 'vat110', 'vat20', 'vat120'] }],
  },
  {
    from: '2025-01-01',
    basis:
      'Federal law 176-FZ of 12.07.2024: УСН payers may charge VAT at 5 % or 7 % (art. 164 p. 8); general rate 20 %',
    rates: [{ vat: ['none', 'vat0', 'vat10', 'vat110', 'vat20', 'vat120'] }, REDUCED_USN],
  },
  {
    from: '2026-01-01',
    basis: 'Federal law 425-FZ of 28.11.2025: the general rate is 22 % (22/122) from 2026-01-01',
    rates: [{ vat: ['none', 'vat0', 'vat10', 'vat110', 'vat22', 'vat122'] }, REDUCED_USN],
  },
]);

export interface VatPolicy {
  table: VatRateTable;
  /**
   * Rates a later period retired (20 %, 20/120 after 2026-01-01) stay accepted for settlements up to and
   * including this date: a transition the shop chose explicitly (e.g. while a register's firmware cannot
   * print 22 % yet). Absent: retired rates are refused.
   */
  allowRetiredRatesUntil?: string;
}

export const DEFAULT_VAT_POLICY: VatPolicy = { table: RUSSIAN_VAT_TABLE };

/** A position's VAT rate is not allowed on the settlement date (or for the taxation system). */
export class VatRateNotAllowedError extends ValidationError {
  constructor(field: string, reason: string, details: Record<string, unknown>) {
    super(field, reason, details, 'VAT_RATE_NOT_ALLOWED');
  }
}

const TAXATION_NAMES: Record<TaxationSystem, string> = {
  osn: 'ОСН',
  usnIncome: 'УСН доходы',
  usnIncomeOutcome: 'УСН доходы минус расходы',
  esn: 'ЕСХН',
  patent: 'ПСН',
};

function describeVat(vat: VatType): string {
  const { ratePercent, calculated } = VAT_TYPES[vat];
  if (vat === 'none') return 'no VAT (none)';
  return calculated ? `${ratePercent}/${100 + ratePercent} (${vat})` : `${ratePercent} % (${vat})`;
}

function describeSystems(systems: readonly TaxationSystem[]): string {
  return systems.map((s) => `${TAXATION_NAMES[s]} (${s})`).join(' or ');
}

/** The period in force on `date`, or undefined before the first one. */
export function vatPeriodOn(table: VatRateTable, date: string): VatPeriod | undefined {
  let found: VatPeriod | undefined;
  for (const period of table) if (period.from <= date) found = period;
  return found;
}

function allows(period: VatPeriod, vat: VatType, system: TaxationSystem | undefined): boolean {
  return period.rates.some(
    (rule) =>
      rule.vat.includes(vat) &&
      (rule.taxationSystems === undefined || (system !== undefined && rule.taxationSystems.includes(system))),
  );
}

/** The VAT types a period allows for a taxation system (undefined: only those open to every system). */
export function allowedVatTypes(period: VatPeriod, system: TaxationSystem | undefined): VatType[] {
  return VAT_TYPE_NAMES.filter((vat) => allows(period, vat, system));
}

export interface VatCheck {
  policy: VatPolicy;
  /** The settlement's calendar date on the register, `YYYY-MM-DD`. */
  settlementDate: string;
  /** The bill's, else the device's configured one; undefined when neither says. */
  taxationSystem: TaxationSystem | undefined;
  /** A return settles an earlier sale and keeps that sale's rate (FNS letter АБ-4-20/11248@ of 15.12.2025). */
  operation: 'sell' | 'sellReturn';
}

/**
 * Throws VatRateNotAllowedError naming `positions[i].vat`, the position and the rule when a position's rate
 * may not be used on the settlement date under the taxation system.
 */
export function assertVatRatesAllowed(bill: Bill, check: VatCheck): void {
  const { policy, settlementDate, taxationSystem, operation } = check;
  const period = vatPeriodOn(policy.table, settlementDate);
  bill.positions.forEach((position, index) => {
    const field = `positions[${index}].vat`;
    const what = `"${position.name}" is at ${describeVat(position.vat)}`;
    const details = { vat: position.vat, settlementDate, taxationSystem, position: index };
    if (period === undefined) {
      throw new VatRateNotAllowedError(
        field,
        `${what}, but the VAT rate table starts on ${policy.table[0]?.from}, after the settlement date ${settlementDate}`,
        details,
      );
    }
    if (allows(period, position.vat, taxationSystem)) return;

    const restricted = period.rates.find((rule) => rule.vat.includes(position.vat) && rule.taxationSystems);
    if (restricted?.taxationSystems) {
      const system = taxationSystem
        ? `the taxation system is ${TAXATION_NAMES[taxationSystem]} (${taxationSystem})`
        : "neither the bill nor the device's taxationType names a taxation system";
      throw new VatRateNotAllowedError(
        field,
        `${what}, which only ${describeSystems(restricted.taxationSystems)} may charge, and ${system} ` +
          `(${period.basis})`,
        { ...details, rule: period.basis },
      );
    }

    const earlier = policy.table.filter((p) => p.from < period.from);
    const retiredBy = earlier.some((p) => allows(p, position.vat, taxationSystem)) ? period : undefined;
    if (retiredBy) {
      if (operation === 'sellReturn') return;
      const until = policy.allowRetiredRatesUntil;
      if (until !== undefined && settlementDate <= until) return;
      const current = allowedVatTypes(period, taxationSystem)
        .filter((vat) => VAT_TYPES[vat].ratePercent > 0)
        .map(describeVat)
        .join(', ');
      throw new VatRateNotAllowedError(
        field,
        `${what}, which applies to settlements before ${retiredBy.from}; this settlement is on ` +
          `${settlementDate} (${retiredBy.basis}). Rates now: ${current}. ` +
          (until !== undefined
            ? `The configured transition (vat.allowRetiredRatesUntil) ended on ${until}.`
            : 'Correct the rate in the source system, or allow a transition with vat.allowRetiredRatesUntil.'),
        { ...details, rule: retiredBy.basis },
      );
    }

    const later = policy.table.find(
      (p) => p.from > settlementDate && allows(p, position.vat, taxationSystem),
    );
    throw new VatRateNotAllowedError(
      field,
      later
        ? `${what}, which applies from ${later.from} (${later.basis}); this settlement is on ${settlementDate}`
        : `${what}, which the VAT rate table does not allow on ${settlementDate} (${period.basis})`,
      { ...details, rule: (later ?? period).basis },
    );
  });
}
