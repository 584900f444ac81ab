import { describe, expect, it } from 'vitest';
import { decodeVln } from '../../drivers/atol/protocol/tlv.js';
import { documentSize, documentTlvs, encodeFvln, fiscalSign } from './fiscalDocuments.js';

describe('fiscal documents', () => {
  it('signs deterministically: the same document, the same sign; another number, another sign', () => {
    const a = fiscalSign('7281440500001234', 10, 1_767_225_600, 45_550);
    expect(fiscalSign('7281440500001234', 10, 1_767_225_600, 45_550)).toEqual(a);
    expect(fiscalSign('7281440500001234', 11, 1_767_225_600, 45_550).value).not.toBe(a.value);
    expect(a.bytes).toHaveLength(6);
    expect(a.bytes.readUInt32BE(2)).toBe(a.value);
  });

  it('writes quantities as FVLN with the fewest decimal places', () => {
    expect(encodeFvln(2_000)).toEqual(Buffer.of(0, 2));
    expect(encodeFvln(1_500)).toEqual(Buffer.of(1, 15));
    const grams = encodeFvln(347);
    expect(grams[0]).toBe(3);
    expect(decodeVln(grams.subarray(1))).toBe(347);
  });

  it('hands a document out one TLV at a time and announces the size of the whole list', () => {
    const document = { number: 1, type: 3, tlvHex: '100404000100000011040200ab09' };
    expect(documentTlvs(document)).toEqual([
      Buffer.from('1004040001000000', 'hex'),
      Buffer.from('11040200ab09', 'hex'),
    ]);
    expect(documentSize(document)).toBe(14);
  });
});
