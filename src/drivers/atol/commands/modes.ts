import { decodeBcd, encodeBcd } from '../protocol/bcd.js';
import { ByteReader, defineCommand, noBytes } from './command.js';

export const Mode = {
  Idle: 0,
  Registration: 1,
  ReportNoClear: 2,
  ReportClear: 3,
  Programming: 4,
  FnAccess: 5,
  Extra: 7,
} as const;

/** Default user passwords equal the user number: 29 administrator, 30 system administrator. */
export const DEFAULT_ADMIN_PASSWORD = 30;

export interface EnterModeParams {
  mode: number;
  password: number;
}

/** `56`: enter a mode with a 4-byte BCD user password. Only allowed from mode 0. */
export const enterMode = defineCommand<EnterModeParams, void>({
  name: 'enterMode',
  code: Buffer.of(0x56),
  timeoutMs: 3000,
  layout: 'generic',
  encodeParams: ({ mode, password }) => Buffer.concat([Buffer.of(mode), encodeBcd(password, 4)]),
  decodeParams: (bytes) => {
    const r = new ByteReader(bytes, 'enter mode');
    return { mode: r.byte(), password: decodeBcd(r.take(4)) };
  },
  encodeResult: noBytes.encode,
  decodeResult: noBytes.decode,
});

/** `48`: leave the current mode back to mode 0. */
export const exitMode = defineCommand<void, void>({
  name: 'exitMode',
  code: Buffer.of(0x48),
  timeoutMs: 10_000,
  layout: 'generic',
  encodeParams: noBytes.encode,
  decodeParams: noBytes.decode,
  encodeResult: noBytes.encode,
  decodeResult: noBytes.decode,
});
