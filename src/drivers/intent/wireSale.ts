import { z } from 'zod';
import { optionalWire, wireBoolean, wireDecimalText, wireInteger, wireText } from './wireValues.js';

/**
 * The `Sale` body of the SALE intent, exactly as the vendor's page shows it: money and quantities are decimal
 * strings, `section.code` and `tpTaxNumber` are numbers. The driver writes this shape (strictly); the
 * emulator reads it with `wireSaleSchema` (leniently).
 */

export type WireMarking = { si: string } | { ukz: string };

export type WirePrintBlock = { Text: { text: string } } | { QrCode: { qrCode: string } };

export interface WireSection {
  code: number;
  name: string;
}

export interface WireSaleItem {
  nameTitle?: string;
  codeNumber: string;
  typeCode?: string;
  price: string;
  /** Quantity, not money (resultCodes 415/416 bound it to 0.001…9999.999). */
  amount: string;
  markings?: WireMarking[];
  isPercentDiscount?: boolean;
  discount?: string;
  isPercentIncrease?: boolean;
  increase?: string;
  section?: WireSection;
}

export interface WireSale {
  cashier: string;
  itemList: WireSaleItem[];
  cash: string;
  cashless: string;
  certificate: string;
  isPercentIncrease?: boolean;
  chequeIncrease?: string;
  isPercentDiscount?: boolean;
  chequeDiscount?: string;
  tpTaxNumber?: number;
  printCheque?: boolean;
  prefix?: WirePrintBlock[];
  suffix?: WirePrintBlock[];
  operationId?: string;
}

// --- reading a Sale body (the emulator's side) ------------------------------------------------------------

const markingSchema = z
  .object({ si: optionalWire(z.string()), ukz: optionalWire(z.string()) })
  .refine((marking) => (marking.si === undefined) !== (marking.ukz === undefined), {
    message: 'a marking carries exactly one of si, ukz',
  });

const printBlockSchema = z.union([
  z.object({ Text: z.object({ text: z.string() }) }),
  z.object({ QrCode: z.object({ qrCode: z.string() }) }),
]);

const wireSaleItemSchema = z.object({
  nameTitle: optionalWire(z.string()),
  codeNumber: wireText(),
  typeCode: optionalWire(wireText()),
  price: wireDecimalText(),
  amount: wireDecimalText(),
  markings: optionalWire(z.array(markingSchema)),
  isPercentDiscount: optionalWire(wireBoolean()),
  discount: optionalWire(wireDecimalText()),
  isPercentIncrease: optionalWire(wireBoolean()),
  increase: optionalWire(wireDecimalText()),
  section: optionalWire(z.object({ code: wireInteger(), name: z.string() })),
});

/** A Sale body as the terminal might accept it: numbers or strings for decimals, nulls for absent fields. */
export const wireSaleSchema = z.object({
  cashier: optionalWire(z.string()),
  itemList: z.array(wireSaleItemSchema).min(1),
  cash: optionalWire(wireDecimalText()),
  cashless: optionalWire(wireDecimalText()),
  certificate: optionalWire(wireDecimalText()),
  isPercentIncrease: optionalWire(wireBoolean()),
  chequeIncrease: optionalWire(wireDecimalText()),
  isPercentDiscount: optionalWire(wireBoolean()),
  chequeDiscount: optionalWire(wireDecimalText()),
  tpTaxNumber: optionalWire(wireInteger()),
  printCheque: optionalWire(wireBoolean()),
  prefix: optionalWire(z.array(printBlockSchema)),
  suffix: optionalWire(z.array(printBlockSchema)),
  operationId: optionalWire(wireText()),
});

/** A Sale body after lenient reading: decimals are trimmed decimal text, not yet range-checked. */
export type ParsedWireSale = z.output<typeof wireSaleSchema>;
export type ParsedWireSaleItem = ParsedWireSale['itemList'][number];
