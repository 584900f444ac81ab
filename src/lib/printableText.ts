import iconv from 'iconv-lite';
import { ValidationError } from './errors.js';

/**
 * Text a register prints: product names, tag values, the cashier, the buyer. Catalogues and CRMs are full of
 * typography a register's character set lacks (« » — “ ” …, no-break spaces, accented letters), and one
 * such character must not stop a paid sale from getting its receipt. `printableText` brings any text into a
 * register's repertoire the way a person would retype it; only control characters are refused, because
 * they have no printed form and must never reach a signed fiscal document. docs/money.md, "Text on the
 * receipt", has the rules and their reasons.
 */

/** The characters a device can print. */
export interface TextRepertoire {
  readonly name: string;
  canPrint(char: string): boolean;
}

function cp866Printable(): Set<string> {
  const bytes: number[] = [];
  // Every CP866 byte except the C0 controls, DEL and 0xFF (a no-break space, which becomes a plain one).
  for (let byte = 0x20; byte <= 0xfe; byte++) if (byte !== 0x7f) bytes.push(byte);
  return new Set(iconv.decode(Buffer.from(bytes), 'cp866'));
}

/**
 * CP866, the character set of ATOL registers (docs/money.md, "Text on the receipt"): ASCII, Russian, Ё ё
 * Є є Ї ї Ў ў, № ° · √ ¤ and box drawing. The table is iconv-lite's, not ours.
 */
export const CP866_REPERTOIRE: TextRepertoire = (() => {
  const printable = cp866Printable();
  return { name: 'CP866', canPrint: (char) => printable.has(char) };
})();

const NOT_PRINTABLE_UNICODE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]$/u;

/**
 * Any assigned Unicode character with a visible form, for devices that take UTF-8 JSON and document no
 * narrower set (the SmartX terminal, docs/intent.md "Text on the receipt").
 */
export const UNICODE_REPERTOIRE: TextRepertoire = {
  name: 'Unicode',
  canPrint: (char) => !NOT_PRINTABLE_UNICODE.test(char),
};

// --- refusals ---------------------------------------------------------------------------------------------

const CONTROL = /\p{Cc}/u;
const CONTROL_NAMES: Record<number, string> = {
  0: 'NUL',
  7: 'BEL',
  8: 'BS',
  9: 'TAB',
  10: 'LF',
  11: 'VT',
  12: 'FF',
  13: 'CR',
  27: 'ESC',
  127: 'DEL',
};

/** A C0 control, DEL or a C1 control in text meant for a register: it has no printed form. */
export class ControlCharacterError extends ValidationError {
  readonly codePoint: number;

  constructor(field: string, codePoint: number, position: number) {
    const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
    const name = CONTROL_NAMES[codePoint];
    super(
      field,
      `contains the control character ${hex}${name ? ` (${name})` : ''} at character ${position}; ` +
        'control characters cannot be printed on a receipt, remove it in the source system',
      { codePoint, position },
      'TEXT_CONTROL_CHARACTER',
    );
    this.codePoint = codePoint;
  }
}

/** Nothing printable is left of the text (it held only invisible characters). */
export class UnprintableTextError extends ValidationError {
  constructor(field: string, repertoire: string) {
    super(field, `has no character a register can print (${repertoire})`, {}, 'TEXT_NOT_PRINTABLE');
  }
}

/** The first control character (C0, DEL, C1) in `text`, with its 1-based character position. */
export function findControlCharacter(text: string): { codePoint: number; position: number } | undefined {
  if (!CONTROL.test(text)) return undefined;
  let position = 0;
  for (const char of text) {
    position++;
    if (CONTROL.test(char)) return { codePoint: char.codePointAt(0)!, position };
  }
  return undefined;
}

/** Throws ControlCharacterError naming `field` when `text` holds a control character. */
export function assertNoControlCharacters(text: string, field: string): void {
  const found = findControlCharacter(text);
  if (found) throw new ControlCharacterError(field, found.codePoint, found.position);
}

// --- normalisation ----------------------------------------------------------------------------------------

/**
 * What a person types instead of the typography a register lacks. Only characters without a usable
 * compatibility decomposition are here; the rest (… ™ ½ ﬁ full-width forms, accented letters) go through
 * Unicode NFKD below.
 */
const TYPOGRAPHY: Record<string, string> = {
  // double quotes and guillemets
  '«': '"',
  '»': '"',
  '“': '"',
  '”': '"',
  '„': '"',
  '‟': '"',
  '″': '"',
  '‶': '"',
  '〝': '"',
  '〞': '"',
  '˝': '"',
  // single quotes, apostrophes, single guillemets
  '‘': "'",
  '’': "'",
  '‚': "'",
  '‛': "'",
  '′': "'",
  '‵': "'",
  '‹': "'",
  '›': "'",
  ʼ: "'",
  '´': "'",
  // dashes, hyphens and the minus sign
  '‐': '-',
  '‑': '-',
  '‒': '-',
  '–': '-',
  '—': '-',
  '―': '-',
  '−': '-',
  '⁃': '-',
  '…': '...',
  '‗': '_',
  '•': '*',
  '⁄': '/',
  '∕': '/',
  '×': 'x',
  '±': '+-',
  '≤': '<=',
  '≥': '>=',
  '≈': '~',
  '©': '(C)',
  '®': '(R)',
  '€': 'EUR',
  '₽': 'руб.',
  // Ukrainian and Belarusian letters CP866 lacks, by their Latin look-alikes
  І: 'I',
  і: 'i',
  Ґ: 'Г',
  ґ: 'г',
};

const SPACE = /^\p{Z}$/u;
const INVISIBLE = /^\p{Default_Ignorable_Code_Point}$/u;
const COMBINING_MARKS = /\p{M}/gu;
const HAS_PRINTABLE = /\S/;

/** One character without decomposition: kept, mapped, dropped (''), or undefined when none of these works. */
function simpleForm(char: string, repertoire: TextRepertoire): string | undefined {
  if (SPACE.test(char)) return ' ';
  if (INVISIBLE.test(char)) return '';
  if (repertoire.canPrint(char)) return char;
  const typed = TYPOGRAPHY[char];
  if (typed !== undefined && [...typed].every((c) => repertoire.canPrint(c))) return typed;
  return undefined;
}

/** é → e, ™ → TM, ½ → 1/2, Ａ → A: the compatibility decomposition without its accents, if all of it prints. */
function decomposedForm(char: string, repertoire: TextRepertoire): string | undefined {
  const base = char.normalize('NFKD').replace(COMBINING_MARKS, '');
  // A spacing accent or line (¨ ˘ ‗) decomposes to a space and a combining mark: it is not a space.
  if (base === '' || base === char || !HAS_PRINTABLE.test(base)) return undefined;
  let result = '';
  for (const part of base) {
    const form = simpleForm(part, repertoire);
    if (form === undefined) return undefined;
    result += form;
  }
  return result;
}

/** Names repeat the same few hundred characters: their forms are remembered, up to a bound. */
const MEMO_LIMIT = 8192;
const memos = new WeakMap<TextRepertoire, Map<string, string>>();

function memoFor(repertoire: TextRepertoire): Map<string, string> {
  let memo = memos.get(repertoire);
  if (!memo) {
    memo = new Map();
    memos.set(repertoire, memo);
  }
  return memo;
}

export interface PrintableTextOptions {
  /** The field the text came from, named in a refusal (`positions[2].name`). */
  field: string;
  /** At most this many characters are kept (the tag's limit); the rest is cut. */
  maxLength: number;
  repertoire: TextRepertoire;
}

/**
 * The text as the register will print it: spaces of every kind become a plain space, invisible format
 * characters go, typography becomes its ASCII stand-in, letters lose accents the repertoire lacks, anything
 * else becomes `?`; then it is cut to `maxLength` characters. Throws ControlCharacterError for a control
 * character and UnprintableTextError when nothing printable is left, both naming the field.
 */
export function printableText(text: string, options: PrintableTextOptions): string {
  const { field, maxLength, repertoire } = options;
  assertNoControlCharacters(text, field);
  const memo = memoFor(repertoire);
  let result = '';
  let length = 0;
  for (const char of text) {
    let form = memo.get(char);
    if (form === undefined) {
      form = simpleForm(char, repertoire) ?? decomposedForm(char, repertoire) ?? '?';
      if (memo.size < MEMO_LIMIT) memo.set(char, form);
    }
    if (form.length === 1 || form === '') {
      // The common case: one BMP character (or none) in, the same out.
      if (form !== '') {
        result += form;
        length++;
      }
    } else {
      for (const part of form) {
        if (length === maxLength) break;
        result += part;
        length++;
      }
    }
    if (length >= maxLength) break;
  }
  if (!HAS_PRINTABLE.test(result)) throw new UnprintableTextError(field, repertoire.name);
  return result;
}
