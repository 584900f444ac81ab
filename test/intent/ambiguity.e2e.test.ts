import { afterEach, describe, expect, it } from 'vitest';
import {
  IntentNoAnswerError,
  IntentOutcomeUnknownError,
  IntentTerminal,
  IntentUnreachableError,
} from '../../src/drivers/intent/index.js';
import {
  type IntentEmulator,
  type IntentFault,
  startIntentEmulator,
} from '../../src/emulators/intent/index.js';
import { AUTH_OK, cashSale, closedPort, startStubTerminal } from './support.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function emulator(): Promise<IntentEmulator> {
  const started = await startIntentEmulator({ cardWaitMs: 0 });
  cleanups.push(() => started.close());
  return started;
}

const terminalFor = (baseUrl: string, saleTimeoutMs = 5_000) =>
  new IntentTerminal({ baseUrl, pin: '1234', saleTimeoutMs, authTimeoutMs: 2_000, connectTimeoutMs: 2_000 });

const saleRequests = (target: IntentEmulator) =>
  target.requests.filter((request) => request.intent === 'SALE');

describe('a SALE that may have happened is never sent again', () => {
  it.each<[string, IntentFault, string, number]>([
    ['the connection drops after the sale', { kind: 'dropAfterSale' }, 'connectionLost', 1],
    ['the answer is slower than the timeout', { kind: 'slowAnswer', delayMs: 60_000 }, 'timeout', 1],
    ['the terminal answers HTTP 500 after selling', { kind: 'httpError', status: 500 }, 'httpStatus', 1],
    ['the answer is not JSON', { kind: 'garbledAnswer' }, 'malformedAnswer', 1],
    // From the outside this looks the same as a drop after the sale, so it must be treated the same way.
    ['the connection drops before the sale', { kind: 'dropBeforeSale' }, 'connectionLost', 0],
  ])('when %s', async (_label, fault, reason, salesOnTerminal) => {
    const target = await emulator();
    const terminal = terminalFor(target.url, 300);
    target.setFault(fault);

    const error = await terminal
      .sale(cashSale(), { operationId: 'amb-1' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IntentOutcomeUnknownError);
    expect(error).toMatchObject({
      code: 'INTENT_OUTCOME_UNKNOWN',
      outcome: 'unknown',
      reason,
      operationId: 'amb-1',
      intent: 'SALE',
    });
    expect(target.sales).toHaveLength(salesOnTerminal);
    expect(saleRequests(target)).toHaveLength(1);
    expect(terminal.describe().lastError).toMatchObject({
      code: 'INTENT_OUTCOME_UNKNOWN',
      outcome: 'unknown',
    });

    // The next, different sale goes through normally and is the only other one.
    await terminal.sale(cashSale(), { operationId: 'amb-2' });
    expect(target.sales.filter((sale) => sale.operationId === 'amb-1')).toHaveLength(salesOnTerminal);
    expect(saleRequests(target)).toHaveLength(2);
  });

  it('treats resultCode 200 without receipt data as an unknown outcome', async () => {
    const stub = await startStubTerminal((call) =>
      call.intent === 'AUTH'
        ? { status: 200, body: AUTH_OK }
        : { status: 200, body: JSON.stringify({ resultCode: 200, type: 'SALE', total: '9.48' }) },
    );
    cleanups.push(() => stub.close());
    const error = await terminalFor(stub.url)
      .sale(cashSale(), { operationId: 'inc-1' })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'INTENT_OUTCOME_UNKNOWN', reason: 'incompleteSuccess' });
    expect(stub.calls.filter((call) => call.intent === 'SALE')).toHaveLength(1);
  });

  it('treats an unreadable answer on any HTTP status as an unknown outcome', async () => {
    const stub = await startStubTerminal((call) =>
      call.intent === 'AUTH'
        ? { status: 200, body: AUTH_OK }
        : { status: 404, body: '<html>Not Found</html>' },
    );
    cleanups.push(() => stub.close());
    const error = await terminalFor(stub.url)
      .sale(cashSale(), { operationId: 'nf-1' })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'INTENT_OUTCOME_UNKNOWN',
      reason: 'malformedAnswer',
      outcome: 'unknown',
    });
  });
});

describe('a SALE that provably never left', () => {
  it('reports a refused connection with outcome not-sent', async () => {
    const port = await closedPort();
    const terminal = new IntentTerminal({ baseUrl: `http://127.0.0.1:${port}`, saleTimeoutMs: 5_000 });
    const error = await terminal
      .sale(cashSale(), { operationId: 'ref-1' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IntentUnreachableError);
    expect(error).toMatchObject({ code: 'INTENT_UNREACHABLE', outcome: 'not-sent' });
    expect((error as Error).message).toContain('ECONNREFUSED');
  });

  it('reports an unresolvable host name with outcome not-sent', async () => {
    const terminal = new IntentTerminal({
      baseUrl: 'http://kkt-agent-no-such-terminal.invalid:37015',
      saleTimeoutMs: 5_000,
      connectTimeoutMs: 2_000,
    });
    const error = await terminal
      .sale(cashSale(), { operationId: 'dns-1' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IntentUnreachableError);
    expect(error).toMatchObject({ outcome: 'not-sent' });
  });

  it('reports an AUTH without answer as known: no sale was sent', async () => {
    const stub = await startStubTerminal(() => 'hang');
    cleanups.push(() => stub.close());
    const terminal = new IntentTerminal({
      baseUrl: stub.url,
      pin: '1234',
      authTimeoutMs: 200,
      saleTimeoutMs: 5_000,
    });
    const error = await terminal.sale(cashSale(), { operationId: 'ah-1' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IntentNoAnswerError);
    expect(error).toMatchObject({ code: 'INTENT_NO_ANSWER', outcome: 'not-sent' });
    expect(stub.calls.map((call) => call.intent)).toEqual(['AUTH']);
  });
});
