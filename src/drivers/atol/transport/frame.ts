import { crc8 } from './crc8.js';

/** Protocol v3 framing constants (docs/protocol/atol-v3.md §2). */
export const STX = 0xfe;
export const ESC = 0xfd;
const ESC_STX = 0xee;
const ESC_ESC = 0xed;

/** Host packet ids cycle over 0x00–0xDF; the device sends unsolicited async results with id 0xF0. */
export const MAX_PACKET_ID = 0xdf;
export const ASYNC_PACKET_ID = 0xf0;
/** LEN is two 7-bit bytes, so a frame carries at most 16383 bytes of (unescaped) data. */
export const MAX_DATA_LENGTH = 0x3fff;

export interface Frame {
  id: number;
  data: Buffer;
}

export function isValidPacketId(id: number): boolean {
  return (id >= 0 && id <= MAX_PACKET_ID) || id === ASYNC_PACKET_ID;
}

function escapedLength(bytes: Uint8Array): number {
  let length = bytes.length;
  for (const byte of bytes) if (byte === STX || byte === ESC) length++;
  return length;
}

function writeEscaped(bytes: Uint8Array, out: Buffer, offset: number): number {
  let at = offset;
  for (const byte of bytes) {
    if (byte === STX) {
      out[at++] = ESC;
      out[at++] = ESC_STX;
    } else if (byte === ESC) {
      out[at++] = ESC;
      out[at++] = ESC_ESC;
    } else {
      out[at++] = byte;
    }
  }
  return at;
}

/** Wraps DATA into a wire frame: STX, LEN (of unescaped DATA), ID, escaped DATA, escaped CRC(ID + DATA). */
export function encodeFrame(frame: Frame): Buffer {
  const { id, data } = frame;
  if (!isValidPacketId(id))
    throw new RangeError(`packet id 0x${id.toString(16)} is outside 0x00–0xDF and 0xF0`);
  if (data.length > MAX_DATA_LENGTH)
    throw new RangeError(`frame data of ${data.length} bytes exceeds ${MAX_DATA_LENGTH}`);
  const crc = crc8(data, crc8(Uint8Array.of(id)));
  const crcBytes = Uint8Array.of(crc);
  const out = Buffer.allocUnsafe(4 + escapedLength(data) + escapedLength(crcBytes));
  out[0] = STX;
  out[1] = data.length & 0x7f;
  out[2] = data.length >> 7;
  out[3] = id;
  const end = writeEscaped(crcBytes, out, writeEscaped(data, out, 4));
  return out.subarray(0, end);
}

export function frameChecksum(id: number, data: Uint8Array): number {
  return crc8(data, crc8(Uint8Array.of(id)));
}

export { ESC_ESC, ESC_STX };
