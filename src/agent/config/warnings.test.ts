import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';
import { configWarnings } from './warnings.js';

const atol = (extra: Record<string, unknown> = {}) => ({
  id: 'kkt',
  kind: 'atol',
  link: { type: 'usb' },
  operator: { name: 'Кассир' },
  ...extra,
});
const config = (extra: Record<string, unknown> = {}) =>
  parseConfig({ timeZone: 'Europe/Moscow', devices: [atol()], ...extra });
const MARCH_2026 = new Date('2026-03-22T09:00:00Z');

describe('configWarnings', () => {
  it('has nothing to say about a plain ATOL config and the built-in table', () => {
    expect(configWarnings(config(), MARCH_2026)).toEqual([]);
  });

  it('warns about a configured rate table that misses the 2026 change or starts in the future', () => {
    const old = config({
      vat: {
        table: [{ from: '2019-01-01', basis: '303-FZ', rates: [{ vat: ['none', 'vat20', 'vat120'] }] }],
      },
    });
    expect(configWarnings(old, MARCH_2026)).toEqual([
      expect.stringMatching(
        /^vat\.table ends with a period from 2019-01-01, but the law changed on 2025-01-01/,
      ),
      expect.stringMatching(
        /^vat\.table ends with a period from 2019-01-01, but the law changed on 2026-01-01 \(.*425-FZ/,
      ),
    ]);
    const future = config({
      vat: { table: [{ from: '2027-01-01', basis: 'x', rates: [{ vat: ['vat22'] }] }] },
    });
    expect(configWarnings(future, MARCH_2026)).toEqual([
      'vat.table starts on 2027-01-01, after today (2026-03-22): every receipt on an ATOL register is refused until then',
    ]);
  });

  it('warns about a table that allows a device no VAT rate, and about a transition that has ended', () => {
    const usnOnly = config({
      devices: [atol({ taxationType: 'osn' })],
      vat: {
        table: [
          {
            from: '2026-01-01',
            basis: 'x',
            rates: [{ vat: ['none'] }, { vat: ['vat5'], taxationSystems: ['usnIncome'] }],
          },
        ],
      },
    });
    expect(configWarnings(usnOnly, MARCH_2026)).toEqual([
      'devices[0] (kkt): vat.table allows no VAT rate today for taxation system osn; only bills without VAT will print',
    ]);
    const ended = config({ vat: { allowRetiredRatesUntil: '2026-03-21' } });
    expect(configWarnings(ended, MARCH_2026)).toEqual([
      'vat.allowRetiredRatesUntil (2026-03-21) has passed: retired VAT rates are refused again',
    ]);
    expect(configWarnings(config({ vat: { allowRetiredRatesUntil: '2026-03-22' } }), MARCH_2026)).toEqual([]);
  });

  it('warns about a SmartX cashier left at its placeholder', () => {
    const smartx = parseConfig({ devices: [{ id: 'smartx', kind: 'intent' }] });
    expect(configWarnings(smartx, MARCH_2026)).toEqual([
      'devices[0].cashier is the placeholder "Кассир": set the name of the person at the terminal',
    ]);
  });
});
