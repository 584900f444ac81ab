import { describe, expect, it } from 'vitest';
import { DeviceClock } from './clock.js';
import { EmulatorConfigError } from './errors.js';

describe('DeviceClock', () => {
  const source = { now: () => Date.UTC(2026, 0, 15, 9, 30, 0) };

  it('shows local wall-clock time in its zone', () => {
    expect(new DeviceClock(source, 'Europe/Moscow').wallClock()).toEqual({
      year: 2026,
      month: 1,
      day: 15,
      hour: 12,
      minute: 30,
      second: 0,
    });
    expect(new DeviceClock(source, 'Asia/Vladivostok').wallClock().hour).toBe(19);
  });

  it('is set to a wall-clock time and moves with the source from there', () => {
    const clock = new DeviceClock(source, 'Europe/Moscow');
    clock.setWallClock({ year: 2030, month: 6, day: 1, hour: 8, minute: 0, second: 0 });
    expect(clock.wallClock()).toMatchObject({ year: 2030, month: 6, day: 1, hour: 8 });
    clock.advance(25 * 3600 * 1000);
    expect(clock.wallClock()).toMatchObject({ day: 2, hour: 9 });
  });

  it('refuses a zone that is not an IANA name', () => {
    expect(() => new DeviceClock(source, 'Mars/Olympus')).toThrow(EmulatorConfigError);
  });
});
