import { describe, expect, it } from 'vitest';
import {
  formatMoment,
  moyskladTaxSystemOf,
  nativeIdOf,
  syncIdHref,
  syncIdOf,
  taxationSystemOf,
} from './wire.js';

describe('posap wire helpers', () => {
  it('formats moments in the configured zone (Moscow by default), whatever the register offset', () => {
    expect(formatMoment('2026-11-22T07:00:05.000Z', 'Europe/Moscow')).toBe('2026-11-22 10:00:05');
    expect(formatMoment('2026-11-22T17:00:05+10:00', 'Europe/Moscow')).toBe('2026-11-22 10:00:05');
    expect(formatMoment('2026-11-22T07:00:05.000Z', 'Asia/Vladivostok')).toBe('2026-11-22 17:00:05');
    expect(() => formatMoment('not a date', 'Europe/Moscow')).toThrow(RangeError);
  });

  it('builds and reads syncId hrefs', () => {
    const href = syncIdHref(
      'https://online.moysklad.ru/api/posap/1.0/',
      'retailshift',
      '388bd178-800c-11e6-8a84-bae5000000a2',
    );
    expect(href).toBe(
      'https://online.moysklad.ru/api/posap/1.0/entity/retailshift/syncid/388bd178-800c-11e6-8a84-bae5000000a2',
    );
    expect(syncIdOf(href)).toBe('388bd178-800c-11e6-8a84-bae5000000a2');
    expect(syncIdOf('https://x/entity/retaildemand/388bd178-800c-11e6-8a84-bae5000000a2')).toBeUndefined();
    expect(syncIdOf('https://x/entity/retaildemand/syncid/not-a-uuid')).toBeUndefined();
    expect(nativeIdOf('https://x/entity/customerorder/0F175046-DBCA-11E6-5BED-427B00000079?expand=x')).toBe(
      '0f175046-dbca-11e6-5bed-427b00000079',
    );
  });

  it('maps tax systems both ways; ЕНВД has no receipt code', () => {
    expect(taxationSystemOf('SIMPLIFIED_TAX_SYSTEM_INCOME_OUTCOME')).toBe('usnIncomeOutcome');
    expect(taxationSystemOf('PRESUMPTIVE_TAX_SYSTEM')).toBeUndefined();
    expect(moyskladTaxSystemOf('patent')).toBe('PATENT_BASED');
    expect(moyskladTaxSystemOf('esn')).toBe('UNIFIED_AGRICULTURAL_TAX');
  });
});
