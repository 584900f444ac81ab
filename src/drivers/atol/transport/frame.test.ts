import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc8 } from './crc8.js';
import { encodeFrame, type Frame, MAX_PACKET_ID } from './frame.js';
import { FrameDecoder, type FrameRejection } from './frameDecoder.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** Framing vectors (docs/protocol/atol-v3.md §2): [meaning, packet id, DATA, wire bytes]. */
const VECTORS: Array<[string, number, string, string]> = [
  ['empty packet', 0x01, '', 'FE 00 00 01 9D'],
  ['ADD short status 45', 0x02, 'C1 01 01 00 00 45', 'FE 06 00 02 C1 01 01 00 00 45 CE'],
  ['async result with escaped CRC', 0xf0, 'A6 57 55 00 00', 'FE 05 00 F0 A6 57 55 00 00 FD EE'],
  ['sync result', 0x02, 'A3 55 00 00', 'FE 04 00 02 A3 55 00 00 20'],
  ['REQ', 0x03, 'C3 01', 'FE 02 00 03 C3 01 37'],
  ['ACK', 0x04, 'C2 01', 'FE 02 00 04 C2 01 20'],
  ['ABORT', 0x05, 'C4', 'FE 01 00 05 C4 75'],
  ['escape demo', 0x06, 'C1 01 02 00 00 4C FE FD', 'FE 08 00 06 C1 01 02 00 00 4C FD EE FD ED 27'],
  // Frames Zzzzipper's firmware exchanged with its register (AtolProtocol.h comments, testAtolPacketLayer.cpp).
  ['Zz: abort', 0x06, 'C4', 'FE 01 00 06 C4 58'],
  ['Zz: add A5 with NeedResult', 0x07, 'C1 01 02 00 00 A5', 'FE 06 00 07 C1 01 02 00 00 A5 8D'],
  ['Zz: req, id 08', 0x08, 'C3 02', 'FE 02 00 08 C3 02 FC'],
  ['Zz: req, id 09', 0x09, 'C3 02', 'FE 02 00 09 C3 02 BA'],
  ['Zz: req, id 0A', 0x0a, 'C3 02', 'FE 02 00 0A C3 02 70'],
  ['Zz: packet layer test, id 02', 0x02, 'C1 01 02 00 00 A5', 'FE 06 00 02 C1 01 02 00 00 A5 93'],
  ['Zz: packet layer test, id 01', 0x01, 'C1 01 02 00 00 A5', 'FE 06 00 01 C1 01 02 00 00 A5 99'],
];

function decodeAll(wire: Buffer, chunkSizes: number[] = [wire.length]) {
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  const rejected: FrameRejection[] = [];
  let garbage = 0;
  decoder.on('data', (frame: Frame) => frames.push(frame));
  decoder.on('rejected', (reason: FrameRejection) => rejected.push(reason));
  decoder.on('garbage', (count: number) => {
    garbage += count;
  });
  let at = 0;
  for (const size of chunkSizes) {
    if (at >= wire.length) break;
    decoder.write(wire.subarray(at, at + size));
    at += size;
  }
  if (at < wire.length) decoder.write(wire.subarray(at));
  decoder.end();
  return { frames, rejected, garbage };
}

describe('CRC-8 (poly 0x31, init 0xFF)', () => {
  it('matches the catalogue check value of CRC-8/NRSC-5', () => {
    expect(crc8(Buffer.from('123456789'))).toBe(0xf7);
  });
});

describe('v3 framing vectors (docs/protocol/atol-v3.md §2)', () => {
  it.each(VECTORS)('encodes %s', (_meaning, id, data, wire) => {
    expect(encodeFrame({ id, data: hex(data) }).toString('hex')).toBe(hex(wire).toString('hex'));
  });

  it.each(VECTORS)('decodes %s', (_meaning, id, data, wire) => {
    const { frames, rejected } = decodeAll(hex(wire));
    expect(rejected).toEqual([]);
    expect(frames).toEqual([{ id, data: hex(data) }]);
  });

  it('decodes all vectors back to back, delivered one byte at a time', () => {
    const wire = Buffer.concat(VECTORS.map(([, , , w]) => hex(w)));
    const { frames } = decodeAll(wire, Array(wire.length).fill(1));
    expect(frames.map((f) => f.id)).toEqual(VECTORS.map(([, id]) => id));
  });

  it('encodes a 200-byte length as 48 01', () => {
    const wire = encodeFrame({ id: 0, data: Buffer.alloc(200, 0x11) });
    expect([wire[1], wire[2]]).toEqual([0x48, 0x01]);
  });

  it('refuses ids outside the host and async ranges', () => {
    expect(() => encodeFrame({ id: 0xe0, data: Buffer.alloc(0) })).toThrow(RangeError);
  });
});

describe('resynchronisation', () => {
  const good = hex('FE 04 00 02 A3 55 00 00 20');

  it('skips garbage before a frame', () => {
    const { frames, garbage } = decodeAll(Buffer.concat([hex('00 13 37 FD 42'), good]));
    expect(frames).toHaveLength(1);
    expect(garbage).toBe(5);
  });

  it('drops a frame with a corrupted byte and keeps the next one', () => {
    const corrupted = Buffer.from(good);
    corrupted[5] = 0x56;
    const { frames, rejected } = decodeAll(Buffer.concat([corrupted, good]));
    expect(rejected).toEqual(['bad-crc']);
    expect(frames).toHaveLength(1);
  });

  it('treats an STX inside a frame as the start of a new frame', () => {
    const { frames, rejected } = decodeAll(Buffer.concat([good.subarray(0, 6), good]));
    expect(rejected).toEqual(['truncated']);
    expect(frames).toHaveLength(1);
  });

  it('rejects an invalid escape sequence', () => {
    const { frames, rejected } = decodeAll(Buffer.concat([hex('FE 01 00 01 FD 00 00'), good]));
    expect(rejected).toEqual(['bad-escape']);
    expect(frames).toHaveLength(1);
  });

  it('rejects a length byte with the high bit set', () => {
    const { frames, rejected } = decodeAll(Buffer.concat([hex('FE 80 00 01'), good]));
    expect(rejected).toContain('bad-length');
    expect(frames).toHaveLength(1);
  });
});

describe('properties (fast-check)', () => {
  const packetId = fc.oneof(fc.integer({ min: 0, max: MAX_PACKET_ID }), fc.constant(0xf0));
  const payload = fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a));

  it('decode(encode(x)) = x for random payloads and ids, in random chunking', () => {
    fc.assert(
      fc.property(
        packetId,
        payload,
        fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 40 }),
        (id, data, chunks) => {
          const { frames, rejected } = decodeAll(encodeFrame({ id, data }), chunks);
          expect(rejected).toEqual([]);
          expect(frames).toEqual([{ id, data }]);
        },
      ),
    );
  });

  it('skips any garbage without an STX before a frame', () => {
    const noStx = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a.filter((b) => b !== 0xfe)));
    fc.assert(
      fc.property(noStx, packetId, payload, (garbage, id, data) => {
        const { frames } = decodeAll(Buffer.concat([garbage, encodeFrame({ id, data })]));
        expect(frames).toEqual([{ id, data }]);
      }),
    );
  });

  it('recovers the next frame after arbitrary garbage, even garbage containing STX', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), packetId, payload, (garbage, id, data) => {
        // A short filler of non-STX bytes closes any frame the garbage may have started.
        const wire = Buffer.concat([Buffer.from(garbage), encodeFrame({ id, data })]);
        const { frames } = decodeAll(wire);
        expect(frames.at(-1)).toEqual({ id, data });
      }),
    );
  });
});
