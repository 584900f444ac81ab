import { describe, expect, it } from 'vitest';
import {
  decodeMarkingCodeBase64,
  encodeMarkingCodeBase64,
  GS,
  gs1Parts,
  gtinCheckDigitValid,
  markingCodeProblem,
  markingShortForm,
  productCodeGs1M,
} from './markingCode.js';

/**
 * Codes from public sources (docs/marking.md, "The code"): a shoe code from the ATOL driver example of a
 * public Lazarus POS, and the code of Честный ЗНАК's own `codes/check` answer quoted on the Fabius wiki.
 */
const SHOES =
  `010463003022541621Yu7t_HclAYqqD${GS}91006A${GS}` +
  '92lYF//jixJXUlaO7WTSPELeZj20OiWEYGcF2HCN8/cUN6f+atR6qDTy2Rw6q6ZSC9TFScVroPNfCL8N8gjgKH1g==';
const WIKI = `0104680029460908215jcmHzLmkdPML${GS}938p9E`;

describe('marking codes', () => {
  it('reads the GTIN and serial of a GS1 code, up to GS', () => {
    expect(gs1Parts(SHOES)).toEqual({ gtin: '04630030225416', serial: 'Yu7t_HclAYqqD' });
    expect(gs1Parts(WIKI)).toEqual({ gtin: '04680029460908', serial: '5jcmHzLmkdPML' });
    expect(gs1Parts('0000046185372KY4mjNZAB=U/FkO')).toBeUndefined();
  });

  it('checks the GTIN digit (GS1 mod 10)', () => {
    expect(gtinCheckDigitValid('04630030225416')).toBe(true);
    expect(gtinCheckDigitValid('04680029460908')).toBe(true);
    expect(gtinCheckDigitValid('04630030225417')).toBe(false);
    expect(gtinCheckDigitValid('4630030225416')).toBe(false);
  });

  it('accepts codes as scanned and names what is wrong with the rest', () => {
    expect(markingCodeProblem(SHOES)).toBeUndefined();
    expect(markingCodeProblem(WIKI)).toBeUndefined();
    // A tobacco pack code has no AIs: opaque, passed as it is.
    expect(markingCodeProblem('00000046185372KY4mjNZAB=U/FkO')).toBeUndefined();
    expect(markingCodeProblem('')).toMatch(/empty/);
    expect(markingCodeProblem('0104680029460908215jcm Hz')).toMatch(/character/);
    expect(markingCodeProblem('0104680029460908215jcm\nHz')).toMatch(/character/);
    expect(markingCodeProblem(`${GS}${WIKI}`)).toMatch(/starts with GS/);
    expect(markingCodeProblem('x'.repeat(257))).toMatch(/257 characters/);
    // ATOL's documented sample code passes; one misread digit of its GTIN does not.
    expect(markingCodeProblem(`014494550435306821QXYXSALGLMYQQ${GS}91EE06`)).toBeUndefined();
    expect(markingCodeProblem(`014494550435307821QXYXSALGLMYQQ${GS}91EE06`)).toMatch(
      /GTIN 44945504353078 .* check digit/,
    );
  });

  it('decodes canonical base64 only, and round-trips GS', () => {
    const base64 = encodeMarkingCodeBase64(WIKI);
    expect(decodeMarkingCodeBase64(base64)).toBe(WIKI);
    expect(decodeMarkingCodeBase64('not base64!')).toBeUndefined();
    expect(decodeMarkingCodeBase64('QQ')).toBeUndefined();
    expect(decodeMarkingCodeBase64('')).toBeUndefined();
  });

  it('gives tag 1305 and the printed short form without the verification part', () => {
    expect(productCodeGs1M(SHOES)).toBe('010463003022541621Yu7t_HclAYqqD');
    expect(productCodeGs1M('00000046185372KY4mjNZAB=U/FkO')).toBeUndefined();
    expect(markingShortForm(SHOES)).toBe('04630030225416 Yu7t_HclAYqqD');
    expect(markingShortForm('00000046185372KY4mjNZAB=U/FkO')).toBe('00000046185372KY4mjN');
  });
});
