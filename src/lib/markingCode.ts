/**
 * Marking codes (коды маркировки, Честный ЗНАК) as scanned from a DataMatrix: GS1 application identifiers
 * (AI) with the group separator GS (0x1D) between variable-length fields. What the agent relies on is in
 * docs/marking.md ("The code"): the code is kept exactly as scanned and handed to the register whole; the
 * agent reads only the GTIN (AI 01) and the serial (AI 21) out of it, to check the GTIN's digit, print the
 * code's short form and name it in logs.
 */

/** The GS1 group separator that ends a variable-length field (FNC1 in the symbol). */
export const GS = '\u001d';

/** Tag 2000 (код маркировки) holds up to 256 bytes; a code is ASCII. */
export const MAX_MARKING_CODE_LENGTH = 256;

/** Characters a marking code may hold: printable ASCII without space, and GS. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: GS (0x1D) is part of every GS1 marking code.
const CODE_CHARACTERS = /^[\x1d\x21-\x7e]+$/;

/** A GS1 code: AI 01 (14 digits), then AI 21 (serial up to 20 characters, ended by GS or the code). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: GS (0x1D) ends the serial.
const GS1_HEAD = /^01(\d{14})21([^\x1d]{1,20})/;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface Gs1MarkingParts {
  gtin: string;
  serial: string;
}

/** The GTIN and serial of a GS1 code, or undefined for any other shape (tobacco packs, furs…). */
export function gs1Parts(code: string): Gs1MarkingParts | undefined {
  const match = GS1_HEAD.exec(code);
  if (!match) return undefined;
  // Without GS the serial's end is not marked: a serial is at most 20 characters, and the AI that follows
  // (91, 92, 93) cannot be told from serial characters. Registers parse such codes themselves.
  return { gtin: match[1]!, serial: match[2]! };
}

/** GS1 check digit of a GTIN-14 (mod 10, weights 3 and 1 from the right, the last digit excluded). */
export function gtinCheckDigitValid(gtin: string): boolean {
  if (!/^\d{14}$/.test(gtin)) return false;
  let sum = 0;
  for (let i = 0; i < 13; i++) sum += Number(gtin[12 - i]) * (i % 2 === 0 ? 3 : 1);
  return (10 - (sum % 10)) % 10 === Number(gtin[13]);
}

/** What is wrong with a code as scanned, or undefined when the agent may pass it to a register. */
export function markingCodeProblem(code: string): string | undefined {
  if (code.length === 0) return 'the marking code is empty';
  if (code.length > MAX_MARKING_CODE_LENGTH)
    return `the marking code is ${code.length} characters long; at most ${MAX_MARKING_CODE_LENGTH}`;
  if (!CODE_CHARACTERS.test(code)) {
    return 'the marking code holds a character a DataMatrix code cannot (only ASCII without spaces, and GS between fields)';
  }
  if (code.startsWith(GS))
    return 'the marking code starts with GS (a scanner prefix?): send it as scanned, without it';
  const parts = gs1Parts(code);
  if (parts && !gtinCheckDigitValid(parts.gtin)) {
    return `the GTIN ${parts.gtin} in the marking code fails its check digit (a wrong or misread code)`;
  }
  return undefined;
}

/** Decodes the base64 form of a code (ATOL's `imc`); undefined when the text is not canonical base64. */
export function decodeMarkingCodeBase64(text: string): string | undefined {
  if (text.length === 0 || !BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) return undefined;
  return bytes.toString('latin1');
}

export function encodeMarkingCodeBase64(code: string): string {
  return Buffer.from(code, 'latin1').toString('base64');
}

/**
 * The code as tag 1305 (КТ GS1.М) carries it: AI 01 and AI 21 with their values, without the
 * verification part (AI 91/92/93). Undefined for a code that is not GS1.
 */
export function productCodeGs1M(code: string): string | undefined {
  const parts = gs1Parts(code);
  return parts ? `01${parts.gtin}21${parts.serial}` : undefined;
}

/**
 * The code's short form for receipts and logs: the GTIN and serial of a GS1 code, else its first 20
 * characters. Never the verification part.
 */
export function markingShortForm(code: string): string {
  const parts = gs1Parts(code);
  if (parts) return `${parts.gtin} ${parts.serial}`;
  return code.replaceAll(GS, ' ').slice(0, 20);
}
