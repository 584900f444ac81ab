import { findControlCharacter } from '../../../lib/printableText.js';
import { BILL_LIMITS, type BillCashier } from '../../domain/bill.js';
import { nativeIdOf, type WireMeta, type WireRetailStore } from './wire.js';

/**
 * MoySklad's own cashiers (the retail store's `cashiers.rows`, B.5.1): the person a sale names goes on its
 * receipt (tags 1021 and 1203) instead of the register's configured operator. Looked up by the employee's
 * id (a sale's `cashier.meta`) or by uid (the cashier the agent paired as, for the orders it fiscalizes).
 */
export interface MoyskladCashier {
  id?: string;
  uid?: string;
  cashier: BillCashier;
}

type CashierRow = NonNullable<WireRetailStore['cashiers']>['rows'][number];

/** "Фамилия Имя Отчество", cut to the tag's 64 characters; undefined when MoySklad gives no usable name. */
function cashierOf(row: CashierRow): BillCashier | undefined {
  const name = [row.lastName, row.firstName, row.middleName]
    .map((part) => part?.trim() ?? '')
    .filter((part) => part !== '')
    .join(' ')
    .slice(0, BILL_LIMITS.cashierNameLength)
    .trim();
  // A name a receipt could not carry is left out: the register's configured operator signs instead.
  if (name === '' || findControlCharacter(name)) return undefined;
  const inn = row.inn?.trim();
  return { name, ...(inn && /^\d{12}$/.test(inn) ? { inn } : {}) };
}

export function storeCashiers(store: WireRetailStore): MoyskladCashier[] {
  const result: MoyskladCashier[] = [];
  for (const row of store.cashiers?.rows ?? []) {
    const cashier = cashierOf(row);
    if (!cashier) continue;
    const id = row.meta ? nativeIdOf(row.meta.href) : undefined;
    result.push({ ...(id ? { id } : {}), ...(row.uid ? { uid: row.uid } : {}), cashier });
  }
  return result;
}

/** The cashier a sale's `cashier.meta` points at, if the store lists them. */
export function cashierByMeta(
  cashiers: readonly MoyskladCashier[],
  meta: WireMeta | undefined,
): BillCashier | undefined {
  const id = meta ? (nativeIdOf(meta.href) ?? meta.id?.toLowerCase()) : undefined;
  return id ? cashiers.find((c) => c.id === id)?.cashier : undefined;
}

/** The cashier with this uid (`cashier@myorg`), if the store lists them. */
export function cashierByUid(
  cashiers: readonly MoyskladCashier[],
  uid: string | undefined,
): BillCashier | undefined {
  return uid ? cashiers.find((c) => c.uid?.toLowerCase() === uid.toLowerCase())?.cashier : undefined;
}
