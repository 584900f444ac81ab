import { describe, expect, it } from 'vitest';
import { decodeFvlnMilli, hasHistoryFields, hasResultFields } from '../../src/drivers/atol/documentFields.js';
import { readDocumentTlvs } from '../../src/drivers/atol/documentReader.js';
import { Kkt } from '../../src/drivers/atol/kkt.js';
import {
  ZZ_SELECT_ANSWER as SELECT_ANSWER,
  ZZ_RECEIPT_SIZE as SIZE,
  scriptedIdentity,
  ZZ_TLV_ANSWERS as TLV_ANSWERS,
  tlvBytes,
  ZZ_RECEIPT,
} from '../support/fixtures/zzzzipperReceipt.js';
import { ScriptedRegister } from '../support/scriptedRegister.js';

const IDENTITY = scriptedIdentity();

async function connectTo(register: ScriptedRegister): Promise<Kkt> {
  const kkt = new Kkt({
    link: () => register,
    timeZone: 'Europe/Moscow',
    reconnect: { enabled: false },
    transport: { replyTimeoutMs: 200 },
  });
  await kkt.connect();
  return kkt;
}

const EXPECTED = {
  fiscalDocumentNumber: 87,
  documentType: 3,
  fiscalSign: String(0x6629765f),
  dateTime: '2018-02-22T16:17:00+03:00',
  shiftNumber: 14,
  receiptNumber: 1,
  totalKop: 2500,
  operationType: 1,
  fnNumber: '9999078900007317',
  registrationNumber: '0000000007012278',
};

describe('reading a fiscal document back, with the bytes of a real register (Zzzzipper dump)', () => {
  it('reads A4 45 as type and size, then one TLV per A4 46 answer, up to the size', async () => {
    const register = new ScriptedRegister({ ...IDENTITY, a445: SELECT_ANSWER, a446: TLV_ANSWERS });
    const kkt = await connectTo(register);
    try {
      expect(await kkt.document(87)).toMatchObject(EXPECTED);
      expect(register.commands.filter((c) => c.startsWith('a445'))).toEqual(['a44557000000']);
      // Every TLV, and no A4 46 past the announced size.
      expect(register.commands.filter((c) => c === 'a446')).toHaveLength(ZZ_RECEIPT.length);
    } finally {
      await kkt.close();
    }
  });

  it('reads the last document: the number from A4 30, the document from A4 45/46', async () => {
    const register = new ScriptedRegister({ ...IDENTITY, a445: SELECT_ANSWER, a446: TLV_ANSWERS });
    const kkt = await connectTo(register);
    try {
      expect(await kkt.lastDocument()).toMatchObject(EXPECTED);
      expect(register.commands.filter((c) => c.startsWith('a445'))).toEqual(['a44557000000']);
    } finally {
      await kkt.close();
    }
  });

  it('takes a TLV spread over two answers and an answer with a reserved byte after its TLV', async () => {
    const answers = TLV_ANSWERS.flatMap((answer, index) => {
      if (index === 10)
        return [answer.subarray(0, 20), Buffer.concat([Buffer.of(0x55, 0x00), answer.subarray(20)])];
      if (index === 3) return [Buffer.concat([answer, Buffer.of(0x00)])];
      return [answer];
    });
    const register = new ScriptedRegister({ ...IDENTITY, a445: SELECT_ANSWER, a446: answers });
    const kkt = await connectTo(register);
    try {
      expect(await kkt.document(87)).toMatchObject(EXPECTED);
    } finally {
      await kkt.close();
    }
  });

  it('stops the short read of the normal path once a result has its fields: 8 TLVs here', async () => {
    let served = 0;
    const read = await readDocumentTlvs(
      {
        select: async () => ({ documentType: 3, size: SIZE }),
        next: async () => tlvBytes(ZZ_RECEIPT[served++]!),
      },
      87,
      (header, tlvs) => hasResultFields(header.documentType, tlvs),
    );
    expect(served).toBe(8);
    expect(read.complete).toBe(false);
    expect(read.tlvs.map((t) => t.tag)).toEqual([1041, 1037, 1018, 1040, 1012, 1077, 1038, 1042]);
  });

  it('reads the positions (1059) of the real receipt: 1079 price, 1023 quantity as FVLN, 1043 amount', async () => {
    const register = new ScriptedRegister({ ...IDENTITY, a445: SELECT_ANSWER, a446: TLV_ANSWERS });
    const kkt = await connectTo(register);
    try {
      // One "Эспрессо" at 25.00: 1079 c409, 1023 00 01 (no decimals, 1), 1043 c409.
      expect((await kkt.document(87)).positions).toEqual([
        { priceKop: 2500, quantityMilli: 1000, amountKop: 2500 },
      ]);
    } finally {
      await kkt.close();
    }
  });

  it('reads a receipt in full for a history scan, and any other document only up to its date-time', async () => {
    const receipt = new ScriptedRegister({ ...IDENTITY, a445: SELECT_ANSWER, a446: TLV_ANSWERS });
    const kkt = await connectTo(receipt);
    try {
      expect((await kkt.document(87, 'history')).marker).toBeUndefined();
      expect(receipt.commands.filter((c) => c === 'a446')).toHaveLength(ZZ_RECEIPT.length);
    } finally {
      await kkt.close();
    }
    // The same TLVs announced as a shift-opening report (type 2): five answers reach 1012.
    const shiftSelect = Buffer.from(SELECT_ANSWER);
    shiftSelect[2] = 0x02;
    const shift = new ScriptedRegister({ ...IDENTITY, a445: shiftSelect, a446: TLV_ANSWERS });
    const other = await connectTo(shift);
    try {
      const document = await other.document(87, 'history');
      expect(document).toMatchObject({ documentType: 2, dateTime: '2018-02-22T16:17:00+03:00' });
      expect(shift.commands.filter((c) => c === 'a446')).toHaveLength(5);
    } finally {
      await other.close();
    }
    expect(hasHistoryFields(3, [{ tag: 1012, value: Buffer.alloc(4) }])).toBe(false);
  });

  it('stops a history read of a receipt of ours once it has the marker, what matching needs and its positions', async () => {
    // The real receipt with our marker written after its payment totals (1031, 1081): 1055, 1036, 1102 and
    // the rest after it are not read. Where the marker is its last TLV, the receipt is read in full.
    const marker: [number, string] = [1192, Buffer.from('k3v9x0a1b2c3d4e5').toString('hex')];
    const afterTotals = ZZ_RECEIPT.findIndex(([tag]) => tag === 1081) + 1;
    const withMarker = [...ZZ_RECEIPT.slice(0, afterTotals), marker, ...ZZ_RECEIPT.slice(afterTotals)];
    const readWith = async (tlvs: Array<[number, string]>) => {
      let served = 0;
      const read = await readDocumentTlvs(
        {
          select: async () => ({
            documentType: 3,
            size: tlvs.reduce((n, [, hex]) => n + 4 + hex.length / 2, 0),
          }),
          next: async () => tlvBytes(tlvs[served++]!),
        },
        87,
        (header, read) => hasHistoryFields(header.documentType, read),
      );
      return { served, tags: read.tlvs.map((t) => t.tag) };
    };
    const early = await readWith(withMarker);
    expect(early.tags.at(-1)).toBe(1192);
    expect(early.served).toBe(afterTotals + 1);
    expect(early.served).toBeLessThan(withMarker.length);
    expect((await readWith([...ZZ_RECEIPT, marker])).served).toBe(ZZ_RECEIPT.length + 1);
    // A marker before the positions: read on to the first tag after them, never stopping inside them.
    const first = [...ZZ_RECEIPT.slice(0, 3), marker, ...ZZ_RECEIPT.slice(3)];
    const beforePositions = await readWith(first);
    expect(beforePositions.tags.at(-2)).toBe(1059);
    expect(beforePositions.tags.at(-1)).not.toBe(1059);
  });

  it('decodes FVLN quantities to thousandths, refusing what thousandths cannot hold', () => {
    expect(decodeFvlnMilli(Buffer.from('0001', 'hex'))).toBe(1000);
    expect(decodeFvlnMilli(Buffer.from('03e803', 'hex'))).toBe(1000);
    expect(decodeFvlnMilli(Buffer.from('02fa00', 'hex'))).toBe(2500);
    expect(decodeFvlnMilli(Buffer.from('04102700', 'hex'))).toBe(1000);
    expect(decodeFvlnMilli(Buffer.from('0411', 'hex'))).toBeUndefined();
    expect(decodeFvlnMilli(Buffer.from('00', 'hex'))).toBeUndefined();
  });

  it('ends at DA when the register has less than it announced', async () => {
    let served = 0;
    const read = await readDocumentTlvs(
      {
        select: async () => ({ documentType: 3, size: SIZE }),
        next: async () => (served < 3 ? tlvBytes(ZZ_RECEIPT[served++]!) : undefined),
      },
      87,
    );
    expect(read.tlvs).toHaveLength(3);
    expect(read.complete).toBe(false);
  });
});
