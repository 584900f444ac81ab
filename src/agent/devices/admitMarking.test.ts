import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { TcpLink } from '../../drivers/atol/transport/tcpLink.js';
import { GS } from '../../lib/markingCode.js';
import { type Bill, buildBill, buildPosition } from '../domain/bill.js';
import { AtolDevice } from './atol/atolDevice.js';
import { AtolWebDevice } from './atolWeb/atolWebDevice.js';
import { MarkingUnsupportedError } from './device.js';
import { IntentDevice } from './intent/intentDevice.js';
import { NonfiscalDevice } from './nonfiscal/nonfiscalDevice.js';

/**
 * Which device may sell what a bill carries (docs/marking.md, "Which device supports what"), asked at intake
 * before a job exists. Nothing connects: `admit` looks at the bill only.
 */

const logger = pino({ level: 'silent' });
const CODE = `0104680029460908215jcmHzLmkdPML${GS}938p9E`;

function bill(marks: 'ru' | 'by'): Bill {
  return buildBill({
    source: 'mqtt',
    account: 'shop',
    billId: 'm1',
    number: '1',
    currency: marks === 'ru' ? 'RUB' : 'BYN',
    positions: [
      buildPosition({ name: 'Хлеб', priceMinor: 5_000, quantityMilli: 1000, vat: 'none' }),
      buildPosition({
        name: 'Сыр',
        priceMinor: 50_000,
        quantityMilli: 1000,
        vat: 'none',
        ...(marks === 'ru'
          ? { marking: { code: CODE } }
          : { identificationMarks: [{ kind: 'ukz' as const, value: '2321987121CAC' }] }),
      }),
    ],
    payments: 'cash',
  });
}

const atol = new AtolDevice({
  id: 'kkt',
  link: () => new TcpLink({ host: '127.0.0.1', port: 1 }),
  timeZone: 'Europe/Moscow',
  receiptDefaults: { operator: { name: 'Кассир' } },
  logger,
});
const atolWeb = new AtolWebDevice({
  id: 'web',
  server: { url: 'http://127.0.0.1:1', reconnect: { enabled: false } },
  timeZone: 'Europe/Moscow',
  receiptDefaults: { operator: { name: 'Кассир' } },
  logger,
});
const intent = new IntentDevice({
  id: 'smartx',
  baseUrl: 'http://127.0.0.1:1',
  cashier: 'Кассир',
  printCheque: true,
  saleTimeoutMs: 1000,
  authTimeoutMs: 1000,
  discoveryTimeoutMs: 1000,
  timeZone: 'Europe/Minsk',
  logger,
});
const slips = new NonfiscalDevice({ id: 'np', directory: '/nonexistent', timeZone: 'Europe/Moscow', logger });

describe('marked goods at intake: which device may take them', () => {
  it('lets driver 10 take Russian codes and the SmartX terminal Belarusian marks', () => {
    expect(atolWeb.admit(bill('ru'))).toBeUndefined();
    expect(intent.admit(bill('by'))).toBeUndefined();
  });

  it('refuses Russian codes on protocol v3, naming the position and pointing to driver 10', () => {
    const refusal = atol.admit(bill('ru'));
    expect(refusal).toBeInstanceOf(MarkingUnsupportedError);
    expect(refusal).toMatchObject({ code: 'DEVICE_MARKING_UNSUPPORTED', field: 'positions[1].marking' });
    expect(refusal?.message).toMatch(/ATOL protocol v3.*"atol-web"/);
  });

  it('refuses the other way round, and both on a non-fiscal slip printer', () => {
    expect(intent.admit(bill('ru'))).toMatchObject({ field: 'positions[1].marking' });
    expect(atolWeb.admit(bill('by'))).toMatchObject({ field: 'positions[1].identificationMarks' });
    expect(atol.admit(bill('by'))).toMatchObject({ field: 'positions[1].identificationMarks' });
    expect(slips.admit(bill('ru'))).toMatchObject({ code: 'DEVICE_MARKING_UNSUPPORTED' });
    expect(slips.admit(bill('by'))).toMatchObject({ code: 'DEVICE_MARKING_UNSUPPORTED' });
  });
});
