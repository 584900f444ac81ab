import { isLosslessNumber, LosslessNumber, parse, stringify } from 'lossless-json';
import { z } from 'zod';
import { type DecimalRounding, parseDecimalToMinor } from './decimal.js';
import { KktAgentError, ValidationError } from './errors.js';

/**
 * External JSON is parsed losslessly: every JSON number stays a LosslessNumber holding its decimal text, so
 * "summ": 3442.71 is never a float and an id like 9007199254740993 is never rounded. Schemas then turn those
 * numbers into exact integers (minor units, thousandths) or strings with the helpers below.
 */

export { isLosslessNumber, LosslessNumber };

/** The text is not JSON. `position` is the zero-based character offset where the parser gave up. */
export class JsonMalformedError extends KktAgentError {
  readonly position: number | undefined;

  constructor(
    reason: string,
    position: number | undefined,
    line: number | undefined,
    column: number | undefined,
  ) {
    const where = line === undefined ? '' : ` at line ${line}, column ${column}`;
    super('JSON_MALFORMED', `The JSON text is malformed${where}: ${reason}`, {
      reason,
      position,
      line,
      column,
    });
    this.position = position;
  }
}

/**
 * Parses JSON keeping every number as a LosslessNumber. Duplicate keys with different values are rejected
 * (the library's default): in a money payload they are a bug or an attack, never something to guess at.
 */
export function parseJsonLossless(text: string): unknown {
  try {
    return parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const found = /position (\d+)/.exec(reason);
    const position = found ? Number(found[1]) : undefined;
    const { line, column } =
      position === undefined ? { line: undefined, column: undefined } : lineAndColumn(text, position);
    throw new JsonMalformedError(reason, position, line, column);
  }
}

/** Serializes a value that may hold LosslessNumbers, writing each number's original text. */
export function stringifyJsonLossless(value: unknown): string {
  const text = stringify(value);
  if (text === undefined) throw new TypeError('stringifyJsonLossless: the value has no JSON form');
  return text;
}

/**
 * For logs and debugging only, never for arithmetic: LosslessNumbers become JS numbers when the number
 * prints back as the very same text ("3442.71"), otherwise they stay strings ("9007199254740993", "1.50").
 */
export function losslessToPlain(value: unknown): unknown {
  if (isLosslessNumber(value)) {
    const text = value.toString();
    const asNumber = Number(text);
    return String(asNumber) === text ? asNumber : text;
  }
  if (Array.isArray(value)) return value.map(losslessToPlain);
  if (value !== null && typeof value === 'object') {
    const plain: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(plain, key, {
        value: losslessToPlain(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return plain;
  }
  return value;
}

// --- zod helpers over parseJsonLossless output -------------------------------------------------------------

/** The decimal text of a JSON number. Plain JS numbers are taken only when they are safe integers (exact). */
function numberText(value: unknown): string | undefined {
  if (isLosslessNumber(value)) return value.toString();
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number')
    return `the non-integer JS number ${value} (parse JSON with parseJsonLossless)`;
  return `a ${typeof value}`;
}

/** A JSON number, yielded as its decimal text ("3442.71"). Strings, booleans and null are rejected. */
export function jsonDecimal() {
  return z.unknown().transform((value, ctx): string => {
    const text = numberText(value);
    if (text === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a number, got ${describeValue(value)}` });
      return z.NEVER;
    }
    return text;
  });
}

export interface JsonMinorOptions {
  /** 2 for kopecks, 0 for whole so'm, 3 for thousandths. */
  fractionDigits: number;
  rounding?: DecimalRounding;
  allowNegative?: boolean;
  /** Inclusive upper bound in scaled units. */
  max?: number;
}

/** A JSON number scaled to an exact safe integer: with fractionDigits 2, 3442.71 → 344271. */
export function jsonMinor(options: JsonMinorOptions) {
  const { fractionDigits, rounding = 'exact', allowNegative = false, max } = options;
  return jsonDecimal().transform((text, ctx): number => {
    let scaled: number;
    try {
      scaled = parseDecimalToMinor(text, fractionDigits, { field: '', rounding, allowNegative });
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: reasonOf(error) });
      return z.NEVER;
    }
    if (max !== undefined && scaled > max) {
      ctx.addIssue({ code: 'custom', message: `${text} exceeds the limit` });
      return z.NEVER;
    }
    return scaled;
  });
}

export interface JsonIntegerOptions {
  min?: number;
  max?: number;
}

/** A JSON number that is a safe integer within [min, max]; "1e3" and "5.0" count, "5.5" does not. */
export function jsonInteger(options: JsonIntegerOptions = {}) {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = options;
  return jsonDecimal().transform((text, ctx): number => {
    let value: number;
    try {
      value = parseDecimalToMinor(text, 0, { field: '', rounding: 'exact', allowNegative: true });
    } catch (error) {
      const reason = reasonOf(error);
      ctx.addIssue({
        code: 'custom',
        message: /fraction digit/.test(reason) ? `expected an integer, got ${text}` : reason,
      });
      return z.NEVER;
    }
    if (value < min || value > max) {
      ctx.addIssue({ code: 'custom', message: `${text} is outside ${min}..${max}` });
      return z.NEVER;
    }
    return value;
  });
}

const INTEGER_TEXT = /^-?\d+$/;

/**
 * An identifier that bridges send as a JSON integer (346044) or a string ("346044"), yielded as a string.
 * Integers keep their exact digits even beyond 2^53; fractions and exponents are rejected.
 */
export function jsonIdString(options: { maxLength?: number } = {}) {
  const { maxLength = 128 } = options;
  return z.unknown().transform((value, ctx): string => {
    const text = typeof value === 'string' ? value : numberText(value);
    if (text === undefined || (typeof value !== 'string' && !INTEGER_TEXT.test(text))) {
      ctx.addIssue({
        code: 'custom',
        message: `expected an integer or a string id, got ${describeId(value)}`,
      });
      return z.NEVER;
    }
    if (text.length === 0 || text.length > maxLength) {
      ctx.addIssue({ code: 'custom', message: `id must be 1..${maxLength} characters long` });
      return z.NEVER;
    }
    return text;
  });
}

function describeId(value: unknown): string {
  if (isLosslessNumber(value)) return `the number ${value.toString()}`;
  return describeValue(value);
}

// --- turning zod failures into ValidationError --------------------------------------------------------------

/** Formats a zod issue path the way technicians read it: `positions[3].amountMinor`. */
export function formatFieldPath(path: ReadonlyArray<PropertyKey>, prefix = ''): string {
  let text = prefix;
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text ? `.${String(key)}` : String(key);
  }
  return text;
}

/**
 * Runs a schema and throws a ValidationError naming the first failing field (with every issue in
 * `details.issues`). `rootField` prefixes the paths, e.g. "bill".
 */
export function parseWithSchema<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  rootField = '',
): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) =>
    // zod reports unknown keys on the parent object; name the key itself, which is what needs fixing.
    issue.code === 'unrecognized_keys'
      ? { field: formatFieldPath([...issue.path, issue.keys[0] ?? ''], rootField), reason: 'unknown field' }
      : { field: formatFieldPath(issue.path, rootField), reason: issue.message },
  );
  const first = issues[0] ?? { field: rootField, reason: 'invalid' };
  throw new ValidationError(first.field, first.reason, { issues });
}

function reasonOf(error: unknown): string {
  if (error instanceof ValidationError) return String(error.details['reason']);
  return error instanceof Error ? error.message : String(error);
}

function lineAndColumn(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(position, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
