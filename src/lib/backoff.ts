export interface BackoffSchedule {
  /** The delay before the first retry, before jitter. */
  firstDelayMs: number;
  /** No delay is longer. */
  maxDelayMs: number;
  /**
   * Where `maxDelayMs` applies. `before-jitter`: the doubled delay is capped and then jittered, so delays at
   * the cap still spread over its upper half. `after-jitter`: the jittered delay is capped, so once the
   * doubling is past twice the cap every delay is the cap itself.
   */
  cap: 'before-jitter' | 'after-jitter';
}

/**
 * The wait before retry `retry` (0 is the first): `firstDelayMs` doubled per retry, then a random point in
 * its upper half (between half of it and all of it), so a fleet that failed together does not retry in
 * lockstep. Jitter only ever touches timing.
 */
export function jitteredBackoffMs(retry: number, schedule: BackoffSchedule): number {
  // The cap is reached long before 2^20; stopping there also keeps 0 · 2^retry a number.
  const doubled = schedule.firstDelayMs * 2 ** Math.min(retry, 20);
  if (schedule.cap === 'before-jitter') {
    const base = Math.min(schedule.maxDelayMs, doubled);
    return Math.round(base / 2 + Math.random() * (base / 2));
  }
  return Math.min(schedule.maxDelayMs, Math.round(doubled * (0.5 + Math.random() / 2)));
}
