import { ValidationError } from '../../lib/errors.js';
import { BILL_LIMITS } from './bill.js';

/**
 * The buyer's contact as tag 1008 takes it (docs/fiscalization.md, "Change and e-receipts"): an e-mail
 * address, or a subscriber number written "+{digits}" (the form receipt APIs ask for, e.g. "+79161234567"
 * in ATOL's own task example), at most 64 characters. Contacts typed into a back office ("8 (999)
 * 222-33-11", "+7 925 8762323") are brought to that form here, once, for every source that needs it;
 * anything that cannot be a phone or an address is refused naming the field, never the value (a contact
 * must not reach the logs).
 */

/** E.164: at most 15 digits after the "+". */
const PHONE_MAX_DIGITS = 15;
/** Shorter than this is no subscriber number anywhere (the seed's quick-start "123456" is not one). */
const PHONE_MIN_DIGITS = 8;
/** A Russian (and Kazakh) number: country code 7 and a 10-digit national number. */
const RUSSIAN_DIGITS = 11;

/** What people put between digits; anything else (letters, "доб.", "#") makes it no phone number. */
const PHONE_SEPARATORS = /[\s()\-.\u00a0]/g;

/** A subscriber number as "+{digits}", or a ValidationError naming `field`. */
export function normalizePhone(text: string, field: string): string {
  const compact = text.trim().replace(PHONE_SEPARATORS, '');
  const found = /^(\+?)(\d+)$/.exec(compact);
  if (!found) throw new ValidationError(field, 'is not a phone number (digits, an optional leading "+")');
  const [, plus, digits] = found as unknown as [string, string, string];
  let international: string;
  if (plus) international = digits;
  else if (digits.length === RUSSIAN_DIGITS && (digits[0] === '8' || digits[0] === '7'))
    international = `7${digits.slice(1)}`; // 8 is the trunk prefix dialled inside Russia
  else if (digits.length === RUSSIAN_DIGITS - 1) international = `7${digits}`;
  else
    throw new ValidationError(
      field,
      'is not a phone number a receipt can go to: give it with its country code (+7…)',
    );
  // No country code begins with 0, and none is 89: "+8 9xx …" is a Russian mobile written with the trunk
  // prefix after a "+", and sending it on as +89… would send the receipt to nobody, or to someone else.
  if (international.startsWith('0') || international.startsWith('89'))
    throw new ValidationError(field, 'has no country code: give it as +7… (or the number without "+")');
  if (international.startsWith('7') && international.length !== RUSSIAN_DIGITS)
    throw new ValidationError(field, `a +7 number has ${RUSSIAN_DIGITS} digits`);
  if (international.length < PHONE_MIN_DIGITS || international.length > PHONE_MAX_DIGITS)
    throw new ValidationError(
      field,
      `a phone number has ${PHONE_MIN_DIGITS} to ${PHONE_MAX_DIGITS} digits with its country code`,
    );
  return `+${international}`;
}

/**
 * `local@domain.tld`: no spaces or control characters, one "@", a domain of dotted labels (letters of any
 * script, digits, hyphens: "почта.рф" is one).
 */
const EMAIL = /^[^\s@\p{Cc}]+@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+[\p{L}]{2,}$/u;

/** An e-mail address as tag 1008 takes it, or a ValidationError naming `field`. */
export function normalizeEmail(text: string, field: string): string {
  const address = text.trim();
  if (address.length > BILL_LIMITS.emailOrPhoneLength)
    throw new ValidationError(
      field,
      `is longer than the ${BILL_LIMITS.emailOrPhoneLength} characters of tag 1008`,
    );
  if (!EMAIL.test(address)) throw new ValidationError(field, 'is not an e-mail address');
  return address;
}

export interface ContactCandidates {
  phone?: { value: string; field: string };
  email?: { value: string; field: string };
}

/**
 * One contact for tag 1008 from a phone and an e-mail, either or both blank: when both are there,
 * `phonePriority` chooses (the phone unless it is false). Only the chosen one is checked: a bad phone is
 * refused, not quietly replaced by the e-mail the shop did not choose.
 */
export function chooseCustomerContact(
  candidates: ContactCandidates,
  phonePriority = true,
): string | undefined {
  const given = (candidate: { value: string; field: string } | undefined) =>
    candidate && candidate.value.trim() !== '' ? candidate : undefined;
  const phone = given(candidates.phone);
  const email = given(candidates.email);
  if (phone && (phonePriority || !email)) return normalizePhone(phone.value, phone.field);
  if (email) return normalizeEmail(email.value, email.field);
  return undefined;
}
