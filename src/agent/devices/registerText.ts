import { printableText, type TextRepertoire } from '../../lib/printableText.js';
import type { Bill, BillCashier } from '../domain/bill.js';

/** The longest text a device takes per field (characters after normalisation). */
export interface RegisterTextLimits {
  positionName: number;
  customerName: number;
  customerContact: number;
  cashierName: number;
}

/** A bill's texts as the device will print them; the bill itself (and every report) keeps the originals. */
export interface RegisterTexts {
  positionNames: string[];
  customerName?: string;
  customerContact?: string;
  cashier?: BillCashier;
  /** A correction's order number (tag 1179). */
  correctionNumber?: string;
  /** The fields whose printed text differs from the bill's (for the log: names of fields, never values). */
  changed: string[];
}

/**
 * The one normalisation step between a bill and a device: every text the device prints goes through
 * `printableText` with the device's repertoire and limits. `cashier` is the cashier the receipt names (the
 * bill's own, else the configured one), reported under `cashierField`. Throws ControlCharacterError or
 * UnprintableTextError naming the bill's field.
 */
export function registerTexts(
  bill: Bill,
  options: {
    repertoire: TextRepertoire;
    limits: RegisterTextLimits;
    cashier?: BillCashier;
    cashierField?: string;
    /** The buyer's texts the device sends (only these are normalised, so an unsent one never refuses). */
    customer?: { name: boolean; contact: boolean };
  },
): RegisterTexts {
  const { repertoire, limits } = options;
  const changed: string[] = [];
  const print = (text: string, field: string, maxLength: number) => {
    const printed = printableText(text, { field, maxLength, repertoire });
    if (printed !== text) changed.push(field);
    return printed;
  };
  const result: RegisterTexts = {
    positionNames: bill.positions.map((position, index) =>
      print(position.name, `positions[${index}].name`, limits.positionName),
    ),
    changed,
  };
  if (options.customer?.name && bill.customer?.name !== undefined)
    result.customerName = print(bill.customer.name, 'customer.name', limits.customerName);
  if (options.customer?.contact && bill.customer?.emailOrPhone !== undefined)
    result.customerContact = print(
      bill.customer.emailOrPhone,
      'customer.emailOrPhone',
      limits.customerContact,
    );
  if (bill.correction?.baseNumber !== undefined)
    result.correctionNumber = print(bill.correction.baseNumber, 'correction.baseNumber', 32);
  if (options.cashier) {
    const field = options.cashierField ?? 'cashier.name';
    result.cashier = { ...options.cashier, name: print(options.cashier.name, field, limits.cashierName) };
  }
  return result;
}
