/**
 * CRC-8 as ATOL protocol v3 uses it: polynomial 0x31, initial value 0xFF, MSB first, no reflection,
 * no final XOR (the catalogue's CRC-8/NRSC-5). Table-driven: it runs for every byte on the wire.
 */
const TABLE = (() => {
  const table = new Uint8Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x80 ? ((crc << 1) ^ 0x31) & 0xff : (crc << 1) & 0xff;
    }
    table[byte] = crc;
  }
  return table;
})();

export function crc8(data: Uint8Array, initial = 0xff): number {
  let crc = initial;
  for (const byte of data) crc = TABLE[crc ^ byte]!;
  return crc;
}
