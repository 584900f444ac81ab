import { describe, expect, it } from 'vitest';
import {
  PAYMENT_METHODS,
  PAYMENT_OBJECTS,
  PAYMENT_TYPES,
  TAXATION_SYSTEMS,
  taxationSystemsFromMask,
} from './payment.js';

describe('settlement vocabulary', () => {
  it('numbers payment methods 1214 from 1 to 7', () => {
    expect(Object.entries(PAYMENT_METHODS)).toEqual([
      ['fullPrepayment', 1],
      ['prepayment', 2],
      ['advance', 3],
      ['fullPayment', 4],
      ['partialPayment', 5],
      ['credit', 6],
      ['creditPayment', 7],
    ]);
  });

  it('carries the payment objects 1212 of docs/protocol/atol-v3.md §12 with unique codes', () => {
    expect(PAYMENT_OBJECTS).toMatchObject({
      commodity: 1,
      excise: 2,
      job: 3,
      service: 4,
      payment: 10,
      agentCommission: 11,
      composite: 12,
      another: 13,
      deposit: 19,
      commodityWithoutMarking: 32,
      commodityWithMarking: 33,
    });
    const codes = Object.values(PAYMENT_OBJECTS);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('maps the domain payment type card to ATOL electronically', () => {
    expect(PAYMENT_TYPES.card).toEqual({ atolName: 'electronically', code: 2 });
    expect(Object.values(PAYMENT_TYPES).map((type) => type.code)).toEqual([1, 2, 3, 4, 5]);
  });

  it('has the 1055 bitmask values and decodes a registration mask', () => {
    expect(TAXATION_SYSTEMS).toEqual({ osn: 1, usnIncome: 2, usnIncomeOutcome: 4, esn: 16, patent: 32 });
    expect(taxationSystemsFromMask(0x03)).toEqual(['osn', 'usnIncome']);
    expect(taxationSystemsFromMask(0x28)).toEqual(['patent']); // 8 (envd) is obsolete and ignored
    expect(taxationSystemsFromMask(0)).toEqual([]);
  });
});
