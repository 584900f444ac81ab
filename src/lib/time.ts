/**
 * Wall-clock ↔ instant conversion for a named time zone, with the platform's Intl data. Registers keep
 * local time with no zone; receipts reported to clouds need UTC.
 */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function wallClockAt(instant: Date, timeZone: string): WallClock {
  const parts = Object.fromEntries(
    formatterFor(timeZone)
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

const asUtcMs = (t: WallClock) => Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);

/** Offset of the zone from UTC at an instant, in minutes (Moscow: +180). */
export function zoneOffsetMinutes(instant: Date, timeZone: string): number {
  const wall = wallClockAt(instant, timeZone);
  return Math.round((asUtcMs(wall) - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
}

/**
 * The instant a wall-clock reading denotes in a zone. Ambiguous readings (the repeated hour when clocks
 * go back) resolve to the earlier instant; readings in a skipped hour shift forward.
 */
export function instantOfWallClock(t: WallClock, timeZone: string): Date {
  const guess = asUtcMs(t);
  // The offsets in force around that moment: at most two (before and after a transition).
  const offsets = new Set(
    [-1, 0, 1].map((days) => zoneOffsetMinutes(new Date(guess + days * 86_400_000), timeZone)),
  );
  const candidates = [...offsets].map((offset) => guess - offset * 60_000).sort((a, b) => a - b);
  const exact = candidates.find((instant) => asUtcMs(wallClockAt(new Date(instant), timeZone)) === guess);
  if (exact !== undefined) return new Date(exact);
  // A skipped reading (clocks went forward): use the offset from before the transition.
  const before = zoneOffsetMinutes(new Date(guess - 86_400_000), timeZone);
  return new Date(guess - before * 60_000);
}

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/** ISO 8601 with the zone's offset: `2025-12-15T15:37:19+03:00`. */
export function formatIsoWithOffset(t: WallClock, timeZone: string): string {
  const offset = zoneOffsetMinutes(instantOfWallClock(t, timeZone), timeZone);
  const sign = offset < 0 ? '-' : '+';
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

/**
 * A fiscal document's time as the agent stores it: the device's own text (ISO with offset) and the same
 * instant in UTC at whole seconds. A device that sends no time, or text that is not a date, gets the time
 * of the answer instead: a printed receipt must never turn into an error over its time stamp.
 */
export function fiscalTimes(
  deviceText: string | undefined,
  answeredAt: Date = new Date(),
): { dateTime: string; dateTimeUtc: string } {
  const parsed = deviceText ? Date.parse(deviceText) : Number.NaN;
  const instant = Number.isNaN(parsed) ? answeredAt : new Date(parsed);
  const utc = `${instant.toISOString().slice(0, 19)}.000Z`;
  return { dateTime: Number.isNaN(parsed) ? utc : (deviceText as string), dateTimeUtc: utc };
}
