export interface BackoffSchedule {
  /** The delay before the first retry, before jitter. */
  firstDelayMs: number;
  /** No delay is longer. */
  maxDelayMs: number;
}

/**
 * The wait before retry `retry` (0 is the first): `firstDelayMs` doubled per retry up to `maxDelayMs`, then
 * a random point in its upper half (between half of it and all of it), so a fleet that failed together
 * does not retry in lockstep, also once every box has reached the cap. Jitter only ever touches timing.
 * The one formula of the agent and its drivers: cloud requests, the outbox, MQTT, the fiscalizer's
 * retries of a refused receipt and the ATOL backends' reconnects.
 */
export function jitteredBackoffMs(retry: number, schedule: BackoffSchedule): number {
  // The cap is reached long before 2^20; stopping there also keeps 0 · 2^retry a number.
  const base = Math.min(schedule.maxDelayMs, schedule.firstDelayMs * 2 ** Math.min(Math.max(retry, 0), 20));
  return Math.round(base / 2 + Math.random() * (base / 2));
}
