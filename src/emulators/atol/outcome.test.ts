import { describe, expect, it } from 'vitest';
import { EXTENDED_ERRORS, PROTOCOL_ERRORS } from '../../drivers/atol/protocol/deviceErrors.js';
import { ErrorCode, ExtendedCode } from './outcome.js';
import { EmulatorVatTable, vatIncluded } from './vat.js';

describe('error codes and VAT', () => {
  it('answers only with codes the driver knows', () => {
    for (const [name, code] of Object.entries(ErrorCode)) {
      if (code === ErrorCode.Extended) continue;
      expect(PROTOCOL_ERRORS.has(code), name).toBe(true);
    }
    for (const [name, code] of Object.entries(ExtendedCode))
      expect(EXTENDED_ERRORS.has(code), name).toBe(true);
  });

  it('computes VAT contained in an amount, rounded half up', () => {
    expect(vatIncluded(12_000, 20)).toBe(2_000);
    expect(vatIncluded(10_000, 20)).toBe(1_667);
    expect(vatIncluded(10_500, 5)).toBe(500);
    expect(vatIncluded(1_000, 22)).toBe(180);
    expect(vatIncluded(1_000, undefined)).toBe(0);
  });

  it('takes the tax bytes the sources show, and stand-ins for the 2026 rates', () => {
    const table = new EmulatorVatTable();
    expect(table.rateForCode(1)).toMatchObject({ type: 'vat20', label: 'НДС 20%' });
    expect(table.rateForCode(3)).toMatchObject({ type: 'vat120' });
    expect(table.rateForCode(5)).toMatchObject({ type: 'vat0' });
    expect(table.rateForCode(6)).toMatchObject({ type: 'none', percent: undefined });
    expect(table.rateForCode(13)).toMatchObject({ type: 'vat22', label: 'НДС 22%' });
    // 7 and 8 are the driver API's numbers for 20 % (LIBFPTR_TAX_VAT20/120), not wire bytes.
    expect(table.rateForCode(7)).toBeUndefined();
    expect(table.rateForCode(0)).toBeUndefined();
    expect(table.rateForCode(15)).toBeUndefined();
  });

  it('emulates a firmware with its own table: a rate moved, a rate unknown, a clash refused', () => {
    const table = new EmulatorVatTable({ vat22: 21, vat5: 0 });
    expect(table.rateForCode(21)).toMatchObject({ type: 'vat22' });
    expect(table.rateForCode(13)).toBeUndefined();
    expect(table.byteFor('vat5')).toBeUndefined();
    expect(() => new EmulatorVatTable({ vat22: 1 })).toThrow(/taxBytes.vat22: byte 1 is already vat20's/);
  });
});
