import { describe, expect, it } from 'vitest';
import { encodeCp866 } from '../protocol/cp866.js';
import { encodeTlv } from '../protocol/tlv.js';
import { encodeFrame } from './frame.js';
import { decodeFrameAt } from './frameDecoder.js';
import { WireMasker } from './wireMask.js';
import { wireTraceTap } from './wireTraceWriter.js';

const add = (taskId: number, body: Buffer) =>
  Buffer.concat([Buffer.of(0xc1, 0x01, taskId, 0x00, 0x00), body]);
const writeTag = (tag: number, value: string) =>
  Buffer.concat([Buffer.of(0xe8, 0x01, 0x01, 0x00), encodeTlv(tag, encodeCp866(value))]);
const stars = (n: number) => Buffer.alloc(n, 0x2a);

describe('WireMasker', () => {
  it('masks the value of 1008, 1227, 1228 and 1256 in the host tag writes and leaves other tags alone', () => {
    const masker = new WireMasker();
    const contact = masker.mask('host', { id: 1, data: add(5, writeTag(1008, 'a@b.ru')) });
    expect(contact.masked).toBe(true);
    expect(contact.frame.data.subarray(-6)).toEqual(stars(6));
    expect(contact.frame.data.subarray(0, -6)).toEqual(add(5, writeTag(1008, 'a@b.ru')).subarray(0, -6));
    const cashier = masker.mask('host', { id: 2, data: add(6, writeTag(1021, 'Иванова')) });
    expect(cashier.masked).toBe(false);
    expect(cashier.frame.data).toEqual(add(6, writeTag(1021, 'Иванова')));
    const buyer = encodeTlv(
      1256,
      Buffer.concat([
        encodeTlv(1227, encodeCp866('ООО Покупатель')),
        encodeTlv(1228, encodeCp866('7707083893  ')),
      ]),
    );
    const stlv = masker.mask('host', {
      id: 3,
      data: add(7, Buffer.concat([Buffer.of(0xe8, 1, 1, 0), buyer])),
    });
    expect(stlv.frame.data.subarray(-(buyer.length - 4))).toEqual(stars(buyer.length - 4));
  });

  it('masks 1008 in a document read back, also when its TLV runs over into the next A4 46 answer', () => {
    const masker = new WireMasker();
    const value = 'very.long.contact@example.com';
    const tlv = encodeTlv(1008, encodeCp866(value));
    masker.mask('host', { id: 10, data: add(20, Buffer.of(0xa4, 0x46)) });
    const first = masker.mask('device', {
      id: 10,
      data: Buffer.concat([Buffer.of(0xa3, 0x55, 0x00), tlv.subarray(0, 14)]),
    });
    expect(first.masked).toBe(true);
    expect(first.frame.data.subarray(7)).toEqual(stars(10));
    // The rest comes as an async result of the next read (task 21).
    masker.mask('host', { id: 11, data: add(21, Buffer.of(0xa4, 0x46)) });
    const rest = masker.mask('device', {
      id: 0xf0,
      data: Buffer.concat([Buffer.of(0xa6, 21, 0x55, 0x00), tlv.subarray(14)]),
    });
    expect(rest.masked).toBe(true);
    expect(rest.frame.data.subarray(4)).toEqual(stars(tlv.length - 14));
    // The next TLV is not masked.
    masker.mask('host', { id: 12, data: add(22, Buffer.of(0xa4, 0x46)) });
    const next = Buffer.concat([Buffer.of(0xa3, 0x55, 0x00), encodeTlv(1040, Buffer.of(1, 0, 0, 0))]);
    expect(masker.mask('device', { id: 12, data: next })).toEqual({
      frame: { id: 12, data: next },
      masked: false,
    });
  });

  it('does not touch the answers of other commands that happen to hold the same bytes', () => {
    const masker = new WireMasker();
    masker.mask('host', { id: 1, data: add(3, Buffer.of(0xa4, 0x30)) });
    const answer = Buffer.concat([Buffer.of(0xa3, 0x55, 0x00), encodeTlv(1008, encodeCp866('x@y.z'))]);
    expect(masker.mask('device', { id: 1, data: answer }).masked).toBe(false);
  });
});

describe('wireTraceTap', () => {
  it('cuts bytes into frames however they arrive, masks, and notes noise', () => {
    const lines: string[] = [];
    const tap = wireTraceTap(
      (line) => lines.push(line),
      'kkt1',
      () => new Date('2026-03-01T10:00:00.000Z'),
    );
    const contact = encodeFrame({ id: 4, data: add(9, writeTag(1008, '+79990000000')) });
    tap('host', contact.subarray(0, 5));
    tap('host', Buffer.concat([contact.subarray(5), Buffer.of(0x00, 0x01)]));
    tap(
      'device',
      Buffer.concat([
        encodeFrame({ id: 4, data: Buffer.of(0xa3) }),
        encodeFrame({ id: 5, data: Buffer.of(0xa1) }),
      ]),
    );
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^2026-03-01T10:00:00\.000Z kkt1 > FE .* masked\n$/);
    const masked = Buffer.from(lines[0]!.split(' ').slice(3, -1).join(''), 'hex');
    const decoded = decodeFrameAt(masked);
    expect(typeof decoded).toBe('object');
    expect(masked.includes(Buffer.from('+7999'))).toBe(false);
    expect(lines[1]).toBe('2026-03-01T10:00:00.000Z kkt1 > # 2 bytes of noise: 0001\n');
    expect(lines[2]).toMatch(/ kkt1 < FE 01 00 04 A3 /);
    expect(lines[3]).toMatch(/ kkt1 < FE 01 00 05 A1 /);
  });
});
