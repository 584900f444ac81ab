import { formatIsoWithOffset, instantOfWallClock, type WallClock, wallClockAt } from '../../../lib/time.js';

/**
 * OX System writes times as `YYYY-MM-DD HH:mm:ss` in the company's zone (Asia/Tashkent in every sample),
 * with no offset. Text order is time order, which is what the `updatedTime` cursor relies on.
 */

export const OX_DATETIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

export function isOxDateTime(text: string): boolean {
  return OX_DATETIME_PATTERN.test(text);
}

function wallClockOf(text: string): WallClock | undefined {
  const match = OX_DATETIME_PATTERN.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { year, month, day, hour, minute, second };
}

/** The instant an OX time denotes in `timeZone`; undefined when the text is not an OX time. */
export function oxInstant(text: string, timeZone: string): Date | undefined {
  const wall = wallClockOf(text);
  return wall ? instantOfWallClock(wall, timeZone) : undefined;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** An instant as OX writes it in `timeZone`. */
export function formatOxDateTime(instant: Date, timeZone: string): string {
  const t = wallClockAt(instant, timeZone);
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
}

/** An OX time as ISO 8601 with the zone's offset (`2019-06-19T18:03:28+05:00`). */
export function oxTimeToIso(text: string, timeZone: string): string | undefined {
  const wall = wallClockOf(text);
  return wall ? formatIsoWithOffset(wall, timeZone) : undefined;
}
