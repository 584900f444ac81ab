import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IntentResultError, IntentTerminal, IntentUnreachableError } from '../../src/drivers/intent/index.js';
import { type IntentEmulator, startIntentEmulator } from '../../src/emulators/intent/index.js';
import { cashSale } from './support.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function emulatorWith(
  options: Parameters<typeof startIntentEmulator>[0] = {},
): Promise<IntentEmulator> {
  const emulator = await startIntentEmulator({ cardWaitMs: 0, ...options });
  cleanups.push(() => emulator.close());
  return emulator;
}

const terminalFor = (
  emulator: IntentEmulator,
  extra: Partial<ConstructorParameters<typeof IntentTerminal>[0]> = {},
) =>
  new IntentTerminal({
    baseUrl: emulator.url,
    pin: '1234',
    saleTimeoutMs: 5_000,
    authTimeoutMs: 5_000,
    ...extra,
  });

async function refusalOf(promise: Promise<unknown>): Promise<IntentResultError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(IntentResultError);
  return error as IntentResultError;
}

describe('IntentTerminal against the emulator', () => {
  it('sells for cash and returns the receipt data in integers', async () => {
    const emulator = await emulatorWith();
    const terminal = terminalFor(emulator);
    const result = await terminal.sale(cashSale(), { operationId: 'job-1' });
    expect(result).toMatchObject({
      operationId: 'job-1',
      numberCheck: '1',
      totalMinor: 948,
      changeMinor: 52,
      payments: [{ type: 'Cash', sumMinor: 1000 }],
      isPrintSuccess: true,
      rrn: undefined,
    });
    expect(result.uid).toMatch(/^[0-9A-F]{24}$/);
    expect(result.dateTime).toMatch(/\+03:00$/);
    expect(emulator.sales).toHaveLength(1);
    expect(emulator.sales[0]).toMatchObject({ operationId: 'job-1', cashier: 'Иванова', totalMinor: 948 });
  });

  it('waits for the card on a cashless sale and reports the RRN', async () => {
    const emulator = await emulatorWith({ cardWaitMs: 30 });
    const result = await terminalFor(emulator).sale(cashSale({ cashMinor: 0, cashlessMinor: 948 }), {
      operationId: 'card-1',
    });
    expect(result.payments).toStrictEqual([{ type: 'Cashless', sumMinor: 948 }]);
    expect(result.changeMinor).toBe(0);
    expect(result.rrn).toMatch(/^\d{12}$/);
  });

  it('numbers receipts in order and gives the same register the same uids', async () => {
    const first = await emulatorWith();
    const second = await emulatorWith();
    const a = terminalFor(first);
    const b = terminalFor(second);
    const [a1, a2] = [
      await a.sale(cashSale(), { operationId: 'a1' }),
      await a.sale(cashSale(), { operationId: 'a2' }),
    ];
    const b1 = await b.sale(cashSale(), { operationId: 'b1' });
    expect([a1.numberCheck, a2.numberCheck]).toEqual(['1', '2']);
    expect(a1.uid).not.toBe(a2.uid);
    expect(b1.uid).toBe(a1.uid);
  });

  it('runs concurrent calls one at a time, each sold once', async () => {
    const emulator = await emulatorWith({ cardWaitMs: 20 });
    const terminal = terminalFor(emulator);
    const sales = await Promise.all(
      ['c1', 'c2', 'c3'].map((operationId) =>
        terminal.sale(cashSale({ cashMinor: 0, cashlessMinor: 948 }), { operationId }),
      ),
    );
    expect(sales.map((sale) => sale.numberCheck).sort()).toEqual(['1', '2', '3']);
    expect(emulator.sales.map((sale) => sale.operationId).sort()).toEqual(['c1', 'c2', 'c3']);
  });

  it('reports a closed shift (400) and sells again once it is open', async () => {
    const emulator = await emulatorWith({ shiftOpen: false });
    const terminal = terminalFor(emulator);
    const error = await refusalOf(terminal.sale(cashSale(), { operationId: 'shift-1' }));
    expect(error).toMatchObject({ code: 'INTENT_SHIFT_NOT_OPEN', resultCode: 400, outcome: 'refused' });
    expect(error.terminalMessage).toBe('Необходимо открыть смену');
    emulator.openShift();
    await expect(terminal.sale(cashSale(), { operationId: 'shift-2' })).resolves.toMatchObject({
      numberCheck: '1',
    });
  });

  it('refuses while a sale is unfinished (410) until a person finishes it on the terminal', async () => {
    const emulator = await emulatorWith({ cardWaitMs: 0 });
    const terminal = terminalFor(emulator);
    emulator.setFault({ kind: 'fiscalisationFails' });
    const failed = await refusalOf(
      terminal.sale(cashSale({ cashMinor: 0, cashlessMinor: 948 }), { operationId: 'u-1' }),
    );
    expect(failed.code).toBe('INTENT_GENERAL_ERROR');
    expect(emulator.hasUnfinishedSale).toBe(true);

    const blocked = await refusalOf(terminal.sale(cashSale(), { operationId: 'u-2' }));
    expect(blocked.code).toBe('INTENT_UNFINISHED_SALE');
    expect(blocked.message).toMatch(/must finish or cancel it on the terminal/);
    expect(emulator.sales).toHaveLength(0);

    const finished = emulator.finishUnfinishedSale();
    expect(finished).toMatchObject({ operationId: 'u-1', cashlessMinor: 948 });
    await expect(terminal.sale(cashSale(), { operationId: 'u-3' })).resolves.toMatchObject({
      numberCheck: '2',
    });
  });

  it('passes the terminal refusals that sale data can cause', async () => {
    const emulator = await emulatorWith();
    const terminal = terminalFor(emulator);
    const tooLarge = await refusalOf(
      terminal.sale(
        cashSale({ itemList: [{ codeNumber: '9', priceMinor: 9_999_999_900, quantityMilli: 9_999_990 }] }),
        {
          operationId: 'big',
        },
      ),
    );
    expect(tooLarge.code).toBe('INTENT_SUM_TOO_LARGE');
    const zero = await refusalOf(
      terminal.sale(cashSale({ itemList: [{ codeNumber: '0', priceMinor: 0, quantityMilli: 1000 }] }), {
        operationId: 'zero',
      }),
    );
    expect(zero.code).toBe('INTENT_SUM_TOO_SMALL');
    const negative = await refusalOf(
      terminal.sale(
        cashSale({
          itemList: [
            {
              codeNumber: '1',
              priceMinor: 100,
              quantityMilli: 1000,
              discount: { kind: 'amount', amountMinor: 200 },
            },
          ],
        }),
        { operationId: 'neg' },
      ),
    );
    expect(negative.code).toBe('INTENT_NEGATIVE_TOTAL');
    expect(emulator.sales).toHaveLength(0);
  });

  it('describes itself for the state document without secrets', async () => {
    const emulator = await emulatorWith();
    const terminal = terminalFor(emulator, { pin: '98765' });
    expect(terminal.describe()).toMatchObject({
      endpoint: emulator.endpoint,
      hasToken: false,
      busy: false,
      lastSale: undefined,
    });
    const wrongPin = await terminal
      .sale(cashSale(), { operationId: 'd-0' })
      .catch((caught: unknown) => caught);
    expect(wrongPin).toMatchObject({ code: 'INTENT_AUTH_FAILED', outcome: 'not-sent' });
    const good = terminalFor(emulator);
    await good.sale(cashSale(), { operationId: 'd-1' });
    const status = good.describe();
    expect(status).toMatchObject({
      driver: 'smartx-intent',
      addressSource: 'configured',
      authConfigured: true,
      hasToken: true,
      lastSale: { operationId: 'd-1', numberCheck: '1', totalMinor: 948 },
      lastError: undefined,
      saleTimeoutMs: 5_000,
    });
    const text = JSON.stringify(status);
    expect(text).not.toContain('1234');
    expect(terminal.describe().lastError).toMatchObject({
      code: 'INTENT_AUTH_FAILED',
      outcome: 'not-sent',
    });
    expect(JSON.stringify(terminal.describe())).not.toContain('98765');
  });

  it('keeps receipt numbers across an emulator restart with a state file', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'kkt-intent-'));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));
    const stateFile = path.join(directory, 'smartx.json');
    const first = await startIntentEmulator({ cardWaitMs: 0, stateFile });
    await terminalFor(first).sale(cashSale(), { operationId: 's-1' });
    await first.close();
    const second = await emulatorWith({ stateFile });
    const result = await terminalFor(second).sale(cashSale(), { operationId: 's-2' });
    expect(result.numberCheck).toBe('2');
    expect(second.sales.map((sale) => sale.operationId)).toEqual(['s-1', 's-2']);
  });
});

describe('discovery end to end', () => {
  it('finds the emulator by SSDP and forgets the address once it stops answering', async () => {
    const emulator = await startIntentEmulator({ cardWaitMs: 0, ssdp: true });
    const terminal = new IntentTerminal({
      discover: { address: '127.0.0.1', port: emulator.ssdpPort, timeoutMs: 5_000 },
      pin: '1234',
      saleTimeoutMs: 5_000,
    });
    expect(terminal.describe()).toMatchObject({ endpoint: undefined, addressSource: 'discovery' });
    await terminal.sale(cashSale(), { operationId: 'ssdp-1' });
    expect(terminal.describe().endpoint).toBe(emulator.endpoint);
    await emulator.close();

    const error = await terminal
      .sale(cashSale(), { operationId: 'ssdp-2' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IntentUnreachableError);
    expect(terminal.describe().endpoint).toBeUndefined();
  });
});
