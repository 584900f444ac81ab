import { describe, expect, it } from 'vitest';
import {
  beginPosition,
  encodeRequest,
  enterMode,
  fnStatus,
  openReceipt,
  openShift,
  registerPosition,
  Tag,
  writeTag,
} from '../../drivers/atol/commands/index.js';
import { encodeCp866 } from '../../drivers/atol/protocol/cp866.js';
import { decodeTlvList, findTlv, tlvText } from '../../drivers/atol/protocol/tlv.js';
import { AtolDevice } from './device.js';
import { resolveModel } from './models.js';
import type { RegisterIdentity } from './state.js';

const model = resolveModel(undefined);
const identity: RegisterIdentity = {
  modelCode: model.code,
  modelName: model.name,
  lineWidth: model.lineWidth,
  serial: '00106100000001',
  fnSerial: '7281440500001234',
  registrationNumber: '0001234567012345',
  inn: '500100732259',
  taxationSystems: 2,
  firmware: { major: 5, minor: 8, build: 1 },
  fnVersion: 'test',
  organizationName: 'ООО "ТЕСТ"',
  address: '',
  registeredAtMs: Date.UTC(2026, 0, 1),
  fnValidUntil: { year: 2029, month: 1, day: 1 },
};

function device() {
  return new AtolDevice({
    identity,
    clock: { now: () => Date.UTC(2026, 1, 1, 10, 0, 0) },
    timeZone: 'Europe/Moscow',
    zReportStepMs: 1,
    xReportMs: 1,
    printoutHistory: 3,
  });
}

const position = {
  flags: 0,
  priceKop: 10_000,
  quantityMilli: 1_000,
  amountKop: 10_000,
  taxCode: 1,
  taxSumKop: 0,
  department: 1,
  paymentObject: 1,
  paymentMethod: 4,
  discountSign: 0,
  discountKop: 1_500,
  name: 'Товар',
};

describe('AtolDevice', () => {
  it('answers a packet too short for its command with 14 and changes nothing', () => {
    const d = device();
    d.execute(encodeRequest(enterMode, { mode: 1, password: 30 }));
    const execution = d.execute(Buffer.of(0xeb, 0x00, 0x00));
    expect(execution.answer).toEqual(Buffer.of(0x55, 0x14));
    expect(execution.stateJson).toBeUndefined();
  });

  it('reports state changes only for commands that change it', () => {
    const d = device();
    expect(d.execute(encodeRequest(fnStatus, undefined)).stateJson).toBeUndefined();
    const entered = d.execute(encodeRequest(enterMode, { mode: 1, password: 7 }));
    expect(JSON.parse(entered.stateJson!).cashierNumber).toBe(7);
  });

  it('keeps tags written outside a receipt for the next shift document; a rewrite replaces the first', () => {
    const d = device();
    d.execute(encodeRequest(enterMode, { mode: 1, password: 30 }));
    const cashier = (name: string) => ({ flags: 1, tlv: { tag: Tag.cashierName, value: encodeCp866(name) } });
    expect(d.execute(encodeRequest(writeTag, cashier('Первый'))).failed).toBe(false);
    expect(d.execute(encodeRequest(writeTag, cashier('Второй'))).failed).toBe(false);
    const opened = d.execute(encodeRequest(openShift, { flags: 0 }));
    expect(opened.documents).toHaveLength(1);
    const tlvs = decodeTlvList(Buffer.from(opened.documents[0]!.document.tlvHex, 'hex'));
    expect(tlvText(findTlv(tlvs, 1021))).toBe('Второй');
    expect(d.state.pendingTags).toEqual([]);
  });

  it('applies a discount to the position total and refuses one larger than the amount', () => {
    const d = device();
    d.execute(encodeRequest(enterMode, { mode: 1, password: 30 }));
    d.execute(encodeRequest(openReceipt, { flags: 0, receiptType: 1 }));
    d.execute(encodeRequest(beginPosition, undefined));
    expect(d.execute(encodeRequest(registerPosition, { ...position, discountKop: 10_001 })).answer).toEqual(
      Buffer.of(0x55, 0x08),
    );
    expect(d.execute(encodeRequest(registerPosition, position)).failed).toBe(false);
    expect(d.state.receipt!.positions[0]).toMatchObject({
      amountKop: 10_000,
      totalKop: 8_500,
      taxSumKop: 1_417,
    });
  });

  it('keeps only the last printouts', () => {
    const d = device();
    d.execute(encodeRequest(enterMode, { mode: 1, password: 30 }));
    for (let i = 0; i < 5; i++) {
      d.execute(encodeRequest(openReceipt, { flags: 0, receiptType: 1 }));
      d.execute(Buffer.of(0x4a, 0, 1, 0, 0, 0, 0, 0));
    }
    expect(d.state.lastDocumentNumber).toBe(6);
    expect(d.printouts.map((p) => p.documentNumber)).toEqual([4, 5, 6]);
  });
});
