import { afterEach, describe, expect, it } from 'vitest';
import { IntentAuthFailedError, IntentResultError, IntentTerminal } from '../../src/drivers/intent/index.js';
import { type IntentEmulator, startIntentEmulator } from '../../src/emulators/intent/index.js';
import { AUTH_OK, cashSale, SALE_OK, startStubTerminal } from './support.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function emulator(options: Parameters<typeof startIntentEmulator>[0] = {}): Promise<IntentEmulator> {
  const started = await startIntentEmulator({ cardWaitMs: 0, ...options });
  cleanups.push(() => started.close());
  return started;
}

/** `pin: null` configures no PIN at all. */
const terminalFor = (target: { url: string }, pin: string | null = '1234') =>
  new IntentTerminal({
    baseUrl: target.url,
    pin: pin ?? undefined,
    saleTimeoutMs: 5_000,
    authTimeoutMs: 5_000,
  });

const trail = (target: IntentEmulator) =>
  target.requests.map((request) => `${request.intent} ${request.outcome}`);

describe('authorization', () => {
  it('authenticates before the first sale and reuses the token', async () => {
    const target = await emulator();
    const terminal = terminalFor(target);
    await terminal.sale(cashSale(), { operationId: 'a-1' });
    await terminal.sale(cashSale(), { operationId: 'a-2' });
    expect(trail(target)).toEqual(['AUTH 200', 'SALE 200', 'SALE 200']);
  });

  it('authenticates again once when the token has expired, then sells once', async () => {
    const target = await emulator();
    const terminal = terminalFor(target);
    await terminal.sale(cashSale(), { operationId: 'e-1' });
    target.expireTokens();
    const result = await terminal.sale(cashSale(), { operationId: 'e-2' });
    expect(result.numberCheck).toBe('2');
    expect(trail(target)).toEqual(['AUTH 200', 'SALE 200', 'SALE 405', 'AUTH 200', 'SALE 200']);
    expect(target.sales.map((sale) => sale.operationId)).toEqual(['e-1', 'e-2']);
  });

  it('re-authenticates after an HTTP 401 as well', async () => {
    const stub = await startStubTerminal((call, index) => {
      if (call.intent === 'AUTH') return { status: 200, body: AUTH_OK };
      return index === 1 ? { status: 401, body: '' } : { status: 200, body: SALE_OK };
    });
    cleanups.push(() => stub.close());
    const result = await terminalFor(stub).sale(cashSale(), { operationId: 'h-1' });
    expect(result.numberCheck).toBe('77');
    expect(stub.calls.map((call) => call.intent)).toEqual(['AUTH', 'SALE', 'AUTH', 'SALE']);
    expect(stub.calls[3]?.token).toBe('stub-token');
  });

  it('stops with a typed error when re-authentication fails, without looping', async () => {
    const target = await emulator();
    const terminal = terminalFor(target);
    await terminal.sale(cashSale(), { operationId: 'f-1' });
    target.expireTokens();
    target.setFault({ kind: 'refuseAuth', times: 10 });
    const error = await terminal.sale(cashSale(), { operationId: 'f-2' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IntentAuthFailedError);
    expect(error).toMatchObject({ code: 'INTENT_AUTH_FAILED', outcome: 'not-sent', resultCode: 401 });
    expect(trail(target)).toEqual(['AUTH 200', 'SALE 200', 'SALE 405', 'AUTH 401']);
    expect(target.sales).toHaveLength(1);
  });

  it('gives up after one re-authentication when the terminal keeps rejecting the token', async () => {
    const target = await emulator();
    target.setFault({ kind: 'rejectToken', times: 10 });
    const error = await terminalFor(target)
      .sale(cashSale(), { operationId: 'r-1' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IntentResultError);
    expect(error).toMatchObject({ code: 'INTENT_TOKEN_REJECTED', resultCode: 405, outcome: 'refused' });
    expect(trail(target)).toEqual(['AUTH 200', 'SALE 405', 'AUTH 200', 'SALE 405']);
    expect(target.sales).toHaveLength(0);
  });

  it('sends no sale when the PIN is wrong', async () => {
    const target = await emulator({ pin: '4321' });
    const error = await terminalFor(target)
      .sale(cashSale(), { operationId: 'p-1' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IntentAuthFailedError);
    expect(trail(target)).toEqual(['AUTH 401']);
  });

  it('reports authorization required when no PIN is configured and the terminal wants one', async () => {
    const target = await emulator();
    const error = await terminalFor(target, null)
      .sale(cashSale(), { operationId: 'n-1' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IntentResultError);
    expect(error).toMatchObject({ code: 'INTENT_AUTH_REQUIRED', resultCode: 401 });
    expect(trail(target)).toEqual(['SALE 401']);
  });

  it('sells without AUTH when the terminal does not ask for a token', async () => {
    const target = await emulator({ requireToken: false });
    await terminalFor(target, null).sale(cashSale(), { operationId: 'o-1' });
    expect(trail(target)).toEqual(['SALE 200']);
  });

  it('auth() authenticates on demand and never sends the token back in AUTH', async () => {
    const stub = await startStubTerminal(() => ({ status: 200, body: AUTH_OK }));
    cleanups.push(() => stub.close());
    const terminal = terminalFor(stub);
    await terminal.auth();
    await terminal.auth();
    expect(stub.calls.map((call) => [call.intent, call.token])).toEqual([
      ['AUTH', undefined],
      ['AUTH', undefined],
    ]);
    expect(JSON.parse(stub.calls[0]?.body ?? '')).toStrictEqual({
      pin: '1234',
      rememberPin: true,
      returnToken: true,
    });
    expect(terminal.describe().hasToken).toBe(true);
    await expect(terminalFor(stub, null).auth()).rejects.toBeInstanceOf(IntentAuthFailedError);
  });
});
