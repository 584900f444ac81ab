import { ValidationError } from '../../../lib/errors.js';
import { formatIsoWithOffset, type WallClock, wallClockAt } from '../../../lib/time.js';

/**
 * Date-times the web server sends (`fiscalDocumentDateTime`, tag 1012 of `getFnDocument`, …). Their format
 * is not confirmed (no source settles it, docs/protocol/atol-v3.md §12), so this accepts the forms seen in public clients: ISO 8601 with or
 * without an offset (`2025-05-01T12:34:00+03:00`, `2025-05-01 12:34:00`), dotted dates (`2025.05.01
 * 12:34:00`, `01.05.2025 12:34:00`) and Unix seconds. The result is the register's wall clock with its
 * zone's offset, the same form the protocol backend reports.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;
const YEAR_FIRST = /^(\d{4})\.(\d{2})\.(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;
const DAY_FIRST = /^(\d{2})\.(\d{2})\.(\d{4})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;

function wall(
  year: string,
  month: string,
  day: string,
  hour: string,
  minute: string,
  second = '0',
): WallClock {
  const t = {
    year: Number(year),
    month: Number(month),
    day: Number(day),
    hour: Number(hour),
    minute: Number(minute),
    second: Number(second),
  };
  const valid =
    t.month >= 1 &&
    t.month <= 12 &&
    t.day >= 1 &&
    t.day <= 31 &&
    t.hour <= 23 &&
    t.minute <= 59 &&
    t.second <= 59;
  if (!valid) throw new RangeError('out of range');
  return t;
}

function offsetMinutes(text: string): number {
  if (text === 'Z') return 0;
  const digits = text.replace(':', '');
  const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5));
  return digits.startsWith('-') ? -minutes : minutes;
}

/** Parses a date-time of the web server; throws `ValidationError` naming `field` when it is unreadable. */
export function parseDeviceDateTime(value: string | number, timeZone: string, field: string): string {
  try {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value) || value < 0) throw new RangeError('not Unix seconds');
      return formatIsoWithOffset(wallClockAt(new Date(value * 1000), timeZone), timeZone);
    }
    const text = value.trim();
    const iso = ISO.exec(text);
    if (iso) {
      const [, y, mo, d, h, mi, s, offset] = iso;
      const t = wall(y!, mo!, d!, h!, mi!, s);
      if (offset === undefined) return formatIsoWithOffset(t, timeZone);
      const utcMs =
        Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) - offsetMinutes(offset) * 60_000;
      return formatIsoWithOffset(wallClockAt(new Date(utcMs), timeZone), timeZone);
    }
    const yearFirst = YEAR_FIRST.exec(text);
    if (yearFirst) {
      const [, y, mo, d, h, mi, s] = yearFirst;
      return formatIsoWithOffset(wall(y!, mo!, d!, h!, mi!, s), timeZone);
    }
    const dayFirst = DAY_FIRST.exec(text);
    if (dayFirst) {
      const [, d, mo, y, h, mi, s] = dayFirst;
      return formatIsoWithOffset(wall(y!, mo!, d!, h!, mi!, s), timeZone);
    }
  } catch {
    // Falls through to the error below.
  }
  throw new ValidationError(field, `"${String(value).slice(0, 40)}" is not a date-time the agent can read`);
}

/** A date (`validityDate` of the FN): `YYYY-MM-DD` from ISO or dotted forms. */
export function parseDeviceDate(value: string, field: string): string {
  const text = value.trim();
  const iso = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (iso) return `${iso[1]}-${iso[2]}-${iso[3]}`;
  const yearFirst = /^(\d{4})\.(\d{2})\.(\d{2})/.exec(text);
  if (yearFirst) return `${yearFirst[1]}-${yearFirst[2]}-${yearFirst[3]}`;
  const dayFirst = /^(\d{2})\.(\d{2})\.(\d{4})/.exec(text);
  if (dayFirst) return `${dayFirst[3]}-${dayFirst[2]}-${dayFirst[1]}`;
  throw new ValidationError(field, `"${text.slice(0, 40)}" is not a date the agent can read`);
}

/**
 * The lenient form for answers about something that already happened: a time the agent cannot read must
 * never turn a printed receipt (or a status read) into an error. Undefined when unreadable.
 */
export function readDeviceDateTime(value: string | number | undefined, timeZone: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDeviceDateTime(value, timeZone, 'dateTime');
  } catch {
    return undefined;
  }
}
