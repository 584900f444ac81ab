import { z } from 'zod';
import { parseWithSchema } from '../../lib/json.js';
import {
  FULL_PERCENT_BASIS_POINTS,
  MAX_QUANTITY_MILLI,
  MAX_SUM_MINOR,
  MIN_QUANTITY_MILLI,
  moneyToWire,
  percentToWire,
  quantityToWire,
} from './wireDecimal.js';
import type { WireMarking, WirePrintBlock, WireSale, WireSaleItem } from './wireSale.js';

/**
 * A sale as kkt-agent hands it to the driver. Names follow the terminal's vocabulary (`itemList`,
 * `nameTitle`, `codeNumber`) so that anyone who knows the SmartX pages recognises them; amounts are integers
 * in kopecks (`…Minor`), quantities in thousandths (`quantityMilli`), percents in basis points.
 */

/** A discount or a markup: a percent of the amount, or a fixed sum. */
export type IntentModifier =
  | { kind: 'percent'; basisPoints: number }
  | { kind: 'amount'; amountMinor: number };

/** A marking code: СИ (identification means) or УКЗ (unified control mark). */
export type IntentMarking = { si: string } | { ukz: string };

/** A block printed before (`prefix`) or after (`suffix`) the receipt body. */
export type IntentPrintBlock = { kind: 'text'; text: string } | { kind: 'qrCode'; qrCode: string };

export interface IntentSection {
  code: number;
  name: string;
}

export interface IntentSaleItem {
  nameTitle?: string | undefined;
  codeNumber: string;
  /** "0" for an internal code, "1" on the vendor's marked-goods example; passed through as given. */
  typeCode?: string | undefined;
  priceMinor: number;
  quantityMilli: number;
  markings?: IntentMarking[] | undefined;
  discount?: IntentModifier | undefined;
  increase?: IntentModifier | undefined;
  section?: IntentSection | undefined;
}

export interface IntentSale {
  cashier: string;
  itemList: IntentSaleItem[];
  cashMinor?: number | undefined;
  cashlessMinor?: number | undefined;
  certificateMinor?: number | undefined;
  chequeDiscount?: IntentModifier | undefined;
  chequeIncrease?: IntentModifier | undefined;
  /** Third-party taxpayer number (УНП, 9 digits). */
  tpTaxNumber?: number | undefined;
  printCheque?: boolean | undefined;
  prefix?: IntentPrintBlock[] | undefined;
  suffix?: IntentPrintBlock[] | undefined;
}

// --- validation: catch a bad sale here, with the field named, before anything goes to the terminal ---------

const amountMinor = z.number().int().min(0).max(MAX_SUM_MINOR);
const nonEmptyText = (maxLength: number) => z.string().trim().min(1).max(maxLength);

const discountSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('percent'),
    basisPoints: z.number().int().min(0).max(FULL_PERCENT_BASIS_POINTS),
  }),
  z.object({ kind: z.literal('amount'), amountMinor }),
]);

const increaseSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('percent'), basisPoints: z.number().int().min(0).max(MAX_SUM_MINOR) }),
  z.object({ kind: z.literal('amount'), amountMinor }),
]);

const markingSchema = z.union([
  z.strictObject({ si: nonEmptyText(512) }),
  z.strictObject({ ukz: nonEmptyText(512) }),
]);

const printBlockSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), text: z.string() }),
  z.object({ kind: z.literal('qrCode'), qrCode: z.string().min(1) }),
]);

const itemSchema = z.object({
  nameTitle: z.string().max(256).optional(),
  codeNumber: nonEmptyText(64),
  typeCode: z.string().max(8).optional(),
  priceMinor: amountMinor,
  quantityMilli: z.number().int().min(MIN_QUANTITY_MILLI).max(MAX_QUANTITY_MILLI),
  markings: z.array(markingSchema).optional(),
  discount: discountSchema.optional(),
  increase: increaseSchema.optional(),
  section: z.object({ code: z.number().int().min(0), name: z.string().max(256) }).optional(),
});

const saleSchema = z.object({
  cashier: nonEmptyText(128),
  itemList: z.array(itemSchema).min(1),
  cashMinor: amountMinor.optional(),
  cashlessMinor: amountMinor.optional(),
  certificateMinor: amountMinor.optional(),
  chequeDiscount: discountSchema.optional(),
  chequeIncrease: increaseSchema.optional(),
  tpTaxNumber: z.number().int().min(100_000_000).max(999_999_999).optional(),
  printCheque: z.boolean().optional(),
  prefix: z.array(printBlockSchema).optional(),
  suffix: z.array(printBlockSchema).optional(),
});

const operationIdSchema = nonEmptyText(128);

/** Checks a sale and throws a ValidationError naming the first bad field (e.g. `sale.itemList[1].priceMinor`). */
export function validateSale(sale: unknown): IntentSale {
  return parseWithSchema(saleSchema, sale, 'sale');
}

// --- encoding: the exact JSON the vendor's page shows ------------------------------------------------------

/** Builds the wire `Sale` body. Validates first; `operationId` is sent as given. */
export function encodeSale(sale: IntentSale, operationId: string): WireSale {
  const valid = validateSale(sale);
  const id = parseWithSchema(operationIdSchema, operationId, 'operationId');
  const wire: WireSale = {
    cashier: valid.cashier,
    itemList: valid.itemList.map(encodeItem),
    cash: moneyToWire(valid.cashMinor ?? 0),
    cashless: moneyToWire(valid.cashlessMinor ?? 0),
    certificate: moneyToWire(valid.certificateMinor ?? 0),
  };
  if (valid.chequeIncrease) {
    wire.isPercentIncrease = valid.chequeIncrease.kind === 'percent';
    wire.chequeIncrease = modifierToWire(valid.chequeIncrease);
  }
  if (valid.chequeDiscount) {
    wire.isPercentDiscount = valid.chequeDiscount.kind === 'percent';
    wire.chequeDiscount = modifierToWire(valid.chequeDiscount);
  }
  if (valid.tpTaxNumber !== undefined) wire.tpTaxNumber = valid.tpTaxNumber;
  if (valid.printCheque !== undefined) wire.printCheque = valid.printCheque;
  if (valid.prefix) wire.prefix = valid.prefix.map(printBlockToWire);
  if (valid.suffix) wire.suffix = valid.suffix.map(printBlockToWire);
  wire.operationId = id;
  return wire;
}

function encodeItem(item: IntentSaleItem): WireSaleItem {
  // Built in the page's key order, which makes logged bodies easy to compare with the vendor's examples.
  const wire: WireSaleItem = {
    ...(item.nameTitle !== undefined ? { nameTitle: item.nameTitle } : {}),
    codeNumber: item.codeNumber,
    ...(item.typeCode !== undefined ? { typeCode: item.typeCode } : {}),
    ...(item.markings ? { markings: item.markings.map(markingToWire) } : {}),
    price: moneyToWire(item.priceMinor),
    amount: quantityToWire(item.quantityMilli),
  };
  if (item.discount) {
    wire.isPercentDiscount = item.discount.kind === 'percent';
    wire.discount = modifierToWire(item.discount);
  }
  if (item.increase) {
    wire.isPercentIncrease = item.increase.kind === 'percent';
    wire.increase = modifierToWire(item.increase);
  }
  if (item.section) wire.section = { code: item.section.code, name: item.section.name };
  return wire;
}

function modifierToWire(modifier: IntentModifier): string {
  return modifier.kind === 'percent'
    ? percentToWire(modifier.basisPoints)
    : moneyToWire(modifier.amountMinor);
}

function markingToWire(marking: IntentMarking): WireMarking {
  return 'si' in marking ? { si: marking.si } : { ukz: marking.ukz };
}

function printBlockToWire(block: IntentPrintBlock): WirePrintBlock {
  return block.kind === 'text' ? { Text: { text: block.text } } : { QrCode: { qrCode: block.qrCode } };
}
