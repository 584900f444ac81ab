import { bcdByte, bcdDigits, decodeBcd, encodeBcd, fromBcdByte } from '../protocol/bcd.js';
import { decodeCp866, encodeCp866 } from '../protocol/cp866.js';
import { type DeviceDateTime, decodeBcdDateTime, encodeBcdDateTime } from '../protocol/dateTime.js';
import { ByteReader, defineCommand, noBytes } from './command.js';

const DEFAULT_TIMEOUT_MS = 3000;

export interface ModeState {
  /** 0 idle, 1 registration, 2 X reports, 3 Z reports, 4 programming, 5 FN access, 7 extra (docs/protocol/atol-v3.md §4). */
  mode: number;
  submode: number;
}

const packMode = (m: ModeState): number => (m.mode & 0x0f) | ((m.submode & 0x0f) << 4);
const unpackMode = (byte: number): ModeState => ({ mode: byte & 0x0f, submode: byte >> 4 });

export interface PrinterFlags {
  noPaper: boolean;
  printerNotConnected: boolean;
  mechanicalError: boolean;
  cutterError: boolean;
  overheat: boolean;
  printerError: boolean;
  paperNearEnd: boolean;
}

const PRINTER_FLAG_BITS: Array<[keyof PrinterFlags, number]> = [
  ['noPaper', 0],
  ['printerNotConnected', 1],
  ['mechanicalError', 2],
  ['cutterError', 3],
  ['overheat', 4],
  ['printerError', 6],
  ['paperNearEnd', 7],
];

export interface ShortStatus extends ModeState {
  printer: PrinterFlags;
}

/** `45`: mode, submode and printer flags in two bytes; cheap enough to poll every 500 ms. */
export const shortStatus = defineCommand<void, ShortStatus>({
  name: 'shortStatus',
  code: Buffer.of(0x45),
  timeoutMs: DEFAULT_TIMEOUT_MS,
  layout: 'no-error-byte',
  answerCode: 0x55,
  encodeParams: noBytes.encode,
  decodeParams: noBytes.decode,
  encodeResult: (s) => {
    let flags = 0;
    for (const [name, bit] of PRINTER_FLAG_BITS) if (s.printer[name]) flags |= 1 << bit;
    return Buffer.of(packMode(s), flags);
  },
  decodeResult: (bytes) => {
    const reader = new ByteReader(bytes, 'short status');
    const mode = unpackMode(reader.byte());
    const flags = reader.byte();
    const printer = Object.fromEntries(
      PRINTER_FLAG_BITS.map(([name, bit]) => [name, (flags & (1 << bit)) !== 0]),
    ) as unknown as PrinterFlags;
    return { ...mode, printer };
  },
});

export interface StatusFlags {
  fiscalized: boolean;
  shiftOpen: boolean;
  drawerOpen: boolean;
  paperPresent: boolean;
  coverOpen: boolean;
  fnActive: boolean;
  batteryLow: boolean;
}

const STATUS_FLAG_BITS: Array<[keyof StatusFlags, number]> = [
  ['fiscalized', 0],
  ['shiftOpen', 1],
  ['drawerOpen', 2],
  ['paperPresent', 3],
  ['coverOpen', 5],
  ['fnActive', 6],
  ['batteryLow', 7],
];

/** Receipt state byte of `3F` (0 = no receipt open). */
export const ReceiptState = {
  Closed: 0,
  Sell: 1,
  SellReturn: 2,
  Buy: 4,
  BuyReturn: 5,
} as const;

export interface LongStatus extends ModeState {
  cashierNumber: number;
  hallNumber: number;
  dateTime: DeviceDateTime;
  flags: StatusFlags;
  /** Eight BCD digits; registers with longer serials report them in register 0x16. */
  serialShort: string;
  model: number;
  /** Receipt number within the shift (of the last or current receipt). */
  receiptNumber: number;
  /** Number of the last closed shift; an open shift is this + 1. */
  lastClosedShiftNumber: number;
  receiptState: number;
  receiptSumKop: number;
  port: number;
}

/** `3F`: the long status, 29 bytes after the answer code (docs/protocol/atol-v3.md §11). */
export const longStatus = defineCommand<void, LongStatus>({
  name: 'longStatus',
  code: Buffer.of(0x3f),
  timeoutMs: DEFAULT_TIMEOUT_MS,
  layout: 'no-error-byte',
  answerCode: 0x44,
  encodeParams: noBytes.encode,
  decodeParams: noBytes.decode,
  encodeResult: (s) => {
    let flags = 0;
    for (const [name, bit] of STATUS_FLAG_BITS) if (s.flags[name]) flags |= 1 << bit;
    return Buffer.concat([
      Buffer.of(bcdByte(s.cashierNumber), s.hallNumber),
      encodeBcdDateTime(s.dateTime),
      Buffer.of(flags),
      encodeBcd(BigInt(s.serialShort), 4),
      Buffer.of(s.model, 0, 0, packMode(s)),
      encodeBcd(s.receiptNumber, 2),
      encodeBcd(s.lastClosedShiftNumber, 2),
      Buffer.of(s.receiptState),
      encodeBcd(s.receiptSumKop, 5),
      Buffer.of(2, s.port),
    ]);
  },
  decodeResult: (bytes) => {
    const r = new ByteReader(bytes, 'long status');
    const cashierNumber = fromBcdByte(r.byte());
    const hallNumber = r.byte();
    const dateTime = decodeBcdDateTime(r.take(6));
    const flagsByte = r.byte();
    const flags = Object.fromEntries(
      STATUS_FLAG_BITS.map(([name, bit]) => [name, (flagsByte & (1 << bit)) !== 0]),
    ) as unknown as StatusFlags;
    const serialShort = bcdDigits(r.take(4));
    const model = r.byte();
    r.take(2);
    const mode = unpackMode(r.byte());
    const receiptNumber = decodeBcd(r.take(2));
    const lastClosedShiftNumber = decodeBcd(r.take(2));
    const receiptState = r.byte();
    const receiptSumKop = decodeBcd(r.take(5));
    r.byte(); // decimal point position: always 2 for roubles
    const port = r.byte();
    return {
      cashierNumber,
      hallNumber,
      dateTime,
      flags,
      serialShort,
      model,
      ...mode,
      receiptNumber,
      lastClosedShiftNumber,
      receiptState,
      receiptSumKop,
      port,
    };
  },
});

export interface DeviceType {
  protocolVersion: number;
  deviceType: number;
  model: number;
  modeBytes: Buffer;
  versionBytes: Buffer;
  name: string;
}

/** `A5`: device type and model; the answer starts with the error byte and has no `55`. */
export const deviceType = defineCommand<void, DeviceType>({
  name: 'deviceType',
  code: Buffer.of(0xa5),
  timeoutMs: DEFAULT_TIMEOUT_MS,
  layout: 'error-first',
  encodeParams: noBytes.encode,
  decodeParams: noBytes.decode,
  encodeResult: (d) =>
    Buffer.concat([
      Buffer.of(d.protocolVersion, d.deviceType, d.model),
      d.modeBytes,
      d.versionBytes,
      encodeCp866(d.name),
    ]),
  decodeResult: (bytes) => {
    const r = new ByteReader(bytes, 'device type');
    return {
      protocolVersion: r.byte(),
      deviceType: r.byte(),
      model: r.byte(),
      modeBytes: Buffer.from(r.take(2)),
      versionBytes: Buffer.from(r.take(5)),
      name: decodeCp866(r.rest()),
    };
  },
});

export const FirmwareUnit = { MainProcessor: 1, FiscalMemory: 2, Bootloader: 3 } as const;

export interface FirmwareVersion {
  major: number;
  minor: number;
  language: number;
  build: number;
}

/** `9D`: firmware version of a unit, all BCD. */
export const firmwareVersion = defineCommand<{ unit: number }, FirmwareVersion>({
  name: 'firmwareVersion',
  code: Buffer.of(0x9d),
  timeoutMs: DEFAULT_TIMEOUT_MS,
  layout: 'generic',
  encodeParams: ({ unit }) => Buffer.of(unit),
  decodeParams: (bytes) => ({ unit: new ByteReader(bytes, 'firmware request').byte() }),
  encodeResult: (v) =>
    Buffer.concat([
      Buffer.of(bcdByte(v.major), bcdByte(v.minor), bcdByte(v.language)),
      encodeBcd(v.build, 2),
    ]),
  decodeResult: (bytes) => {
    const r = new ByteReader(bytes, 'firmware version');
    return {
      major: fromBcdByte(r.byte()),
      minor: fromBcdByte(r.byte()),
      language: fromBcdByte(r.byte()),
      build: decodeBcd(r.take(2)),
    };
  },
});
