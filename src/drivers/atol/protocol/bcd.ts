/**
 * Packed BCD, big-endian, fixed width: how ATOL's protocol 3.1 carries money (kopecks), quantities
 * (thousandths), counters and dates. Values are integers; bigint keeps 14-digit fields exact.
 */
export function encodeBcd(value: number | bigint, byteLength: number): Buffer {
  const big = BigInt(value);
  if (big < 0n) throw new RangeError(`BCD cannot carry a negative value (${big})`);
  const digits = big.toString();
  if (digits.length > byteLength * 2) {
    throw new RangeError(`${digits} does not fit in ${byteLength} BCD bytes`);
  }
  return Buffer.from(digits.padStart(byteLength * 2, '0'), 'hex');
}

export function decodeBcdBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) {
    const high = byte >> 4;
    const low = byte & 0x0f;
    if (high > 9 || low > 9) throw new RangeError(`0x${byte.toString(16)} is not a BCD byte`);
    value = value * 100n + BigInt(high * 10 + low);
  }
  return value;
}

/** Decodes BCD into a safe integer; refuses values that would lose precision as a number. */
export function decodeBcd(bytes: Uint8Array): number {
  const value = decodeBcdBigInt(bytes);
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new RangeError(`BCD value ${value} exceeds a safe integer`);
  return Number(value);
}

/** Encodes one byte 0–99 as BCD (dates, times, small codes such as 1212/1214 in `EB`). */
export function bcdByte(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 99)
    throw new RangeError(`${value} is not a BCD byte value`);
  return ((value / 10) << 4) | (value % 10);
}

export function fromBcdByte(byte: number): number {
  return decodeBcd(Uint8Array.of(byte));
}

export function bcdDigits(bytes: Uint8Array): string {
  const value = decodeBcdBigInt(bytes);
  return value.toString().padStart(bytes.length * 2, '0');
}
