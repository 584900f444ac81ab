import { describe, expect, it } from 'vitest';
import { hasResultFields } from '../../src/drivers/atol/documentFields.js';
import { readDocumentTlvs } from '../../src/drivers/atol/documentReader.js';
import { Kkt } from '../../src/drivers/atol/kkt.js';
import { encodeCp866 } from '../../src/drivers/atol/protocol/cp866.js';
import { ScriptedRegister } from '../support/scriptedRegister.js';

/**
 * A receipt as a real register's FN handed it out over `A4 46`, logged TLV by TLV in the Zzzzipper
 * vending firmware (Zzzzipper/projects, firmware-usbhost/common/fiscal_storage/include/FiscalStorage.h):
 * FD 87 of FN 9999078900007317, 25.00 roubles in cash. The nested TLVs of 1059 show the header layout
 * on the wire: tag LE16, length LE16.
 */
const ZZ_RECEIPT: Array<[tag: number, hex: string]> = [
  [1041, '39393939303738393030303037333137'],
  [1037, '3030303030303030303730313232373820202020'],
  [1018, '363930323039383132373532'],
  [1040, '57000000'],
  [1012, 'fcec8e5a'],
  [1077, '31046629765f'],
  [1038, '0e000000'],
  [1042, '01000000'],
  [1054, '01'],
  [1020, 'c409'],
  [
    1059,
    '060408009de1afe0a5e1e1ae37040200c409ff03020000011304020 0c409af04010001b00402007d01'.replace(/ /g, ''),
  ],
  [1031, 'c409'],
  [1081, '00'],
  [1215, '00'],
  [1216, '00'],
  [1217, '00'],
  [1055, '08'],
  [1036, '313539'],
  [1102, '7d01'],
];

const tlvBytes = ([tag, hex]: [number, string]) => {
  const value = Buffer.from(hex, 'hex');
  const head = Buffer.alloc(4);
  head.writeUInt16LE(tag, 0);
  head.writeUInt16LE(value.length, 2);
  return Buffer.concat([head, value]);
};

const SIZE = ZZ_RECEIPT.reduce((sum, tlv) => sum + tlvBytes(tlv).length, 0);
/** `A4 45` → `55 00 TYPE(LE16) SIZE(LE16)` (Zzzzipper's FSDocSizeResponse). */
const SELECT_ANSWER = Buffer.from([0x55, 0x00, 0x03, 0x00, SIZE & 0xff, SIZE >> 8]);
/** One `A4 46` answer per TLV (TerminalClient's getFiscalTLVData reads one TLV per call). */
const TLV_ANSWERS = ZZ_RECEIPT.map((tlv) => Buffer.concat([Buffer.of(0x55, 0x00), tlvBytes(tlv)]));

/** What a connect asks; the A5 answer is the one quoted in Zzzzipper's AtolProtocol.h. */
const IDENTITY = {
  a5: Buffer.concat([
    Buffer.from('0001014c1000030000219 5'.replace(/ /g, ''), 'hex'),
    encodeCp866('Казначей ФА'),
  ]),
  '9d': Buffer.from('55000300002195', 'hex'),
  '9116': Buffer.from('55000000000000001234', 'hex'),
  '9118': Buffer.from('550032', 'hex'),
  '9136': Buffer.from('55000202', 'hex'),
  a430: Buffer.concat([
    // 55 00, life phase 3, no document open, no data, shift closed, no warnings, 2018-02-22 16:17.
    Buffer.from('5500030000000012021610' + '11', 'hex'),
    Buffer.from('9999078900007317', 'latin1'),
    Buffer.from('57000000', 'hex'),
  ]),
};

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
