import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMinor, parseDecimalToMinor, roundHalfUpDiv } from './decimal.js';
import { ValidationError } from './errors.js';

const exact = (text: string, digits = 2) => parseDecimalToMinor(text, digits, { field: 'summ' });
const halfUp = (text: string, digits = 2) =>
  parseDecimalToMinor(text, digits, { field: 'summ', rounding: 'halfUp', allowNegative: true });

function failure(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('parseDecimalToMinor', () => {
  it('scales decimal text to minor units exactly', () => {
    expect(exact('3442.71')).toBe(344271);
    expect(exact('12.3')).toBe(1230);
    expect(exact('15931')).toBe(1593100);
    expect(exact('0.01')).toBe(1);
    expect(exact('0')).toBe(0);
    expect(exact('3000', 0)).toBe(3000);
    expect(exact('0.25', 3)).toBe(250);
  });

  it('never goes through floats: values that floats get wrong come out exact', () => {
    expect(exact('0.3')).toBe(30); // 0.1 + 0.2 !== 0.3 in floats
    expect(exact('1.15')).toBe(115); // 1.15 * 100 === 114.99999999999999
    expect(halfUp('2.675')).toBe(268); // (2.675).toFixed(2) === "2.67"
    expect(halfUp('1.005')).toBe(101); // (1.005).toFixed(2) === "1.00"
  });

  it('rejects more fraction digits than allowed when exact, naming the field', () => {
    const error = failure(() => exact('0.005'));
    expect(error.field).toBe('summ');
    expect(error.message).toBe('summ: "0.005" has more than 2 fraction digits');
    expect(() => exact('3000.5', 0)).toThrow('more than 0 fraction digits');
    expect(() => exact('1.0005', 3)).toThrow('more than 3 fraction digits');
  });

  it('accepts trailing zeros beyond the allowed digits when the value is exact', () => {
    expect(exact('12.300000')).toBe(1230);
    expect(exact('3000.00', 0)).toBe(3000);
  });

  it('rounds half away from zero when asked', () => {
    expect(halfUp('0.005')).toBe(1);
    expect(halfUp('0.004999')).toBe(0);
    expect(halfUp('0.015')).toBe(2); // banker's rounding would give 2 as well; 0.025 tells them apart
    expect(halfUp('0.025')).toBe(3);
    expect(halfUp('-0.005')).toBe(-1);
    expect(halfUp('-0.0049')).toBe(0);
    expect(halfUp('2.5', 0)).toBe(3);
  });

  it('applies exponents exactly', () => {
    expect(exact('1e3')).toBe(100000);
    expect(exact('1E3', 0)).toBe(1000);
    expect(exact('1.5e2')).toBe(15000);
    expect(exact('1.5e+2')).toBe(15000);
    expect(exact('1e-2')).toBe(1);
    expect(exact('344271e-2')).toBe(344271);
    expect(() => exact('1e-3')).toThrow('more than 2 fraction digits');
    expect(halfUp('5e-3')).toBe(1);
    expect(halfUp('4e-3')).toBe(0);
    expect(() => exact('0e999999')).toThrow(/exponent out of range/); // even for zero: no real input has one
  });

  it('rejects absurd exponents and values beyond safe integers', () => {
    expect(() => exact('1e401')).toThrow(/exponent out of range/);
    expect(() => exact('1e-9999999999')).toThrow(/exponent out of range/);
    expect(() => exact('1e20')).toThrow(/too large/);
    expect(exact('90071992547409.91')).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => exact('90071992547409.92')).toThrow(/too large/);
    expect(() => exact('123456789012345678901234567890')).toThrow(/too large/);
    expect(() => exact('1'.repeat(500))).toThrow(/not a decimal number/);
  });

  it('rejects negative numbers unless allowed, and reads "-0" as zero', () => {
    expect(() => exact('-5')).toThrow('summ: "-5" must not be negative');
    expect(() => exact('-0.01')).toThrow(/must not be negative/);
    expect(parseDecimalToMinor('-5', 2, { field: 'x', allowNegative: true })).toBe(-500);
    expect(Object.is(exact('-0'), 0)).toBe(true);
    expect(Object.is(exact('-0.00'), 0)).toBe(true);
    expect(Object.is(halfUp('-0.001'), 0)).toBe(true);
  });

  it('tolerates leading zeros, whose value is unambiguous', () => {
    expect(exact('007.50')).toBe(750);
    expect(exact('0000')).toBe(0);
    expect(exact('00.01')).toBe(1);
  });

  it.each([
    '',
    ' 1',
    '1 ',
    '+1',
    '.5',
    '5.',
    '1.2.3',
    'abc',
    '1e',
    '1e+',
    '0x10',
    'Infinity',
    'NaN',
    '1_000',
    '--1',
    '١٢',
  ])('rejects %j as not a decimal number', (text) => {
    expect(() => exact(text)).toThrow(ValidationError);
    expect(() => exact(text)).toThrow(/not a decimal number/);
  });

  it('hints at the decimal separator for "1,5"', () => {
    expect(() => exact('1,5')).toThrow("use '.' as the decimal separator");
  });

  it('rejects non-string input with a ValidationError', () => {
    expect(() => exact(12 as unknown as string)).toThrow(ValidationError);
  });

  it('treats a bad fractionDigits as a programming error', () => {
    expect(() => parseDecimalToMinor('1', -1, { field: 'x' })).toThrow(RangeError);
    expect(() => parseDecimalToMinor('1', 1.5, { field: 'x' })).toThrow(RangeError);
  });
});

describe('formatMinor', () => {
  it('writes the shortest decimal text', () => {
    expect(formatMinor(344271, 2)).toBe('3442.71');
    expect(formatMinor(1593100, 2)).toBe('15931');
    expect(formatMinor(93960, 2)).toBe('939.6');
    expect(formatMinor(0, 2)).toBe('0');
    expect(formatMinor(5, 2)).toBe('0.05');
    expect(formatMinor(-5, 2)).toBe('-0.05');
    expect(formatMinor(-100, 2)).toBe('-1');
    expect(formatMinor(3000, 0)).toBe('3000');
    expect(formatMinor(250, 3)).toBe('0.25');
    expect(formatMinor(85000, 3)).toBe('85');
    expect(formatMinor(Number.MAX_SAFE_INTEGER, 2)).toBe('90071992547409.91');
    expect(formatMinor(10n ** 22n + 1n, 2)).toBe('100000000000000000000.01');
  });

  it('refuses numbers that are not safe integers', () => {
    expect(() => formatMinor(0.1, 2)).toThrow(RangeError);
    expect(() => formatMinor(2 ** 53, 2)).toThrow(RangeError);
    expect(() => formatMinor(1, -1)).toThrow(RangeError);
  });
});

describe('roundHalfUpDiv', () => {
  it('rounds halves away from zero', () => {
    expect(roundHalfUpDiv(5n, 2n)).toBe(3n);
    expect(roundHalfUpDiv(-5n, 2n)).toBe(-3n);
    expect(roundHalfUpDiv(5n, -2n)).toBe(-3n);
    expect(roundHalfUpDiv(4n, 3n)).toBe(1n);
    expect(roundHalfUpDiv(5n, 3n)).toBe(2n);
    expect(roundHalfUpDiv(0n, 7n)).toBe(0n);
    expect(roundHalfUpDiv(603n * 20n, 120n)).toBe(101n); // 6.03 @ 20 %: 1.005 → 1.01
  });

  it('refuses division by zero', () => {
    expect(() => roundHalfUpDiv(1n, 0n)).toThrow(RangeError);
  });

  it('is the nearest integer, ties away from zero (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        (a, b) => {
          const r = roundHalfUpDiv(a, b);
          const twiceError = 2n * (a - r * b);
          const absTwiceError = twiceError < 0n ? -twiceError : twiceError;
          expect(absTwiceError <= b).toBe(true);
          if (absTwiceError === b) {
            const absR = r < 0n ? -r : r;
            const absA = a < 0n ? -a : a;
            expect(absR * b > absA).toBe(true);
          }
        },
      ),
    );
  });
});

describe('round trips (properties)', () => {
  it('parse(format(minor)) === minor', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: 6 }),
        (minor, digits) => {
          const text = formatMinor(minor, digits);
          expect(parseDecimalToMinor(text, digits, { field: 'x', allowNegative: true })).toBe(minor);
        },
      ),
    );
  });

  it('format(parse(text)) === text for canonical decimal text', () => {
    const canonical = fc
      .tuple(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.stringMatching(/^(\d{0,1}[1-9])?$/), // 0–2 fraction digits, no trailing zero
      )
      .map(([integer, fraction]) => (fraction ? `${integer}.${fraction}` : `${integer}`));
    fc.assert(
      fc.property(canonical, (text) => {
        expect(formatMinor(exact(text), 2)).toBe(text);
      }),
    );
  });
});
