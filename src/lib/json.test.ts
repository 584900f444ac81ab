import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from './errors.js';
import {
  formatFieldPath,
  isLosslessNumber,
  JsonMalformedError,
  jsonDecimal,
  jsonIdString,
  jsonInteger,
  jsonMinor,
  LosslessNumber,
  losslessToPlain,
  parseJsonLossless,
  parseWithSchema,
  stringifyJsonLossless,
} from './json.js';

function malformed(text: string): JsonMalformedError {
  try {
    parseJsonLossless(text);
  } catch (error) {
    if (error instanceof JsonMalformedError) return error;
    throw error;
  }
  throw new Error('expected JSON_MALFORMED');
}

function issuesOf(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  return result.success ? [] : result.error.issues.map((issue) => issue.message);
}

describe('parseJsonLossless', () => {
  it('keeps the decimal text of every number', () => {
    const parsed = parseJsonLossless(
      '{"summ": 3442.71, "price": 13.05, "quantity": 85, "tiny": 1e-7}',
    ) as Record<string, unknown>;
    expect(isLosslessNumber(parsed['summ'])).toBe(true);
    expect(String(parsed['summ'])).toBe('3442.71');
    expect(String(parsed['price'])).toBe('13.05');
    expect(String(parsed['quantity'])).toBe('85');
    expect(String(parsed['tiny'])).toBe('1e-7');
  });

  it('keeps integers beyond 2^53 digit for digit', () => {
    const parsed = parseJsonLossless('[9007199254740993, 1.50]') as unknown[];
    expect(String(parsed[0])).toBe('9007199254740993');
    expect(String(parsed[1])).toBe('1.50');
  });

  it('leaves strings, booleans and null alone', () => {
    expect(parseJsonLossless('{"a":"3442.71","b":true,"c":null,"d":[]}')).toEqual({
      a: '3442.71',
      b: true,
      c: null,
      d: [],
    });
  });

  it('stores "__proto__" as an ordinary key', () => {
    const parsed = parseJsonLossless('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('throws JSON_MALFORMED with the position, line and column', () => {
    const error = malformed('{"a":1,');
    expect(error.code).toBe('JSON_MALFORMED');
    expect(error.position).toBe(7);
    expect(error.details).toMatchObject({ position: 7, line: 1, column: 8 });
    expect(error.message).toMatch(/^The JSON text is malformed at line 1, column 8: /);

    const multiLine = malformed('{\n  "a": 1,\n  "b": }');
    expect(multiLine.details).toMatchObject({ line: 3, column: 8 });
  });

  it.each([
    ['empty text', ''],
    ['trailing comma', '[1,]'],
    ['single quotes', "{'a':1}"],
    ['NaN', '{"x":NaN}'],
    ['leading zero', '[00]'],
    ['bare fraction', '[.5]'],
    ['trailing garbage', '{} x'],
    ['unterminated string', '"abc'],
  ])('rejects %s', (_, text) => {
    expect(malformed(text).code).toBe('JSON_MALFORMED');
  });

  it('rejects duplicate keys with different values', () => {
    expect(malformed('{"summ":1,"summ":2}').message).toMatch(/Duplicate key 'summ'/);
  });
});

describe('jsonDecimal', () => {
  const schema = z.object({ summ: jsonDecimal() });

  it('yields the decimal text of a JSON number', () => {
    expect(schema.parse(parseJsonLossless('{"summ": 3442.71}'))).toEqual({ summ: '3442.71' });
  });

  it('accepts plain JS numbers only when they are safe integers', () => {
    expect(schema.parse({ summ: 15931 })).toEqual({ summ: '15931' });
    expect(issuesOf(schema, { summ: 0.1 })[0]).toMatch(
      /^expected a number, got the non-integer JS number 0.1/,
    );
  });

  it.each([
    ['a string', { summ: '3442.71' }, 'expected a number, got a string'],
    ['a boolean', { summ: true }, 'expected a number, got a boolean'],
    ['null', { summ: null }, 'expected a number, got null'],
    ['nothing', {}, 'expected a number, got nothing'],
    ['an array', { summ: [1] }, 'expected a number, got an array'],
  ])('rejects %s', (_, value, message) => {
    expect(issuesOf(schema, value)).toEqual([message]);
  });

  it('works with .optional()', () => {
    expect(z.object({ summ: jsonDecimal().optional() }).parse({})).toEqual({});
  });
});

describe('jsonMinor', () => {
  const kopecks = jsonMinor({ fractionDigits: 2, max: 1_000_000 });

  it('scales JSON numbers to exact integers: 0.1 + 0.2 is 30 kopecks, never 0.30000000000000004', () => {
    const [a, b] = z.array(kopecks).parse(parseJsonLossless('[0.1, 0.2]'));
    expect(a).toBe(10);
    expect(b).toBe(20);
    expect((a ?? 0) + (b ?? 0)).toBe(30);
  });

  it('reports extra fraction digits, negatives, the limit and strings as issues', () => {
    expect(issuesOf(kopecks, new LosslessNumber('0.005'))).toEqual([
      '"0.005" has more than 2 fraction digits',
    ]);
    expect(issuesOf(kopecks, new LosslessNumber('-1'))).toEqual(['"-1" must not be negative']);
    expect(issuesOf(kopecks, new LosslessNumber('10000.01'))).toEqual(['10000.01 exceeds the limit']);
    expect(issuesOf(kopecks, '1.00')).toEqual(['expected a number, got a string']);
  });

  it('rounds half-up and allows negatives when configured', () => {
    const lenient = jsonMinor({ fractionDigits: 2, rounding: 'halfUp', allowNegative: true });
    expect(lenient.parse(new LosslessNumber('-1.005'))).toBe(-101);
  });
});

describe('jsonInteger', () => {
  it('accepts safe integers within the bounds', () => {
    const schema = jsonInteger({ min: 1, max: 1000 });
    expect(schema.parse(new LosslessNumber('7'))).toBe(7);
    expect(schema.parse(new LosslessNumber('1e3'))).toBe(1000);
    expect(schema.parse(new LosslessNumber('5.0'))).toBe(5);
    expect(issuesOf(schema, new LosslessNumber('5.5'))).toEqual(['expected an integer, got 5.5']);
    expect(issuesOf(schema, new LosslessNumber('0'))).toEqual(['0 is outside 1..1000']);
    expect(issuesOf(schema, new LosslessNumber('1001'))).toEqual(['1001 is outside 1..1000']);
    expect(issuesOf(schema, '7')).toEqual(['expected a number, got a string']);
  });

  it('rejects integers beyond 2^53 instead of rounding them', () => {
    expect(issuesOf(jsonInteger(), new LosslessNumber('9007199254740993'))).toEqual([
      '"9007199254740993" is too large',
    ]);
    expect(jsonInteger().parse(new LosslessNumber('-42'))).toBe(-42);
  });
});

describe('jsonIdString', () => {
  const schema = jsonIdString();

  it('bridges integer and string ids to strings', () => {
    expect(schema.parse(parseJsonLossless('346044'))).toBe('346044');
    expect(schema.parse('346044')).toBe('346044');
    expect(schema.parse('7001-CRM')).toBe('7001-CRM');
    expect(schema.parse(parseJsonLossless('9007199254740993'))).toBe('9007199254740993');
    expect(schema.parse(346044)).toBe('346044');
  });

  it('rejects fractions, exponents, booleans, empty and oversized ids', () => {
    expect(issuesOf(schema, new LosslessNumber('1.5'))).toEqual([
      'expected an integer or a string id, got the number 1.5',
    ]);
    expect(issuesOf(schema, new LosslessNumber('1e3'))).toHaveLength(1);
    expect(issuesOf(schema, true)).toEqual(['expected an integer or a string id, got a boolean']);
    expect(issuesOf(schema, null)).toHaveLength(1);
    expect(issuesOf(schema, '')).toEqual(['id must be 1..128 characters long']);
    expect(issuesOf(jsonIdString({ maxLength: 4 }), '12345')).toEqual(['id must be 1..4 characters long']);
  });
});

describe('parseWithSchema', () => {
  const bill = z.object({
    id: jsonIdString(),
    products: z.array(z.object({ price: jsonMinor({ fractionDigits: 2 }), prodname: z.string() })),
  });

  it('returns the parsed value', () => {
    const text = '{"id":346044,"products":[{"price":3442.71,"prodname":"Крем"}]}';
    expect(parseWithSchema(bill, parseJsonLossless(text))).toEqual({
      id: '346044',
      products: [{ price: 344271, prodname: 'Крем' }],
    });
  });

  it('throws a ValidationError naming the first failing field, with all issues in details', () => {
    const value = parseJsonLossless(
      '{"id":1,"products":[{"price":1,"prodname":"a"},{"price":1,"prodname":"b"},{"price":"2.50","prodname":3}]}',
    );
    let caught: unknown;
    try {
      parseWithSchema(bill, value, 'bill');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const error = caught as ValidationError;
    expect(error.field).toBe('bill.products[2].price');
    expect(error.message).toBe('bill.products[2].price: expected a number, got a string');
    expect(error.details['issues']).toEqual([
      { field: 'bill.products[2].price', reason: 'expected a number, got a string' },
      {
        field: 'bill.products[2].prodname',
        reason: 'Invalid input: expected string, received LosslessNumber',
      },
    ]);
  });

  it('names an unknown key itself', () => {
    const strict = z.strictObject({ a: z.object({ b: z.string() }).strict() });
    expect(() => parseWithSchema(strict, { a: { b: 'x', typo: 1 } })).toThrow('a.typo: unknown field');
  });

  it('formats paths with brackets for indices', () => {
    expect(formatFieldPath(['positions', 3, 'amountMinor'])).toBe('positions[3].amountMinor');
    expect(formatFieldPath([0, 'a'])).toBe('[0].a');
    expect(formatFieldPath([], 'bill')).toBe('bill');
  });
});

describe('losslessToPlain and stringifyJsonLossless', () => {
  it('turns numbers into JS numbers only where the text survives, for logs', () => {
    const parsed = parseJsonLossless(
      '{"summ":3442.71,"id":9007199254740993,"p":1.50,"list":[1,{"q":2e3}],"s":"x"}',
    );
    expect(losslessToPlain(parsed)).toEqual({
      summ: 3442.71,
      id: '9007199254740993',
      p: '1.50',
      list: [1, { q: '2e3' }],
      s: 'x',
    });
  });

  it('writes numbers back with their original text', () => {
    const text = '{"summ":3442.71,"p":1.50,"id":9007199254740993}';
    expect(stringifyJsonLossless(parseJsonLossless(text))).toBe(text);
  });
});
