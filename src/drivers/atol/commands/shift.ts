import { ByteReader, defineCommand, noBytes } from './command.js';

/** `9A`: open the shift (mode 1). The cashier tags (1021/1203) are written with `E8` first. */
export const openShift = defineCommand<{ flags: number }, void>({
  name: 'openShift',
  code: Buffer.of(0x9a),
  timeoutMs: 10_000,
  layout: 'generic',
  encodeParams: ({ flags }) => Buffer.of(flags),
  decodeParams: (bytes) => ({ flags: new ByteReader(bytes, 'open shift').byte() }),
  encodeResult: noBytes.encode,
  decodeResult: noBytes.decode,
});

/**
 * `5A`: Z report, closing the shift (mode 3). The answer only means "started": the register then walks
 * 3.2 → 7.1 → 3.0 (or 0.0), which the caller follows with `45` for up to two minutes.
 */
export const zReport = defineCommand<void, void>({
  name: 'zReport',
  code: Buffer.of(0x5a),
  timeoutMs: 30_000,
  layout: 'generic',
  encodeParams: noBytes.encode,
  decodeParams: noBytes.decode,
  encodeResult: noBytes.encode,
  decodeResult: noBytes.decode,
});
