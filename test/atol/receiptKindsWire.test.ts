import { describe, expect, it } from 'vitest';
import { encodeRequest } from '../../src/drivers/atol/commands/command.js';
import { closeReceipt } from '../../src/drivers/atol/commands/receipt.js';
import { Kkt } from '../../src/drivers/atol/kkt.js';
import { decodeTlvList, encodeTlv } from '../../src/drivers/atol/protocol/tlv.js';
import type { ReceiptInput } from '../../src/drivers/atol/receipt.js';
import { PAYMENT_TYPES } from '../../src/drivers/atol/vocabulary.js';
import { scriptedIdentity, ZZ_SELECT_ANSWER, ZZ_TLV_ANSWERS } from '../support/fixtures/zzzzipperReceipt.js';
import { ScriptedRegister } from '../support/scriptedRegister.js';

/**
 * What the driver sends for each receipt kind (docs/protocol/atol-v3.md §17), checked against values taken
 * from public sources rather than from our own encoder: the `92` type bytes of ATOL's driver header
 * (LIBFPTR_RT_*: 1, 2, 4, 5, 7, 8, 9, 10) and the correction basis of a real FN's correction receipt
 * (document type 31: 1173 = 0, 1174 holding 1178 = 2017-07-15T00:00:00Z and 1179 = "0").
 */

async function sendOn(receipt: ReceiptInput) {
  const register = new ScriptedRegister(
    {
      ...scriptedIdentity(4),
      '45': Buffer.of(0x55, 0x00, 0x00),
      a445: ZZ_SELECT_ANSWER,
      a446: ZZ_TLV_ANSWERS,
    },
    Buffer.of(0x55, 0x00),
  );
  const kkt = new Kkt({
    link: () => register,
    timeZone: 'Europe/Moscow',
    reconnect: { enabled: false },
    transport: { replyTimeoutMs: 200 },
  });
  await kkt.connect();
  const sent = register.commands.length;
  // The scripted register reads back a plain receipt (type 3): a correction's read-back does not match,
  // which is not what these tests look at.
  await kkt.receipt(receipt).catch(() => undefined);
  await kkt.close();
  return register.commands.slice(sent).map((hex) => Buffer.from(hex, 'hex'));
}

const writtenTags = (commands: Buffer[]) =>
  commands.filter((c) => c[0] === 0xe8).map((c) => decodeTlvList(c.subarray(4))[0]!);

const item = {
  type: 'position' as const,
  name: 'The title',
  priceKop: 5025,
  quantityMilli: 2000,
  amountKop: 10050,
  tax: { type: 'vat20' as const },
};

const base = (type: ReceiptInput['type'], extra: Partial<ReceiptInput> = {}): ReceiptInput => ({
  type,
  items: [item],
  payments: [{ type: 'electronically', sumKop: 10050 }],
  marker: 'job-kinds',
  ...extra,
});

/** LIBFPTR_RT_* as ATOL's driver header numbers them (docs/protocol/atol-v3.md §17, sources there). */
const LIBFPTR_RT = {
  sell: 1,
  sellReturn: 2,
  buy: 4,
  buyReturn: 5,
  sellCorrection: 7,
  sellReturnCorrection: 8,
  buyCorrection: 9,
  buyReturnCorrection: 10,
} as const;

const correction = { type: 'self' as const, baseDate: '2017-07-15', baseNumber: '0' };

describe('receipt kinds on the wire', () => {
  for (const [type, byte] of Object.entries(LIBFPTR_RT) as Array<[ReceiptInput['type'], number]>) {
    it(`opens a ${type} receipt with 92 type byte ${byte}`, async () => {
      const isCorrection = type.endsWith('Correction');
      const commands = await sendOn(base(type, isCorrection ? { correction } : {}));
      const open = commands.find((c) => c[0] === 0x92)!;
      expect(open[2]).toBe(byte);
      // Money out of the drawer (a sale's return, a purchase and their corrections) skips the cash check.
      const eb = commands.find((c) => c[0] === 0xeb)!;
      const paysOut = ['sellReturn', 'buy', 'sellReturnCorrection', 'buyCorrection'].includes(type);
      expect(eb[1]).toBe(paysOut ? 0x02 : 0x00);
    });
  }

  it("writes a correction's basis as the real FN's correction receipt holds it (1173, 1174 = {1178, 1179})", async () => {
    const tags = writtenTags(await sendOn(base('sellCorrection', { correction })));
    const type = tags.find((t) => t.tag === 1173)!;
    expect(type.value).toEqual(Buffer.of(0));
    // The public dump: 1178 "2017-07-15T00:00:00Z" (FFD time, the wall clock as if UTC), 1179 "0".
    const midnight = Buffer.alloc(4);
    midnight.writeUInt32LE(Date.UTC(2017, 6, 15) / 1000);
    const expected = Buffer.concat([encodeTlv(1178, midnight), encodeTlv(1179, Buffer.from('0', 'latin1'))]);
    expect(tags.find((t) => t.tag === 1174)!.value).toEqual(expected);
  });

  it('writes 1173 = 1 for a correction by order, and no 1179 when no number is given', async () => {
    const byOrder = writtenTags(
      await sendOn(
        base('buyCorrection', {
          correction: { type: 'instruction', baseDate: '2026-03-01', baseNumber: '12-А' },
        }),
      ),
    );
    expect(byOrder.find((t) => t.tag === 1173)!.value).toEqual(Buffer.of(1));
    const self = writtenTags(
      await sendOn(base('sellCorrection', { correction: { type: 'self', baseDate: '2026-03-01' } })),
    );
    expect(decodeTlvList(self.find((t) => t.tag === 1174)!.value).map((t) => t.tag)).toEqual([1178]);
  });

  it('writes tag 1125 = 1 for a settlement on the internet, and nothing of it otherwise', async () => {
    const online = writtenTags(
      await sendOn(base('sell', { internet: true, clientInfo: { emailOrPhone: 'buyer@example.com' } })),
    );
    expect(online.find((t) => t.tag === 1125)?.value).toEqual(Buffer.of(1));
    expect(writtenTags(await sendOn(base('sell'))).some((t) => t.tag === 1125)).toBe(false);
  });

  it('refuses before a byte is sent: a correction without its basis, a basis on a plain receipt, an order without its number', async () => {
    await expect(
      new Kkt({ link: () => new ScriptedRegister({}) }).receipt(base('sellCorrection')),
    ).rejects.toMatchObject({
      field: 'correction.baseDate',
    });
    const kkt = new Kkt({ link: () => new ScriptedRegister({}) });
    await expect(kkt.receipt(base('sell', { correction }))).rejects.toMatchObject({ field: 'correction' });
    await expect(
      kkt.receipt(base('sellCorrection', { correction: { type: 'instruction', baseDate: '2026-03-01' } })),
    ).rejects.toMatchObject({ field: 'correction.baseNumber' });
  });

  it('sends an advance as 1214 = 3 with subject 10 (payment) and an offset prepayment as payment type 3', async () => {
    const commands = await sendOn(
      base('sell', {
        items: [{ ...item, paymentMethod: 'fullPayment', tax: { type: 'vat20' } }],
        payments: [{ type: 'prepaid', sumKop: 10050 }],
      }),
    );
    const close = commands.find((c) => c[0] === 0x4a)!;
    // 4A: flags, payment type, sum — the prepaid type (1215) is ATOL's 3.
    expect(close[2]).toBe(3);
    const advance = await sendOn(
      base('sell', {
        items: [{ ...item, paymentMethod: 'advance', paymentObject: 'payment', tax: { type: 'vat120' } }],
      }),
    );
    const eb = advance.find((c) => c[0] === 0xeb)!;
    expect(eb.length).toBeGreaterThan(31);
    // EB body after flags(1) price(7) quantity(5) amount(7) tax(1) taxSum(7) department(1):
    // payment object (1212, BCD: 10 is 0x10) then payment method (1214), docs/protocol/atol-v3.md §7.
    expect([eb[30], eb[31]]).toEqual([0x10, 0x03]);
  });
});

/**
 * TerminalClient's online ATOL driver (docs/protocol/atol-v3.md §17, "Payment types") closes a receipt with
 * `4A`, flags 00, its payment type byte and a zero sum; its online registers number the types 1 cash,
 * 2 card, 3 prepayment (АВАНС), 4 credit (КРЕДИТ), 5 other consideration (ВСТРЕЧНОЕ ПРЕДОСТАВЛЕНИЕ).
 */
const TC_CLOSE = {
  cash: '4a00010000000000',
  electronically: '4a00020000000000',
  prepaid: '4a00030000000000',
  credit: '4a00040000000000',
  other: '4a00050000000000',
} as const;

describe('payment types of 99/4A against a public driver', () => {
  it.each(Object.entries(TC_CLOSE))(
    'closes a receipt paid %s with the byte the public driver sends',
    (name, hex) => {
      const bytes = encodeRequest(closeReceipt, {
        flags: 0,
        paymentType: PAYMENT_TYPES[name as keyof typeof PAYMENT_TYPES],
        sumKop: 0,
      });
      expect(bytes.toString('hex')).toBe(hex);
    },
  );

  it('sends a credit sale and its cash part with types 4 and 1, an other-consideration payment with 5', async () => {
    const onCredit = base('sell', {
      items: [{ ...item, paymentMethod: 'partialPayment' }],
      payments: [
        { type: 'cash', sumKop: 50 },
        { type: 'credit', sumKop: 10_000 },
      ],
    });
    const commands = await sendOn(onCredit);
    expect(commands.find((c) => c[0] === 0x99)?.subarray(1, 3)).toEqual(Buffer.of(0x00, 0x01));
    expect(commands.find((c) => c[0] === 0x4a)?.subarray(1, 3)).toEqual(Buffer.of(0x00, 0x04));
    const other = await sendOn(base('sell', { payments: [{ type: 'other', sumKop: 10050 }] }));
    expect(other.find((c) => c[0] === 0x4a)?.subarray(1, 3)).toEqual(Buffer.of(0x00, 0x05));
  });
});
