import { readFileSync } from 'node:fs';

/**
 * Preloaded into the agent process (`NODE_OPTIONS=--import <this file>`) by the clock-jump scenario: the
 * wall clock (`Date.now()`, `new Date()`) runs ahead or behind by the number of milliseconds written in
 * KKT_CHAOS_CLOCK_FILE, re-read on SIGUSR2: an NTP step or a dead RTC battery, as the process sees it.
 * Timers and `performance.now()` are monotonic and unaffected, as they are by a real step.
 */
const file = process.env['KKT_CHAOS_CLOCK_FILE'];
if (file) {
  const RealDate = Date;
  let offsetMs = 0;
  const load = () => {
    try {
      offsetMs = Number(readFileSync(file, 'utf8').trim()) || 0;
    } catch {
      offsetMs = 0;
    }
  };
  load();
  process.on('SIGUSR2', load);

  class ShiftedDate extends RealDate {
    constructor(...args: ConstructorParameters<DateConstructor> | []) {
      if (args.length === 0) super(RealDate.now() + offsetMs);
      else super(...(args as ConstructorParameters<DateConstructor>));
    }

    static override now(): number {
      return RealDate.now() + offsetMs;
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor;
}
