import { z } from 'zod';
import {
  MARKING_STATUS_NAMES,
  type MarkingStatus,
  type PaymentObject,
  PERMISSIVE_MODE_REQUISITE,
} from '../../lib/ffd.js';
import { decodeMarkingCodeBase64, markingCodeProblem } from '../../lib/markingCode.js';
import type { MeasurementUnit } from './units.js';

/**
 * Marked goods (Честный ЗНАК) at position level: the code a position sells or takes back, and what the
 * register needs around it. docs/marking.md says what each field becomes on the receipt.
 */

export { MARKING_STATUS_NAMES, type MarkingStatus };

/** The permissive-mode check a source (or the agent's local module) made before the sale: tag 1265. */
export interface MarkingPermit {
  /** The check's request id (`reqId`). */
  uuid: string;
  /** The check's time (`reqTimestamp`), milliseconds since 1970. */
  timestampMs: number;
  /** An offline check by the local module names its instance and database version (`inst`, `version`). */
  instance?: string;
  version?: string;
}

export interface PositionMarking {
  /** The code as scanned, GS (0x1D) between its fields. */
  code: string;
  /** Tag 2110. Absent: derived from the operation and the position's measure (`markingStatusFor`). */
  status?: MarkingStatus;
  /** Tag 1291: the part of a pack sold (numerator < denominator); the position is then one piece. */
  fraction?: { numerator: number; denominator: number };
  /** Tag 1260's check, when the source made it. */
  permit?: MarkingPermit;
}

/** A Belarusian identification mark (СИ, средство идентификации; УКЗ, унифицированный контрольный знак). */
export interface IdentificationMark {
  kind: 'si' | 'ukz';
  value: string;
}

/** 1265 holds 256 characters; the check's UUID. */
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const PERMIT_TOKEN = /^[0-9A-Za-z._-]{1,64}$/;
/** Limits of 1293/1294 (VLN); a pack of more parts than this is not a pack. */
export const MAX_FRACTION_DENOMINATOR = 1_000_000;

const permitSchema = z.strictObject({
  uuid: z.string().regex(UUID, 'must be the check request UUID (reqId)'),
  timestampMs: z
    .number()
    .int()
    .min(1_500_000_000_000, 'must be the check time in milliseconds since 1970 (reqTimestamp)')
    .max(9_999_999_999_999),
  instance: z.string().regex(PERMIT_TOKEN).optional(),
  version: z.string().regex(PERMIT_TOKEN).optional(),
});

const fractionSchema = z
  .strictObject({
    numerator: z.number().int().min(1).max(MAX_FRACTION_DENOMINATOR),
    denominator: z.number().int().min(2).max(MAX_FRACTION_DENOMINATOR),
  })
  .refine((f) => f.numerator < f.denominator, 'the numerator must be less than the denominator');

const codeText = z.string().superRefine((code, ctx) => {
  const problem = markingCodeProblem(code);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * A position's marking as sources send it: the code as scanned (`code`, GS kept as U+001D) or its base64
 * (`codeBase64`, as ATOL's JSON carries it). The parsed form always holds `code`.
 */
export const positionMarkingSchema = z
  .strictObject({
    code: z.string().optional(),
    codeBase64: z.string().max(400).optional(),
    status: z.enum(MARKING_STATUS_NAMES).optional(),
    fraction: fractionSchema.optional(),
    permit: permitSchema.optional(),
  })
  .transform((input, ctx): PositionMarking => {
    if ((input.code === undefined) === (input.codeBase64 === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give the code as scanned (code) or its base64 (codeBase64)' });
      return z.NEVER;
    }
    let code = input.code;
    if (code === undefined) {
      code = decodeMarkingCodeBase64(input.codeBase64!);
      if (code === undefined) {
        ctx.addIssue({ code: 'custom', path: ['codeBase64'], message: 'is not base64' });
        return z.NEVER;
      }
    }
    const parsed = codeText.safeParse(code);
    if (!parsed.success) {
      ctx.addIssue({
        code: 'custom',
        path: [input.code === undefined ? 'codeBase64' : 'code'],
        message: parsed.error.issues[0]!.message,
      });
      return z.NEVER;
    }
    const marking: PositionMarking = { code };
    if (input.status) marking.status = input.status;
    if (input.fraction) marking.fraction = input.fraction;
    if (input.permit) marking.permit = input.permit;
    return marking;
  });

export const identificationMarkSchema = z.strictObject({
  kind: z.enum(['si', 'ukz']),
  value: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
});

/** What a marked position's fields must satisfy: one problem per field path, or none. */
export interface MarkingProblem {
  path: Array<string | number>;
  reason: string;
}

/** The payment objects a marked position may carry (1212 = 33 / 31 on the receipt). */
const MARKABLE: ReadonlySet<PaymentObject> = new Set([
  'commodity',
  'excise',
  'commodityWithMarking',
  'exciseWithMarking',
]);

const SOLD: ReadonlySet<MarkingStatus> = new Set(['itemPieceSold', 'itemDryForSale']);
const MEASURED: ReadonlySet<MarkingStatus> = new Set(['itemDryForSale', 'itemDryReturn']);

interface MarkablePosition {
  quantityMilli: number;
  unit: MeasurementUnit;
  paymentObject: PaymentObject;
  marking?: PositionMarking;
  identificationMarks?: IdentificationMark[];
}

/** True when the position sells by measure: any unit but the piece, or a part of a pack. */
export const soldByMeasure = (position: MarkablePosition): boolean =>
  position.unit !== 'piece' || position.marking?.fraction !== undefined;

/**
 * Checks each marked position on its own and the codes across the bill: a piece carries one code (quantity
 * 1), a part of a pack is one piece, a measured status fits a measured position, a code sells once.
 */
export function markingProblems(positions: readonly MarkablePosition[]): MarkingProblem[] {
  const problems: MarkingProblem[] = [];
  const seen = new Map<string, number>();
  positions.forEach((position, index) => {
    const marking = position.marking;
    if (marking && position.identificationMarks?.length) {
      problems.push({
        path: ['positions', index, 'identificationMarks'],
        reason: 'a position carries a Russian marking code or Belarusian marks, not both',
      });
    }
    if (!marking) return;
    const at = (field: string): Array<string | number> => ['positions', index, 'marking', field];
    if (!MARKABLE.has(position.paymentObject)) {
      problems.push({
        path: ['positions', index, 'paymentObject'],
        reason: `a marked position sells goods (commodity or excise), not "${position.paymentObject}"`,
      });
    }
    if (marking.fraction) {
      if (position.unit !== 'piece' || position.quantityMilli !== 1000) {
        problems.push({
          path: at('fraction'),
          reason: 'a part of a pack is sold as one piece (quantity 1, unit piece) with the part in fraction',
        });
      }
    } else if (position.unit === 'piece' && position.quantityMilli !== 1000) {
      problems.push({
        path: ['positions', index, 'quantityMilli'],
        reason:
          'a marked piece carries one code, so its quantity is 1; give one position per code (or a fraction for part of a pack)',
      });
    }
    if (marking.status && MEASURED.has(marking.status) !== soldByMeasure(position)) {
      problems.push({
        path: at('status'),
        reason: soldByMeasure(position)
          ? `${marking.status} is for a piece, but this position sells by measure`
          : `${marking.status} is for goods sold by measure, but this position sells one piece`,
      });
    }
    const earlier = seen.get(marking.code);
    if (earlier !== undefined) {
      problems.push({
        path: at('code'),
        reason: `the same code as positions[${earlier}]: a code sells once`,
      });
    } else {
      seen.set(marking.code, index);
    }
  });
  return problems;
}

/**
 * Tag 2110 of a marked position: the status the source gave, else sold or returned (by the operation), as
 * a piece or by measure (by the position). A source's status that contradicts the operation is a problem.
 */
export function markingStatusFor(position: MarkablePosition, returning: boolean): MarkingStatus {
  const given = position.marking?.status;
  if (given !== undefined) return given;
  const measured = soldByMeasure(position);
  if (returning) return measured ? 'itemDryReturn' : 'itemPieceReturn';
  return measured ? 'itemDryForSale' : 'itemPieceSold';
}

/** Positions whose given status says "sold" on a return, or "returned" on a sale. */
export function markingOperationProblems(
  positions: readonly MarkablePosition[],
  returning: boolean,
): MarkingProblem[] {
  const problems: MarkingProblem[] = [];
  positions.forEach((position, index) => {
    const status = position.marking?.status;
    if (status === undefined || SOLD.has(status) !== returning) return;
    problems.push({
      path: ['positions', index, 'marking', 'status'],
      reason: `${status} does not fit a ${returning ? 'return' : 'sale'}`,
    });
  });
  return problems;
}

/** Tag 1265 of a permit: `UUID=…&Time=…`, and `&Inst=…&Ver=…` for a local module's offline check. */
export function permitAttribute(permit: MarkingPermit): string {
  const offline =
    permit.instance !== undefined && permit.version !== undefined
      ? `&Inst=${permit.instance}&Ver=${permit.version}`
      : '';
  return `UUID=${permit.uuid}&Time=${permit.timestampMs}${offline}`;
}

/** The position's industry requisite 1260 for a permit: 1262, 1263, 1264 fixed by the regulation, 1265. */
export function permissiveRequisite(permit: MarkingPermit) {
  return { ...PERMISSIVE_MODE_REQUISITE, attribute: permitAttribute(permit) };
}

/** True when a bill sells or returns anything with a Russian marking code. */
export const hasMarkedPositions = (positions: readonly { marking?: PositionMarking }[]): boolean =>
  positions.some((position) => position.marking !== undefined);
