import { describe, expect, it } from 'vitest';
import { classifySell, type SelectionPolicy, selectSell } from './selection.js';
import type { OxSellHead } from './wire.js';

const head = (overrides: Partial<OxSellHead>): OxSellHead => ({
  id: '1',
  updatedTime: '2025-06-01 10:00:00',
  draft: true,
  finishedTime: null,
  isPostpone: false,
  isDebt: false,
  note: null,
  status: 'cart',
  ...overrides,
});

const all: SelectionPolicy = {
  kinds: ['open', 'postponed', 'finished'],
  openSettleSeconds: 60,
  timeZone: 'Asia/Tashkent',
};
// 2025-06-01 10:00:00 in Tashkent (UTC+5) is 05:00:00Z.
const at = (utc: string) => Date.parse(utc);

describe('sell selection', () => {
  it('tells the states apart by draft and finishedTime, not status', () => {
    expect(classifySell(head({ draft: false, finishedTime: '2019-06-19 18:03:28', status: 'cart' }))).toEqual(
      { kind: 'finished' },
    );
    expect(classifySell(head({}))).toEqual({ kind: 'open' });
    expect(classifySell(head({ isPostpone: true }))).toEqual({ kind: 'postponed' });
    expect(classifySell(head({ isDebt: true }))).toEqual({ kind: 'other', reason: 'debt' });
    expect(classifySell(head({ draft: false }))).toEqual({ kind: 'other', reason: 'not-a-cart' });
    expect(classifySell(head({ finishedTime: '2019-06-19 18:03:28' }))).toEqual({
      kind: 'other',
      reason: 'inconsistent',
    });
  });

  it('follows the policy', () => {
    const finishedOnly = { ...all, kinds: ['finished'] as const };
    expect(selectSell(head({}), finishedOnly, at('2025-06-01T06:00:00Z'))).toMatchObject({
      select: false,
      why: 'policy',
    });
    expect(selectSell(head({ draft: false, finishedTime: '2025-06-01 10:00:00' }), finishedOnly, 0)).toEqual({
      select: true,
      kind: 'finished',
    });
  });

  it('waits for an open cart to settle, in OX local time', () => {
    expect(selectSell(head({}), all, at('2025-06-01T05:00:59Z'))).toMatchObject({
      select: false,
      why: 'later',
    });
    expect(selectSell(head({}), all, at('2025-06-01T05:01:00Z'))).toEqual({ select: true, kind: 'open' });
    // A postponed sell is handed over on purpose: no waiting.
    expect(selectSell(head({ isPostpone: true }), all, at('2025-06-01T05:00:01Z'))).toEqual({
      select: true,
      kind: 'postponed',
    });
  });

  it('never selects a sell that carries a fiscal note', () => {
    const noted = head({
      draft: false,
      finishedTime: '2025-06-01 10:00:00',
      note: 'x | [kkt] device=np1 job=abc',
    });
    expect(selectSell(noted, all, 0)).toMatchObject({ select: false, why: 'noted' });
  });
});
