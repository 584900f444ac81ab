import { isLosslessNumber } from '../../../lib/json.js';
import { formatOxDateTime, oxInstant } from './time.js';

/**
 * The arithmetic of the OX poll cursor (`updatedTime[min]`, OX local time, text-sortable) and of the
 * narrower windows a backlog is read in.
 */

/** A closed window ends this long before our "now": OX's clock may run behind ours. */
export const CLOCK_SKEW_MS = 60_000;

/**
 * The cursor one second before `time`, but never behind where it was: sells updated within the second of
 * the newest one read are read again next time (the intake knows them), whichever way OX's
 * `updatedTime[min]` bound works (inclusive or not).
 */
export function cursorBefore(time: string, current: string, timeZone: string): string {
  if (time <= current) return current;
  const instant = oxInstant(time, timeZone);
  if (!instant) return current;
  const earlier = formatOxDateTime(new Date(instant.getTime() - 1000), timeZone);
  return earlier > current ? earlier : current;
}

/**
 * A window half as long as the one that could not be read in full: from the cursor to half-way to
 * `windowEnd`, or to a minute ago (clock skew) when the window was open. Undefined when under 2 s.
 */
export function narrowerWindow(
  cursor: string,
  windowEnd: string | undefined,
  nowMs: number,
  timeZone: string,
): string | undefined {
  const from = oxInstant(cursor, timeZone)?.getTime();
  const to = windowEnd !== undefined ? oxInstant(windowEnd, timeZone)?.getTime() : nowMs - CLOCK_SKEW_MS;
  if (from === undefined || to === undefined || to - from < 2000) return undefined;
  return formatOxDateTime(new Date(from + Math.floor((to - from) / 2000) * 1000), timeZone);
}

/** A list row's id, if it has a readable one (for messages and paging). */
export function idOf(row: unknown): string | undefined {
  if (row === null || typeof row !== 'object') return undefined;
  const id = (row as { id?: unknown }).id;
  if (typeof id === 'string' && id.length <= 64) return id;
  return isLosslessNumber(id) || typeof id === 'number' ? String(id) : undefined;
}

export const OX_TIME_PATTERN = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** A list row's `updatedTime`, if it is readable. */
export function timeOf(row: unknown): string | undefined {
  if (row === null || typeof row !== 'object') return undefined;
  const time = (row as { updatedTime?: unknown }).updatedTime;
  return typeof time === 'string' && OX_TIME_PATTERN.test(time) ? time : undefined;
}

/** Numeric ids in numeric order, others in text order. */
export function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b))
    return a.length === b.length ? (a < b ? -1 : a > b ? 1 : 0) : a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
