import { describe, expect, it } from 'vitest';
import {
  agentIdOf,
  counterpartyContact,
  findCounterparty,
  mapCustomerOrder,
  parseCustomerOrder,
} from '../../src/agent/connectors/moysklad/mapping.js';
import { parseJsonLossless } from '../../src/lib/json.js';
import { SEED_COUNTERPARTY_CREATED, SEED_COUNTERPARTY_LIST, SEED_CUSTOMER_ORDER } from './seed003.js';

/**
 * The buyer's contact of a customer order (docs/moysklad.md, "The buyer's contact"), on the reference's
 * own examples: the order names its buyer only as `agent{meta, name}`; the counterparty list carries the
 * `email` and the `phone`; the store's `isPhonePriority` chooses; tag 1008 gets "+{digits}" or an address.
 */

const json = (text: string) => parseJsonLossless(text) as Record<string, unknown>;
const seedOrder = () => parseCustomerOrder(json(SEED_CUSTOMER_ORDER));
const seedRows = () => json(SEED_COUNTERPARTY_LIST).rows as unknown[];

describe("a customer order's buyer, from the seed's examples", () => {
  it("names its counterparty by the agent's meta; the default retail buyer has no agent", () => {
    expect(agentIdOf(seedOrder())).toBe('90fdbe2f-d973-11e6-5bed-427b00000056');
    expect(seedOrder().agent?.name).toBe('ООО "Покупатель"');
    const { agent: _agent, ...retail } = json(SEED_CUSTOMER_ORDER);
    expect(agentIdOf(parseCustomerOrder(retail))).toBeUndefined();
  });

  it('finds the counterparty among the listed rows by id, never by name', () => {
    const rows = seedRows();
    const bank = findCounterparty(rows, '688bd078-800c-11e6-8a84-bae5000000a2') as Record<string, unknown>;
    expect(bank).toMatchObject({ name: 'АО компания-банк', email: 'aoalmost@bank.ru' });
    // The seed's order names "ООО \"Покупатель\"" with id 90fdbe2f…; the listed "ООО \"Покупатель\"" is
    // another counterparty (5d201705…): same name, not the buyer.
    expect(findCounterparty(rows, agentIdOf(seedOrder())!)).toBeUndefined();
  });

  it("takes the counterparty's phone or e-mail by the store's isPhonePriority, normalised for 1008", () => {
    const created = json(SEED_COUNTERPARTY_CREATED);
    expect(counterpartyContact(created, true)).toBe('+79258762323');
    expect(counterpartyContact(created)).toBe('+79258762323');
    expect(counterpartyContact(created, false)).toBe('email@example.com');
    const { phone: _phone, ...mailOnly } = created;
    expect(counterpartyContact(mailOnly, true)).toBe('email@example.com');
  });

  it('no contact at all: none, and no error (a sale is not refused for it)', () => {
    const rows = seedRows();
    const retail = findCounterparty(rows, '5d444290-7b1d-11e6-8a84-bae50000005e');
    expect(retail).toMatchObject({ name: 'Розничный покупатель' });
    expect(counterpartyContact(retail, true)).toBeUndefined();
  });

  it("refuses a chosen contact that tag 1008 cannot hold, naming the field and never the value (the seed's own landline)", () => {
    const bank = findCounterparty(seedRows(), '688bd078-800c-11e6-8a84-bae5000000a2');
    // "+7 666 555 444 333": thirteen digits after a +7 is no subscriber number.
    expect(() => counterpartyContact(bank, true)).toThrow(
      expect.objectContaining({
        code: 'MOYSKLAD_BILL_UNSUPPORTED',
        field: 'counterparty.phone',
        message: expect.not.stringMatching(/666|555/),
      }),
    );
    expect(counterpartyContact(bank, false)).toBe('aoalmost@bank.ru');
    const badMail = { ...(bank as Record<string, unknown>), email: 'aoalmost at bank.ru' };
    expect(() => counterpartyContact(badMail, false)).toThrow(
      expect.objectContaining({ field: 'counterparty.email' }),
    );
    const notText = { ...(bank as Record<string, unknown>), phone: 79991234567 };
    expect(() => counterpartyContact(notText, true)).toThrow(
      expect.objectContaining({ field: 'counterparty.phone' }),
    );
  });

  it("puts the contact on the seed order's bill as tag 1008's customer.emailOrPhone", () => {
    const bill = mapCustomerOrder(seedOrder(), {
      account: 'shop',
      payment: 'card',
      emailOrPhone: counterpartyContact(json(SEED_COUNTERPARTY_CREATED), true)!,
    });
    expect(bill.customer).toEqual({ emailOrPhone: '+79258762323' });
    expect(mapCustomerOrder(seedOrder(), { account: 'shop', payment: 'card' }).customer).toBeUndefined();
  });
});
