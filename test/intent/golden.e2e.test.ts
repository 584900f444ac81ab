import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntentTerminal } from '../../src/drivers/intent/index.js';
import { type IntentEmulator, startIntentEmulator } from '../../src/emulators/intent/index.js';
import {
  SEED_NO_CASHIER_REQUEST,
  SEED_NO_CASHIER_RESPONSE,
  SEED_PRICE_LIMIT_REQUEST,
  SEED_PRICE_LIMIT_RESPONSE,
  SEED_SUCCESS_REQUEST,
} from './seedExamples.js';
import { rawPost } from './support.js';

let emulator: IntentEmulator;
let token: string;

beforeEach(async () => {
  emulator = await startIntentEmulator({ cardWaitMs: 0 });
  const auth = await rawPost(
    emulator.endpoint,
    { INTENT_OPERATION_TYPE: 'AUTH', 'Content-Type': 'application/json' },
    JSON.stringify({ pin: '1234', rememberPin: true, returnToken: true }),
  );
  token = (auth.json as { token: string }).token;
});

afterEach(async () => {
  await emulator.close();
});

const sale = (body: string) =>
  rawPost(
    emulator.endpoint,
    { INTENT_OPERATION_TYPE: 'SALE', 'Auth-token': token, 'Content-Type': 'application/json' },
    body,
  );

describe("the vendor's SALE examples against the emulator", () => {
  it('accepts the success example and answers a BaseResponse of the documented shape', async () => {
    const answer = await sale(SEED_SUCCESS_REQUEST);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      resultCode: 200,
      type: 'SALE',
      messageTitle: 'Успех',
      messageDetail: 'Успешная оплата',
      numberCheck: '1',
      registerNumberSKO: expect.any(String),
      rrn: '',
      isPrintSuccess: true,
      payments: [{ type: 'Cash', sum: '15' }],
    });
    const body = answer.json as Record<string, unknown>;
    expect(body['uid']).toMatch(/^[0-9A-F]{24}$/);
    expect(body['dateTime']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+03:00$/);
    expect(typeof body['total']).toBe('string');
    expect(typeof body['change']).toBe('string');
    expect(emulator.sales).toHaveLength(1);
    expect(emulator.sales[0]?.operationId).toBe('123');
  });

  it('answers the example without a cashier exactly as documented (435)', async () => {
    const answer = await sale(SEED_NO_CASHIER_REQUEST);
    expect(answer.json).toStrictEqual(JSON.parse(SEED_NO_CASHIER_RESPONSE));
    expect(emulator.sales).toHaveLength(0);
  });

  it('answers the example over the limit exactly as documented (414)', async () => {
    const answer = await sale(SEED_PRICE_LIMIT_REQUEST);
    expect(answer.json).toStrictEqual(JSON.parse(SEED_PRICE_LIMIT_RESPONSE));
    expect(emulator.sales).toHaveLength(0);
  });

  it('accepts any case in the header value but only the upper-case header key', async () => {
    const lowerValue = await rawPost(
      emulator.endpoint,
      { INTENT_OPERATION_TYPE: 'sale', 'Auth-token': token },
      SEED_SUCCESS_REQUEST,
    );
    expect((lowerValue.json as { resultCode: number }).resultCode).toBe(200);
    const lowerKey = await rawPost(
      emulator.endpoint,
      { intent_operation_type: 'SALE', 'Auth-token': token },
      SEED_SUCCESS_REQUEST,
    );
    expect(lowerKey.json).toMatchObject({ resultCode: 399, messageTitle: 'Ошибка' });
    expect(emulator.sales).toHaveLength(1);
  });

  it("gives the vendor's 7.97 and 7.03 when the driver sells the example's plain items", async () => {
    const terminal = new IntentTerminal({ baseUrl: emulator.url, pin: '1234', saleTimeoutMs: 5_000 });
    const result = await terminal.sale(
      {
        cashier: 'Кассир',
        itemList: [
          { nameTitle: 'Товар 1', codeNumber: '1', typeCode: '0', priceMinor: 400, quantityMilli: 1000 },
          {
            nameTitle: 'Товар 2',
            codeNumber: '10',
            typeCode: '0',
            priceMinor: 100,
            quantityMilli: 9_999_990,
            discount: { kind: 'amount', amountMinor: 999_998 },
          },
          {
            codeNumber: '20',
            priceMinor: 400,
            quantityMilli: 1000,
            discount: { kind: 'percent', basisPoints: 100 },
          },
        ],
        cashMinor: 1500,
        cashlessMinor: 0,
        certificateMinor: 0,
      },
      { operationId: 'golden-1' },
    );
    expect(result).toMatchObject({
      totalMinor: 797,
      changeMinor: 703,
      payments: [{ type: 'Cash', sumMinor: 1500 }],
    });
  });
});
