import { bcdByte, fromBcdByte } from './bcd.js';

/** A wall-clock reading of the register's clock: local time at the shop, no zone on the wire. */
export interface DeviceDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** YY MM DD hh mm ss as BCD (the order `3F` uses). */
export function encodeBcdDateTime(t: DeviceDateTime): Buffer {
  return Buffer.of(
    bcdByte(t.year - 2000),
    bcdByte(t.month),
    bcdByte(t.day),
    bcdByte(t.hour),
    bcdByte(t.minute),
    bcdByte(t.second),
  );
}

export function decodeBcdDateTime(bytes: Buffer): DeviceDateTime {
  return {
    year: 2000 + fromBcdByte(bytes[0]!),
    month: fromBcdByte(bytes[1]!),
    day: fromBcdByte(bytes[2]!),
    hour: fromBcdByte(bytes[3]!),
    minute: fromBcdByte(bytes[4]!),
    second: fromBcdByte(bytes[5]!),
  };
}

/** DD MM YY hh mm ss as BCD (the order `ED` and register `0x12` use). */
export function encodeBcdDayFirst(t: DeviceDateTime): Buffer {
  return Buffer.of(
    bcdByte(t.day),
    bcdByte(t.month),
    bcdByte(t.year - 2000),
    bcdByte(t.hour),
    bcdByte(t.minute),
    bcdByte(t.second),
  );
}

export function decodeBcdDayFirst(bytes: Buffer): DeviceDateTime {
  return {
    day: fromBcdByte(bytes[0]!),
    month: fromBcdByte(bytes[1]!),
    year: 2000 + fromBcdByte(bytes[2]!),
    hour: fromBcdByte(bytes[3]!),
    minute: fromBcdByte(bytes[4]!),
    second: fromBcdByte(bytes[5]!),
  };
}

/** FN structures carry YY MM DD hh mm as plain binary bytes (FN-native), seconds absent. */
export function encodeBinaryDateTime5(t: DeviceDateTime): Buffer {
  return Buffer.of(t.year - 2000, t.month, t.day, t.hour, t.minute);
}

export function decodeBinaryDateTime5(bytes: Buffer): DeviceDateTime {
  return {
    year: 2000 + bytes[0]!,
    month: bytes[1]!,
    day: bytes[2]!,
    hour: bytes[3]!,
    minute: bytes[4]!,
    second: 0,
  };
}

/**
 * FFD date-time tags (1012) hold the local wall-clock time as if it were UTC seconds since the epoch;
 * the zone is the shop's, not the wire's.
 */
export function wallClockToFfdSeconds(t: DeviceDateTime): number {
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) / 1000;
}

export function ffdSecondsToWallClock(seconds: number): DeviceDateTime {
  const d = new Date(seconds * 1000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

const pad = (n: number, width = 2) => n.toString().padStart(width, '0');

/** `YYYY-MM-DDTHH:mm:ss`, no zone: the register's local time. */
export function formatWallClock(t: DeviceDateTime): string {
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
}

export function compareWallClock(a: DeviceDateTime, b: DeviceDateTime): number {
  return wallClockToFfdSeconds(a) - wallClockToFfdSeconds(b);
}
