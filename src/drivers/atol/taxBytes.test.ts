import { describe, expect, it } from 'vitest';
import { TAX_BYTE_PROFILES, TaxByteTable } from './taxBytes.js';

describe('TaxByteTable', () => {
  it('holds the bytes the sources show and leaves the 2026 rates unknown', () => {
    const table = TaxByteTable.forRegister({ model: 61, firmwareVersion: '5.8.1234' });
    expect(table.byteFor('vat20')).toBe(1);
    expect(table.byteFor('vat10')).toBe(2);
    expect(table.byteFor('vat120')).toBe(3);
    expect(table.byteFor('vat110')).toBe(4);
    expect(table.byteFor('vat0')).toBe(5);
    expect(table.byteFor('none')).toBe(6);
    expect(table.unknown(['vat5', 'vat7', 'vat105', 'vat107', 'vat22', 'vat122', 'vat20'])).toEqual([
      'vat5',
      'vat7',
      'vat105',
      'vat107',
      'vat22',
      'vat122',
    ]);
    expect(table.typeFor(3)).toBe('vat120');
  });

  it('lists every rate with its byte and where the byte comes from, for a self-test to show', () => {
    const table = TaxByteTable.forRegister(undefined, { vat22: 13 });
    const list = table.list();
    expect(list).toHaveLength(12);
    expect(list.find((e) => e.type === 'vat22')).toEqual({ type: 'vat22', byte: 13, origin: 'config' });
    expect(list.find((e) => e.type === 'vat20')).toEqual({
      type: 'vat20',
      byte: 1,
      origin: TAX_BYTE_PROFILES[0]!.name,
    });
    expect(list.find((e) => e.type === 'vat5')).toEqual({ type: 'vat5', byte: undefined, origin: 'unknown' });
  });

  it('lets configuration move a known byte too', () => {
    const table = TaxByteTable.forRegister(undefined, { vat20: 7, vat120: 8 });
    expect(table.byteFor('vat20')).toBe(7);
    expect(table.typeFor(1)).toBeUndefined();
  });

  it('refuses a configured byte that is not a byte, or one two rates would share, naming the field', () => {
    expect(() => TaxByteTable.forRegister(undefined, { vat22: 0 })).toThrow(
      /taxBytes\.vat22: must be a byte 1–255/,
    );
    expect(() => TaxByteTable.forRegister(undefined, { vat22: 1 })).toThrow(
      /taxBytes\.vat22: byte 1 is already the byte of vat20/,
    );
  });
});
