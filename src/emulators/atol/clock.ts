import type { DeviceDateTime } from '../../drivers/atol/protocol/dateTime.js';
import { instantOfWallClock, isValidTimeZone, systemTimeZone, wallClockAt } from '../../lib/time.js';
import { EmulatorConfigError } from './errors.js';

/** Where the emulator gets "now" from; tests inject a fake. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * The register's real-time clock: a source clock plus an offset that `ED` (set date-time) and test
 * time travel move. It shows local wall-clock time in its zone, as a real register does.
 */
export class DeviceClock {
  readonly timeZone: string;

  constructor(
    private readonly source: Clock,
    timeZone: string | undefined,
    /** Difference between the register's clock and the source clock. */
    public offsetMs = 0,
  ) {
    this.timeZone = timeZone ?? systemTimeZone();
    if (!isValidTimeZone(this.timeZone)) {
      throw new EmulatorConfigError('timeZone', `"${this.timeZone}" is not an IANA time zone name`);
    }
  }

  nowMs(): number {
    return this.source.now() + this.offsetMs;
  }

  /** Local wall-clock time at an instant of the register's clock (default: now), whole seconds. */
  wallClock(atMs = this.nowMs()): DeviceDateTime {
    return wallClockAt(new Date(Math.floor(atMs / 1000) * 1000), this.timeZone);
  }

  /** The instant (on the register's clock) a wall-clock reading denotes. */
  instantOf(t: DeviceDateTime): number {
    return instantOfWallClock(t, this.timeZone).getTime();
  }

  /** `ED`: from now on the clock reads `t`. */
  setWallClock(t: DeviceDateTime): void {
    this.offsetMs = this.instantOf(t) - this.source.now();
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
