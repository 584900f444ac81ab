import { describe, expect, it } from 'vitest';
import {
  fiscalTimes,
  formatIsoWithOffset,
  instantOfWallClock,
  wallClockAt,
  zoneOffsetMinutes,
} from './time.js';

describe('time zones', () => {
  it('converts a Moscow wall clock to UTC (the seed log: 15:37:19 MSK is 12:37:19Z)', () => {
    const instant = instantOfWallClock(
      { year: 2025, month: 12, day: 15, hour: 15, minute: 37, second: 19 },
      'Europe/Moscow',
    );
    expect(instant.toISOString()).toBe('2025-12-15T12:37:19.000Z');
  });

  it('formats with the offset of the zone', () => {
    expect(
      formatIsoWithOffset(
        { year: 2026, month: 3, day: 22, hour: 21, minute: 1, second: 41 },
        'Asia/Vladivostok',
      ),
    ).toBe('2026-03-22T21:01:41+10:00');
    expect(zoneOffsetMinutes(new Date('2026-07-01T00:00:00Z'), 'Europe/Berlin')).toBe(120);
  });

  it('round-trips instants through wall clocks in a zone with daylight saving', () => {
    for (const iso of [
      '2026-03-29T00:30:00Z',
      '2026-10-25T00:30:00Z',
      '2026-10-25T01:30:00Z',
      '2026-06-01T12:00:00Z',
    ]) {
      const instant = new Date(iso);
      const wall = wallClockAt(instant, 'Europe/Berlin');
      expect(instantOfWallClock(wall, 'Europe/Berlin').getTime()).toBeLessThanOrEqual(instant.getTime());
      expect(wallClockAt(instantOfWallClock(wall, 'Europe/Berlin'), 'Europe/Berlin')).toEqual(wall);
    }
  });
});

describe('fiscal times', () => {
  const answeredAt = new Date('2026-11-22T07:00:01.234Z');

  it('keeps the device text and converts it to UTC at whole seconds', () => {
    expect(fiscalTimes('2025-12-15T15:37:19+03:00', answeredAt)).toEqual({
      dateTime: '2025-12-15T15:37:19+03:00',
      dateTimeUtc: '2025-12-15T12:37:19.000Z',
    });
  });

  it.each([undefined, '', '22.01.2022 12:00:00', 'garbage'])(
    'falls back to the time of the answer for %j',
    (text) => {
      expect(fiscalTimes(text, answeredAt)).toEqual({
        dateTime: '2026-11-22T07:00:01.000Z',
        dateTimeUtc: '2026-11-22T07:00:01.000Z',
      });
    },
  );
});
