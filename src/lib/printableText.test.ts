import fc from 'fast-check';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { KktAgentError, ValidationError } from './errors.js';
import {
  ControlCharacterError,
  CP866_REPERTOIRE,
  findControlCharacter,
  printableText,
  UNICODE_REPERTOIRE,
  UnprintableTextError,
} from './printableText.js';

const cp866 = (text: string, maxLength = 128) =>
  printableText(text, { field: 'positions[0].name', maxLength, repertoire: CP866_REPERTOIRE });

/** Every character survives CP866 and none is a control: what the register prints is what we sent. */
function isPrintableCp866(text: string): boolean {
  return (
    iconv.decode(iconv.encode(text, 'cp866'), 'cp866') === text && findControlCharacter(text) === undefined
  );
}

describe('printableText on CP866 (ATOL registers)', () => {
  it('keeps Russian, ASCII, Ё, № and the CP866 extras as they are', () => {
    const text = 'Ёлка №5, 50% ° · √ ¤ ─ Ўў Її Єє $ @ ~';
    expect(cp866(text)).toBe(text);
  });

  it('prints the typography of the issue as a person would retype it', () => {
    expect(cp866('Чай «Эрл Грей» — 100 г')).toBe('Чай "Эрл Грей" - 100 г');
    expect(cp866('„Шоколад“ “Alpen” – ‘mini’ …')).toBe('"Шоколад" "Alpen" - \'mini\' ...');
    expect(cp866('L’Oréal Paris')).toBe("L'Oreal Paris");
    expect(cp866('№ 5 − 2 ‒ 1 ― 0 ‐ ‑')).toBe('№ 5 - 2 - 1 - 0 - -');
  });

  it('turns every kind of space into a plain space and drops invisible format characters', () => {
    // no-break, narrow no-break, thin, em, ideographic space; line separator
    expect(cp866('1\u00a0кг\u202fх\u2009у\u2003з\u3000ю\u2028я')).toBe('1 кг х у з ю я');
    // soft hyphen, zero-width space and joiners, word joiner, BOM, variation selector
    expect(cp866('Мо\u00adро\u200bже\u200dное\u2060\ufeff❤\ufe0f')).toBe('Мороженое?');
  });

  it('reduces letters with accents CP866 lacks (NFKD) and spells out compatibility forms', () => {
    expect(cp866('Crème brûlée, Müller, Señor, Ørsted')).toBe('Creme brulee, Muller, Senor, ?rsted');
    expect(cp866('½ л, ™, ﬁlo, Ａ４, x²')).toBe('1/2 л, TM, filo, A4, x2');
  });

  it('keeps a few symbols readable and puts ? for the rest', () => {
    expect(cp866('2×50 мл ±1 ©®₽€')).toBe('2x50 мл +-1 (C)(R)руб.EUR');
    expect(cp866('Чай 🍵 茶 α')).toBe('Чай ? ? ?');
    expect(cp866('Україна, Беларусь: і ґ')).toBe('Україна, Беларусь: i г');
  });

  it('cuts the result to the limit after expanding (… is three characters)', () => {
    expect(cp866('…'.repeat(50), 128)).toBe('.'.repeat(128));
    expect(cp866('a'.repeat(127) + '«b', 128)).toBe(`${'a'.repeat(127)}"`);
  });

  it('refuses a control character naming the field, its code point and position', () => {
    for (const [text, codePoint] of [
      ['Чай\u0000', 0x00],
      ['\u001b[31mЧай', 0x1b],
      ['Чай\r\nулун', 0x0d],
      ['Чай\nулун', 0x0a],
      ['Чай\tулун', 0x09],
      ['Ча\u0007й', 0x07],
      ['Чай\u007f', 0x7f],
      ['Чай\u0085', 0x85],
      ['Чай\u009b', 0x9b],
    ] as const) {
      let caught: unknown;
      try {
        cp866(text);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ControlCharacterError);
      expect(caught).toBeInstanceOf(ValidationError);
      const error = caught as ControlCharacterError;
      expect(error.code).toBe('TEXT_CONTROL_CHARACTER');
      expect(error.field).toBe('positions[0].name');
      expect(error.codePoint).toBe(codePoint);
      expect(error.message).toMatch(/^positions\[0\]\.name: contains the control character U\+00[0-9A-F]{2}/);
    }
    expect(() => cp866('a'.repeat(200) + '\u0000', 128)).toThrow(ControlCharacterError);
  });

  it('prints spacing accents and lines as a visible character, never as a blank (U+2017 was refused)', () => {
    expect(cp866('‗')).toBe('_');
    expect(cp866('\u02d8')).toBe('?');
    expect(cp866('a\u00a8b')).toBe('a?b');
  });

  it('refuses text with nothing printable left, naming the field', () => {
    expect(() => cp866('\u200b\u200d\ufeff')).toThrow(UnprintableTextError);
    expect(() => cp866('\u00a0\u3000')).toThrow(
      /positions\[0\]\.name: has no character a register can print/,
    );
  });

  it('property: any string prints in CP866 within the limit, or is refused naming the field', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.integer({ min: 1, max: 256 }),
        (text, max) => {
          let printed: string;
          try {
            printed = cp866(text, max);
          } catch (error) {
            expect(error).toBeInstanceOf(KktAgentError);
            expect((error as ValidationError).field).toBe('positions[0].name');
            expect(['TEXT_CONTROL_CHARACTER', 'TEXT_NOT_PRINTABLE']).toContain((error as KktAgentError).code);
            return;
          }
          expect(isPrintableCp866(printed)).toBe(true);
          expect(printed.length).toBeLessThanOrEqual(max);
          expect(printed).toMatch(/\S/);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('property: text without controls is never refused unless it is all invisible or blank', () => {
    const visible = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
      .filter((s) => /[^\p{Z}\p{Cc}\p{Default_Ignorable_Code_Point}]/u.test(s));
    fc.assert(
      fc.property(visible, (text) => {
        expect(isPrintableCp866(cp866(text))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('printableText on Unicode (SmartX)', () => {
  const unicode = (text: string) =>
    printableText(text, { field: 'itemList[0].nameTitle', maxLength: 128, repertoire: UNICODE_REPERTOIRE });

  it('keeps typography, Belarusian letters and emoji, normalises spaces, drops invisible characters', () => {
    expect(unicode('Гарбата «Беларуская» — і ў №1 🍵')).toBe('Гарбата «Беларуская» — і ў №1 🍵');
    expect(unicode('1\u00a0кг\u200b')).toBe('1 кг');
  });

  it('refuses control characters all the same', () => {
    expect(() => unicode('Гарбата\n')).toThrow(ControlCharacterError);
  });

  it('cuts by characters, never inside a surrogate pair', () => {
    const cut = printableText('🍵'.repeat(10), { field: 'f', maxLength: 3, repertoire: UNICODE_REPERTOIRE });
    expect(cut).toBe('🍵🍵🍵');
  });

  it('puts ? for lone surrogates, private-use and unassigned code points', () => {
    expect(unicode('a\ud800b\ue000c\u0378')).toBe('a?b?c?');
  });
});
