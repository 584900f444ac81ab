import { bcdDigits, decodeBcd, encodeBcd, fromBcdByte } from '../protocol/bcd.js';
import { type DeviceDateTime, decodeBcdDayFirst, encodeBcdDayFirst } from '../protocol/dateTime.js';
import { ByteReader, defineCommand } from './command.js';

/** Registers the agent reads with `91` (docs/protocol/atol-v3.md §11). */
export const Register = {
  CashInDrawer: 0x0a,
  ShiftInfo: 0x12,
  Serial: 0x16,
  PrintSettings: 0x18,
  UnsentOfdDocuments: 0x2c,
  SessionData: 0x35,
  FfdVersions: 0x36,
  ExtendedError: 0x37,
} as const;

export interface ReadRegisterParams {
  register: number;
  p1: number;
  p2: number;
}

/** `91 REG P1 P2`: the raw register value; the typed readers below give it meaning. */
export const readRegister = defineCommand<ReadRegisterParams, Buffer>({
  name: 'readRegister',
  code: Buffer.of(0x91),
  timeoutMs: 30_000,
  layout: 'generic',
  encodeParams: (p) => Buffer.of(p.register, p.p1, p.p2),
  decodeParams: (bytes) => {
    const r = new ByteReader(bytes, 'read register');
    return { register: r.byte(), p1: r.byte(), p2: r.byte() };
  },
  encodeResult: (value) => value,
  decodeResult: (bytes) => Buffer.from(bytes),
});

/** Encoders/decoders of register values, shared by the driver and the emulator. */
export const registerValue = {
  cashInDrawer: {
    encode: (kop: number) => encodeBcd(kop, 7),
    decode: (bytes: Buffer) => decodeBcd(new ByteReader(bytes, 'cash register').take(7)),
  },
  unsentOfdDocuments: {
    encode: (count: number) => encodeBcd(count, 3),
    decode: (bytes: Buffer) => decodeBcd(new ByteReader(bytes, 'unsent documents register').take(3)),
  },
  /** [0] shift open flag, [1..6] the shift's opening time DD MM YY hh mm ss (BCD). */
  shiftInfo: {
    encode: (v: { shiftOpen: boolean; openedAt: DeviceDateTime }) =>
      Buffer.concat([Buffer.of(v.shiftOpen ? 1 : 0), encodeBcdDayFirst(v.openedAt)]),
    decode: (bytes: Buffer) => {
      const r = new ByteReader(bytes, 'shift info register');
      return { shiftOpen: r.byte() === 1, openedAt: decodeBcdDayFirst(Buffer.from(r.take(6))) };
    },
  },
  serial: {
    encode: (serial: string) => encodeBcd(BigInt(serial), 7),
    decode: (bytes: Buffer) => bcdDigits(new ByteReader(bytes, 'serial register').take(7)),
  },
  /** Byte 0 = characters per line (BCD). */
  printSettings: {
    encode: (lineWidth: number) => Buffer.concat([encodeBcd(lineWidth, 1)]),
    decode: (bytes: Buffer) => fromBcdByte(new ByteReader(bytes, 'print settings').byte()),
  },
  /** Shift number at bytes 3..5 (BCD). */
  sessionData: {
    encode: (shiftNumber: number) => Buffer.concat([Buffer.alloc(3), encodeBcd(shiftNumber, 3)]),
    decode: (bytes: Buffer) => {
      const r = new ByteReader(bytes, 'session register');
      r.take(3);
      return decodeBcd(r.take(3));
    },
  },
  ffdVersions: {
    encode: (v: { kkt: number; fn: number }) => Buffer.of(v.kkt, v.fn),
    decode: (bytes: Buffer) => {
      const r = new ByteReader(bytes, 'FFD versions');
      return { kkt: r.byte(), fn: r.byte() };
    },
  },
  /** Command (2 bytes) and extended error code (uint16), both big-endian, then reserved bytes. */
  extendedError: {
    encode: (v: { command: number; errorCode: number }) => {
      const bytes = Buffer.alloc(8);
      bytes.writeUInt16BE(v.command, 0);
      bytes.writeUInt16BE(v.errorCode, 2);
      return bytes;
    },
    decode: (bytes: Buffer) => {
      const r = new ByteReader(bytes, 'extended error register');
      const head = r.take(4);
      return { command: head.readUInt16BE(0), errorCode: head.readUInt16BE(2) };
    },
  },
};
