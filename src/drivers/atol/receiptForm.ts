import { Tag } from './commands/receipt.js';
import type { TaxByteEntry } from './taxBytes.js';

/**
 * FFD version codes, as register 0x36 and tag 1209 give them (TerminalClient reads register 0x36 byte by
 * byte into the same numbering): 1 = 1.0, 2 = 1.05, 3 = 1.1, 4 = 1.2.
 */
export const FfdVersion = { V1_0: 1, V1_05: 2, V1_1: 3, V1_2: 4 } as const;

export const ffdName = (code: number): string =>
  ({ 1: '1.0', 2: '1.05', 3: '1.1', 4: '1.2' })[code] ?? `code ${code}`;

/**
 * The FFD version the register writes documents to: register 0x36 reports the register's and the FN's;
 * the lower one is what both can do (docs/protocol/atol-v3.md §9).
 */
export function effectiveFfdVersion(versions: { kkt: number; fn: number }): number {
  return versions.fn > 0 ? Math.min(versions.kkt, versions.fn) : versions.kkt;
}

/** What the driver writes into receipts on one register, and what that register may take. */
export interface ReceiptForm {
  /** The effective FFD version code (2 = 1.05, 4 = 1.2). */
  ffdVersion: number;
  ffdName: string;
  /** Receipt-level tags the driver may write with `E8` (1227/1228 on 1.05; STLV 1256 holding them on 1.2). */
  receiptTags: number[];
  /** Position-level tags (between `EA` and `EB`): 2108 on FFD 1.2 only. */
  positionTags: number[];
  /** Every VAT rate with its `EB` byte, or none. */
  taxBytes: TaxByteEntry[];
}

export function isFfd12(ffdVersion: number): boolean {
  return ffdVersion >= FfdVersion.V1_2;
}

export function receiptForm(ffdVersion: number, taxBytes: TaxByteEntry[]): ReceiptForm {
  const buyer = isFfd12(ffdVersion) ? [Tag.buyerInfo] : [Tag.buyerName, Tag.buyerInn];
  return {
    ffdVersion,
    ffdName: ffdName(ffdVersion),
    receiptTags: [
      Tag.customerContact,
      Tag.cashierName,
      Tag.taxationSystem,
      Tag.marker,
      Tag.cashierInn,
      ...buyer,
    ],
    positionTags: isFfd12(ffdVersion) ? [Tag.measurementUnit] : [],
    taxBytes,
  };
}

/**
 * An INN inside `E8` (1203, 1228 …) is 12 characters: a company's 10 digits are padded with spaces, as
 * TerminalClient and Crystals do (docs/protocol/atol-v3.md §6).
 */
export const innField = (inn: string): string => inn.padEnd(12, ' ');
