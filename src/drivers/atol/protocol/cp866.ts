import iconv from 'iconv-lite';

/**
 * Text on the wire is CP866. ATOL's font swaps two glyphs relative to the code page: it prints № at
 * 0x24 (where CP866 has $) and $ at 0xFC (where CP866 has №). We follow the device so that a "№" in an
 * item name prints as №. Ё/ё are F0/F1 in CP866 already.
 */
const DOLLAR = 0x24;
const NUMERO_CP866 = 0xfc;

export function encodeCp866(text: string): Buffer {
  const bytes = iconv.encode(text, 'cp866');
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === DOLLAR) bytes[i] = NUMERO_CP866;
    else if (bytes[i] === NUMERO_CP866) bytes[i] = DOLLAR;
  }
  return bytes;
}

export function decodeCp866(bytes: Uint8Array): string {
  const copy = Buffer.from(bytes);
  for (let i = 0; i < copy.length; i++) {
    if (copy[i] === DOLLAR) copy[i] = NUMERO_CP866;
    else if (copy[i] === NUMERO_CP866) copy[i] = DOLLAR;
  }
  return iconv.decode(copy, 'cp866');
}

/** True when every character survives the trip through CP866 (so the register prints what we mean). */
export function isCp866Encodable(text: string): boolean {
  return decodeCp866(encodeCp866(text)) === text;
}
