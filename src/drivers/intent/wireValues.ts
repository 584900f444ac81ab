import { z } from 'zod';
import { isLosslessNumber } from '../../lib/json.js';

/**
 * Lenient readers for values on the wire. The vendor's pages mix types (money as strings, `section.code` and
 * `resultCode` as numbers) and the one public client sent money as JSON numbers, so whatever we read may
 * come either way. Input must come from `parseJsonLossless`, which keeps every JSON number as its exact text.
 */

const DECIMAL_TEXT = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const INTEGER_TEXT = /^-?\d+$/;

function numberText(value: unknown): string | undefined {
  if (isLosslessNumber(value)) return value.toString();
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

/** Treats JSON null like an absent field. */
export function optionalWire<Schema extends z.ZodType>(schema: Schema) {
  return z.preprocess((value) => (value === null ? undefined : value), schema.optional());
}

/** A decimal as a string ("7.97") or a JSON number (7.97), yielded as trimmed decimal text. */
export function wireDecimalText() {
  return z.unknown().transform((value, ctx): string => {
    const text = typeof value === 'string' ? value.trim() : numberText(value);
    if (text === undefined || !DECIMAL_TEXT.test(text)) {
      ctx.addIssue({ code: 'custom', message: 'expected a decimal number or decimal string' });
      return z.NEVER;
    }
    return text;
  });
}

/** An integer as a JSON number (200) or a string ("200"), yielded as a safe integer. */
export function wireInteger() {
  return z.unknown().transform((value, ctx): number => {
    const text = typeof value === 'string' ? value.trim() : numberText(value);
    const parsed = text !== undefined && INTEGER_TEXT.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(parsed)) {
      ctx.addIssue({ code: 'custom', message: 'expected an integer' });
      return z.NEVER;
    }
    return parsed;
  });
}

/** Text that may also arrive as a JSON number ("1234" or 1234), yielded as a string with its exact digits. */
export function wireText() {
  return z.unknown().transform((value, ctx): string => {
    const text = typeof value === 'string' ? value : numberText(value);
    if (text === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected a string' });
      return z.NEVER;
    }
    return text;
  });
}

/** A boolean, also as the strings "true"/"false". */
export function wireBoolean() {
  return z.unknown().transform((value, ctx): boolean => {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    ctx.addIssue({ code: 'custom', message: 'expected a boolean' });
    return z.NEVER;
  });
}
