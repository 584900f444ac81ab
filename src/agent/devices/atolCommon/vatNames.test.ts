import { describe, expect, it } from 'vitest';
import { TAX_TYPES } from '../../../drivers/atol/taxBytes.js';
import { VAT_TYPE_NAMES } from '../../domain/vat.js';

describe('VAT rate names', () => {
  it('are the same in the domain and in the ATOL tax-byte table, so every bill rate has a row', () => {
    expect([...VAT_TYPE_NAMES].sort()).toEqual([...TAX_TYPES].sort());
  });
});
