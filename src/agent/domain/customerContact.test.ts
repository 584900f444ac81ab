import { describe, expect, it } from 'vitest';
import { chooseCustomerContact, normalizeEmail, normalizePhone } from './customerContact.js';

/** The error a call throws, for asserting its code and field (and that it never quotes the contact). */
function thrown(call: () => unknown): { code?: string; field?: string; message: string } {
  try {
    call();
  } catch (error) {
    return error as { code?: string; field?: string; message: string };
  }
  throw new Error('expected a throw');
}

describe('normalizePhone: a subscriber number as tag 1008 takes it, "+{digits}"', () => {
  it.each([
    // The seed's minion cheque (posap, POST /cheque/minion/entity/retaildemand): 8 is the trunk prefix.
    ['89992223311', '+79992223311'],
    // The seed's counterparty create example.
    ['+7 925 8762323', '+79258762323'],
    ['8 (999) 222-33-11', '+79992223311'],
    ['7 999 222 33 11', '+79992223311'],
    ['9992223311', '+79992223311'],
    ['+79161234567', '+79161234567'],
    ['+375 29 123-45-67', '+375291234567'],
    // Vietnam: 11 digits beginning with 8, a real country code (84).
    ['+84 91 234 5678', '+84912345678'],
  ])('%s → %s', (text, expected) => {
    expect(normalizePhone(text, 'x.phone')).toBe(expected);
  });

  it.each([
    // The seed's quick-start chequePhone: six digits are nobody's phone.
    ['123456'],
    // The seed's counterparty "АО компания-банк": a +7 number with 13 digits.
    ['+7 666 555 444 333'],
    ['+7 999 222 33 11 доб. 12'],
    ['8-800-CALL-NOW'],
    ['++79992223311'],
    ['12345678901234567'],
    ['+1234567890123456'],
    ['89992223311, 89992223312'],
    // A Russian mobile with its trunk prefix after a "+": no country code 89 exists.
    ['+8 999 222 33 11'],
    ['+0 999 222 33 11'],
  ])('%s is refused naming the field, not the value', (text) => {
    const error = thrown(() => normalizePhone(text, 'counterparty.phone'));
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'counterparty.phone' });
    expect(error.message).not.toContain(text.trim());
  });
});

describe('normalizeEmail', () => {
  it.each([
    ['1@m.com', '1@m.com'],
    [' aoalmost@bank.ru ', 'aoalmost@bank.ru'],
    ['email@example.com', 'email@example.com'],
    ['покупатель@почта.рф', 'покупатель@почта.рф'],
    ['first.last+tag@sub.example.org', 'first.last+tag@sub.example.org'],
  ])('%s → %s', (text, expected) => {
    expect(normalizeEmail(text, 'x.email')).toBe(expected);
  });

  it.each([
    ['no-at-sign'],
    ['two@@m.com'],
    ['a b@m.com'],
    ['a@m'],
    ['a@-m.com'],
    ['a@m.c0m'],
    [`${'k'.repeat(60)}@m.com`],
    ['a@m.com\u0007'],
  ])('%j is refused naming the field, not the value', (text) => {
    const error = thrown(() => normalizeEmail(text, 'counterparty.email'));
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'counterparty.email' });
    expect(error.message).not.toContain(text);
  });
});

describe('chooseCustomerContact', () => {
  const phone = { value: '8 999 222 33 11', field: 'p' };
  const email = { value: '1@m.com', field: 'e' };

  it('both given: the phone unless the priority says e-mail', () => {
    expect(chooseCustomerContact({ phone, email })).toBe('+79992223311');
    expect(chooseCustomerContact({ phone, email }, true)).toBe('+79992223311');
    expect(chooseCustomerContact({ phone, email }, false)).toBe('1@m.com');
  });

  it('one given: that one, whatever the priority; blanks count as absent', () => {
    expect(chooseCustomerContact({ email }, true)).toBe('1@m.com');
    expect(chooseCustomerContact({ phone: { value: '  ', field: 'p' }, email }, true)).toBe('1@m.com');
    expect(chooseCustomerContact({ phone }, false)).toBe('+79992223311');
    expect(chooseCustomerContact({})).toBeUndefined();
    expect(
      chooseCustomerContact({ phone: { value: '', field: 'p' }, email: { value: ' ', field: 'e' } }),
    ).toBe(undefined);
  });

  it('only the chosen contact is checked: a bad chosen one is refused, not swapped for the other', () => {
    const badPhone = { value: '123456', field: 'counterparty.phone' };
    expect(thrown(() => chooseCustomerContact({ phone: badPhone, email }, true))).toMatchObject({
      field: 'counterparty.phone',
    });
    expect(chooseCustomerContact({ phone: badPhone, email }, false)).toBe('1@m.com');
  });
});
