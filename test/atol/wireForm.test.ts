import { describe, expect, it } from 'vitest';
import { Kkt } from '../../src/drivers/atol/kkt.js';
import { decodeTlvList } from '../../src/drivers/atol/protocol/tlv.js';
import type { ReceiptInput } from '../../src/drivers/atol/receipt.js';
import { scriptedIdentity, ZZ_SELECT_ANSWER, ZZ_TLV_ANSWERS } from '../support/fixtures/zzzzipperReceipt.js';
import { ScriptedRegister } from '../support/scriptedRegister.js';

/**
 * What the driver puts on the wire for a receipt, checked byte by byte against the layouts of the
 * independent implementations (docs/protocol/atol-v3.md §6–§9), on a register that answers every
 * command with `55 00` and reads back a real register's FD.
 */

async function sellOn(
  ffd: 2 | 4,
  receipt: Omit<ReceiptInput, 'type'>,
  type: 'sell' | 'sellReturn' = 'sell',
  taxBytes?: Record<string, number>,
) {
  const register = new ScriptedRegister(
    {
      ...scriptedIdentity(ffd),
      // 45: mode 0, printer fine.
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
    ...(taxBytes ? { taxBytes } : {}),
  });
  await kkt.connect();
  const sent = register.commands.length;
  const outcome = await (type === 'sell' ? kkt.sell(receipt) : kkt.sellReturn(receipt)).then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  await kkt.close();
  const commands = register.commands.slice(sent).map((hex) => Buffer.from(hex, 'hex'));
  return { outcome, commands, positions: commands.filter((c) => c[0] === 0xeb) };
}

/** The TLVs written with E8 (flags, blocks, block number, then one TLV). */
const writtenTags = (commands: Buffer[]) =>
  commands.filter((c) => c[0] === 0xe8).map((c) => decodeTlvList(c.subarray(4))[0]!);

const position = (tax: string, department = 1) => ({
  type: 'position' as const,
  name: 'Товар',
  priceKop: 2500,
  quantityMilli: 1000,
  amountKop: 2500,
  tax: { type: tax as 'vat20' },
  department,
});

const receipt = (items = [position('vat20')], extra: Partial<Omit<ReceiptInput, 'type'>> = {}) => ({
  items,
  payments: [{ type: 'cash' as const, sumKop: items.length * 2500 }],
  ...extra,
});

describe('the receipt on the wire', () => {
  it('sends the tax bytes production code sends: 1 for 20 %, 2 for 10 %, 3 for 20/120, 4 for 10/110, 5 for 0 %, 6 for none', async () => {
    const rates = ['vat20', 'vat10', 'vat120', 'vat110', 'vat0', 'none'];
    const { positions, outcome } = await sellOn(4, receipt(rates.map((rate) => position(rate))));
    // EB: flags(1) price(7) quantity(5) amount(7) → the tax byte is at offset 21 of the body.
    expect(positions.map((eb) => eb[21])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(outcome).toHaveProperty('result');
  });

  it('refuses a rate whose byte no source shows, before anything is sent; configuration supplies it', async () => {
    const refused = await sellOn(4, receipt([position('vat22')]));
    expect(refused.outcome).toMatchObject({ error: { code: 'KKT_TAX_RATE_UNKNOWN', outcome: 'not-sent' } });
    expect(refused.commands).toEqual([]);
    const configured = await sellOn(4, receipt([position('vat22')]), 'sell', { vat22: 13 });
    expect(configured.positions.map((eb) => eb[21])).toEqual([13]);
  });

  it('writes the section as one BCD byte, as Crystals and Zzzzipper do', async () => {
    const sell = await sellOn(4, receipt([position('vat20', 12)]));
    expect(sell.positions[0]![29]).toBe(0x12);
  });

  it('sets EB flag 0x02 (no drawer check) on return positions only, as Crystals does', async () => {
    const sell = await sellOn(4, receipt([position('vat20', 12)]));
    expect(sell.positions[0]![1]).toBe(0x00);
    const refund = await sellOn(4, receipt([position('vat20', 12)]), 'sellReturn');
    expect(refund.commands.find((c) => c[0] === 0x92)).toEqual(Buffer.of(0x92, 0x00, 0x02));
    expect(refund.positions[0]![1]).toBe(0x02);
  });

  it('pads an INN in E8 with spaces to 12 characters (TerminalClient, Crystals)', async () => {
    const { commands } = await sellOn(
      4,
      receipt([position('vat20')], { operator: { name: 'Кассир', vatin: '7707083893' } }),
    );
    const inn = writtenTags(commands).find((t) => t.tag === 1203)!;
    expect(inn.value.toString('latin1')).toBe('7707083893  ');
  });

  it('writes 2108 and the buyer as STLV 1256 on an FFD 1.2 register', async () => {
    const { commands } = await sellOn(
      4,
      receipt([position('vat20')], { clientInfo: { name: 'ООО Покупатель', vatin: '7707083893' } }),
    );
    const tags = writtenTags(commands);
    expect(tags.map((t) => t.tag)).toContain(2108);
    const buyer = tags.find((t) => t.tag === 1256)!;
    const nested = decodeTlvList(buyer.value);
    expect(nested.map((t) => t.tag)).toEqual([1227, 1228]);
    expect(nested[1]!.value.toString('latin1')).toBe('7707083893  ');
    expect(tags.map((t) => t.tag)).not.toContain(1227);
  });

  it('writes no FFD 1.2 tag on an FFD 1.05 register: no 2108, the buyer as 1227 and 1228', async () => {
    const { commands, outcome } = await sellOn(
      2,
      receipt([position('vat20')], { clientInfo: { name: 'ООО Покупатель', vatin: '7707083893' } }),
    );
    const tags = writtenTags(commands).map((t) => t.tag);
    expect(tags).not.toContain(2108);
    expect(tags).not.toContain(1256);
    expect(tags).toEqual(expect.arrayContaining([1227, 1228]));
    expect(outcome).toHaveProperty('result');
  });
});
