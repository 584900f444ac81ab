import { z } from 'zod';
import { MARKING_STATUS_NAMES } from '../../lib/ffd.js';
import { markingCodeProblem } from '../../lib/markingCode.js';

/**
 * Marked positions in ATOL's FFD 1.2 vocabulary (docs/protocol/atol-driver10-marking.md): the code, its
 * planned status (`itemEstimatedStatus`, tags 2003/2110), a fraction of a pack (`itemFractionalAmount`,
 * 1291) and the result of the register's check (`itemInfoCheckResult`, 2106), and the permissive mode's
 * industry requisite (`industryInfo`, 1260). Shared by the receipt of both backends; only the driver-10
 * backend can sell them (the protocol v3 backend refuses, docs/marking.md).
 */

/**
 * Tag 2106, "результат проверки сведений о товаре", as ATOL's JSON spells its bits (ATOL's scripts,
 * `getItemInfoCheckResult`: bit 0 … bit 4).
 */
export interface ItemInfoCheckResult {
  /** Bit 0: the code was checked by the FN and/or ОИСМ. */
  imcCheckFlag: boolean;
  /** Bit 1: the verification part of the code is genuine. */
  imcCheckResult: boolean;
  /** Bit 2: ОИСМ checked the item's status. */
  imcStatusInfo: boolean;
  /** Bit 3: ОИСМ confirmed the planned status. */
  imcEstimatedStatusCorrect: boolean;
  /** Bit 4: the register worked offline (autonomous mode) when it checked. */
  ecrStandAloneFlag: boolean;
}

export const itemInfoCheckResultSchema = z.strictObject({
  imcCheckFlag: z.boolean(),
  imcCheckResult: z.boolean(),
  imcStatusInfo: z.boolean(),
  imcEstimatedStatusCorrect: z.boolean(),
  ecrStandAloneFlag: z.boolean(),
});

const CHECK_BITS = [
  'imcCheckFlag',
  'imcCheckResult',
  'imcStatusInfo',
  'imcEstimatedStatusCorrect',
  'ecrStandAloneFlag',
] as const;

/** The 2106 byte of a check result. */
export function checkResultByte(result: ItemInfoCheckResult): number {
  return CHECK_BITS.reduce((byte, name, bit) => (result[name] ? byte | (1 << bit) : byte), 0);
}

export function checkResultFromByte(byte: number): ItemInfoCheckResult {
  const bit = (n: number) => (byte & (1 << n)) !== 0;
  return {
    imcCheckFlag: bit(0),
    imcCheckResult: bit(1),
    imcStatusInfo: bit(2),
    imcEstimatedStatusCorrect: bit(3),
    ecrStandAloneFlag: bit(4),
  };
}

/**
 * A check that confirms the sale: checked, genuine, status checked and as planned. ATOL's own sell script
 * accepts a code on exactly these four bits (`validateMarkingCodes`); anything less is declined.
 */
export const checkConfirms = (result: ItemInfoCheckResult): boolean =>
  result.imcCheckFlag && result.imcCheckResult && result.imcStatusInfo && result.imcEstimatedStatusCorrect;

export const receiptMarkingSchema = z.object({
  /** The code as scanned (GS kept); the web backend sends it as base64. */
  code: z.string().superRefine((code, ctx) => {
    const problem = markingCodeProblem(code);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  status: z.enum(MARKING_STATUS_NAMES),
  fraction: z
    .object({ numerator: z.number().int().min(1), denominator: z.number().int().min(2) })
    .refine((f) => f.numerator < f.denominator, 'the numerator must be less than the denominator')
    .optional(),
  /** The register's check (2106), filled in by the backend before the sale. */
  checkResult: itemInfoCheckResultSchema.optional(),
});

export type ReceiptMarking = z.output<typeof receiptMarkingSchema>;

/** Tag 1260 (industry requisite of a position): 1262 ФОИВ, 1263 date (DD.MM.YYYY), 1264 number, 1265. */
export const industryInfoSchema = z.object({
  fois: z.string().regex(/^\d{3}$/, 'must be the three-digit ФОИВ id'),
  date: z.string().regex(/^\d{2}\.\d{2}\.\d{4}$/, 'must be DD.MM.YYYY'),
  number: z.string().min(1).max(32),
  attribute: z.string().min(1).max(256),
});

export type IndustryInfo = z.output<typeof industryInfoSchema>;
