/**
 * FFD tag-length-value records as the FN stores them: tag uint16 LE, length uint16 LE, value.
 * Integers inside values are little-endian; strings are CP866.
 */
import { decodeCp866, encodeCp866 } from './cp866.js';

export interface Tlv {
  tag: number;
  value: Buffer;
}

export function encodeTlv(tag: number, value: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16LE(tag, 0);
  header.writeUInt16LE(value.length, 2);
  return Buffer.concat([header, value]);
}

export function decodeTlvList(bytes: Buffer): Tlv[] {
  const list: Tlv[] = [];
  let at = 0;
  while (at + 4 <= bytes.length) {
    const tag = bytes.readUInt16LE(at);
    const length = bytes.readUInt16LE(at + 2);
    if (at + 4 + length > bytes.length)
      throw new RangeError(`TLV ${tag} claims ${length} bytes past the end`);
    list.push({ tag, value: Buffer.from(bytes.subarray(at + 4, at + 4 + length)) });
    at += 4 + length;
  }
  if (at !== bytes.length) throw new RangeError(`${bytes.length - at} trailing bytes after the TLV list`);
  return list;
}

export const tlvString = (tag: number, text: string): Buffer => encodeTlv(tag, encodeCp866(text));
export const tlvByte = (tag: number, value: number): Buffer => encodeTlv(tag, Buffer.of(value));

export function tlvUint32(tag: number, value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value, 0);
  return encodeTlv(tag, bytes);
}

/** VLN: a variable-length little-endian unsigned integer (FFD money amounts in kopecks). */
export function encodeVln(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`VLN cannot carry ${value}`);
  const bytes: number[] = [];
  let rest = BigInt(value);
  do {
    bytes.push(Number(rest & 0xffn));
    rest >>= 8n;
  } while (rest > 0n);
  return Buffer.from(bytes);
}

export function decodeVln(bytes: Uint8Array): number {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('VLN exceeds a safe integer');
  return Number(value);
}

export function findTlv(list: Tlv[], tag: number): Buffer | undefined {
  return list.find((entry) => entry.tag === tag)?.value;
}

export const tlvText = (value: Buffer | undefined): string | undefined =>
  value === undefined ? undefined : decodeCp866(value);
