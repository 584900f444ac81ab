import { describe, expect, it } from 'vitest';
import { EXTENDED_ERRORS, PROTOCOL_ERRORS } from '../../drivers/atol/protocol/deviceErrors.js';
import { ErrorCode, ExtendedCode } from './outcome.js';
import { vatIncluded, vatRateForCode } from './vat.js';

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

  it('knows the modern tax codes and maps the legacy 18 % codes to 20 %', () => {
    expect(vatRateForCode(13)).toMatchObject({ type: 'vat22', label: 'НДС 22%' });
    expect(vatRateForCode(6)).toMatchObject({ type: 'none', percent: undefined });
    expect(vatRateForCode(1)).toMatchObject({ type: 'vat20' });
    expect(vatRateForCode(3)).toMatchObject({ type: 'vat120' });
    expect(vatRateForCode(0)).toBeUndefined();
    expect(vatRateForCode(15)).toBeUndefined();
  });
});
