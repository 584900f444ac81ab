import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KktOutcomeUnknownError } from '../../src/drivers/atol/errors.js';
import { KktAgentError } from '../../src/lib/errors.js';

const isOutcomeUnknown = (error: unknown) => error instanceof KktAgentError && error.outcome === 'unknown';

import { type AtolWebKkt, KktDriverError, requestUuid } from '../../src/drivers/atol/web/index.js';
import { coffeeReceipt, startWeb, type WebHarness, webKkt } from './support.js';

/**
 * The ambiguous cases of the web backend: a lost answer is looked up by its uuid, never resent blindly; a
 * repeated uuid is refused by the server (409) and its results read instead. Each case ends with exactly
 * one fiscal document in the register's journal.
 */

let h: WebHarness;
let kkt: AtolWebKkt;

beforeEach(async () => {
  h = await startWeb();
  kkt = webKkt(h.web);
  await kkt.openShift();
});

afterEach(async () => {
  await h.web.close();
  expect(h.warnings).toEqual([]);
});

const sell = (requestId: string) => kkt.sell(coffeeReceipt(requestId), { requestId });

describe('a lost answer to the submission', () => {
  it('connection cut after the server accepted: the backend looks the uuid up and reads the result', async () => {
    h.web.setFault('dropAfterAccept');
    const result = await sell('job-drop');
    expect(h.faults).toEqual(['dropAfterAccept']);
    expect(h.receipts()).toHaveLength(1);
    expect(result.fiscalDocumentNumber).toBe(h.receipts()[0]?.documentNumber);
    expect(h.receipts()[0]?.marker).toBe('job-drop');
  });

  it('HTTP 500 after the server accepted: the same', async () => {
    h.web.setFault('http500AfterAccept');
    const result = await sell('job-500');
    expect(h.faults).toEqual(['http500AfterAccept']);
    expect(h.receipts().map((r) => r.documentNumber)).toEqual([result.fiscalDocumentNumber]);
  });

  it('HTTP 500 before anything was queued: unknown to the server, so the outcome is unknown; a retry prints once', async () => {
    h.web.setFault('http500');
    const error = await sell('job-early-500').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KktOutcomeUnknownError);
    expect(h.receipts()).toHaveLength(0);
    expect(await kkt.findRequest({ requestId: 'job-early-500' })).toEqual({ state: 'unknown' });
    const result = await sell('job-early-500');
    expect(h.receipts().map((r) => r.documentNumber)).toEqual([result.fiscalDocumentNumber]);
  });

  it('the server restarted and lost its results: the outcome is unknown, and the FN holds the receipt', async () => {
    h.web.setFault('dropAfterAccept');
    h.web.setFault('loseResultsAfterRun');
    const error = await sell('job-lost').catch((e: unknown) => e);
    expect(isOutcomeUnknown(error)).toBe(true);
    expect(await kkt.findRequest({ requestId: 'job-lost' })).toEqual({ state: 'unknown' });
    // What the agent's reconcile reads next: the receipt is in the FN with its marker.
    const last = await kkt.lastDocument();
    expect(last).toMatchObject({ documentType: 3, marker: 'job-lost' });
    expect(h.receipts()).toHaveLength(1);
  });

  it('a task slower than the timeout: the outcome is unknown, then the lookup waits for the result', async () => {
    h.web.setFault('taskSlowMs', 400);
    const impatient = webKkt(h.web, { taskTimeoutMs: 100 });
    const error = await impatient
      .sell(coffeeReceipt('job-slow'), { requestId: 'job-slow' })
      .catch((e: unknown) => e);
    expect(isOutcomeUnknown(error)).toBe(true);
    expect(await impatient.findRequest({ requestId: 'job-slow' }, 0)).toEqual({
      state: 'pending',
      uuid: 'job-slow',
    });
    const found = await kkt.findRequest({ requestId: 'job-slow' });
    expect(found.state === 'done' && found.result.fiscalDocumentNumber).toBe(h.receipts()[0]?.documentNumber);
    expect(h.receipts()).toHaveLength(1);
  });
});

describe('a repeated uuid (409)', () => {
  it('a print repeated with the same request id reads the first result and prints nothing', async () => {
    const first = await sell('job-twice');
    const again = await sell('job-twice');
    expect(
      h.requests.filter((r) => r.method === 'POST' && r.uuid === 'job-twice').map((r) => r.status),
    ).toEqual([201, 409]);
    expect(again).toEqual(first);
    expect(h.receipts()).toHaveLength(1);
  });

  it('two agents racing on the same request id get one receipt between them', async () => {
    const other = webKkt(h.web);
    const [a, b] = await Promise.all([
      sell('job-race'),
      other.sell(coffeeReceipt('job-race'), { requestId: 'job-race' }),
    ]);
    expect(a.fiscalDocumentNumber).toBe(b.fiscalDocumentNumber);
    expect(h.receipts()).toHaveLength(1);
  });

  it('after a definite refusal, the retry takes the next uuid of the chain and prints once', async () => {
    h.web.register.setFault('noPaper');
    await expect(sell('job-paper')).rejects.toMatchObject({ code: 'KKT_NO_PAPER' });
    expect(await kkt.findRequest({ requestId: 'job-paper' })).toMatchObject({
      state: 'refused',
      uuid: 'job-paper',
    });
    h.web.register.clearFaults();
    const result = await sell('job-paper');
    expect(h.receipts().map((r) => [r.documentNumber, r.marker])).toEqual([
      [result.fiscalDocumentNumber, 'job-paper'],
    ]);
    const found = await kkt.findRequest({ requestId: 'job-paper' });
    expect(found).toMatchObject({ state: 'done', uuid: requestUuid('job-paper', 1) });
    // And a third call finds it too: never printed again.
    expect((await sell('job-paper')).fiscalDocumentNumber).toBe(result.fiscalDocumentNumber);
    expect(h.receipts()).toHaveLength(1);
  });

  it('an interrupted request stays unresolved until the caller retires it (after checking the FN)', async () => {
    h.web.setFault('interruptTask');
    const first = await sell('job-cut').catch((e: unknown) => e);
    expect(isOutcomeUnknown(first)).toBe(true);
    expect((first as KktOutcomeUnknownError).details.cause).toMatch(/241/);
    expect(await kkt.findRequest({ requestId: 'job-cut' })).toMatchObject({
      state: 'uncertain',
      uuid: 'job-cut',
    });
    // Not retired: the same uuid answers 409 with the same uncertain result; nothing is printed blindly.
    expect(isOutcomeUnknown(await sell('job-cut').catch((e: unknown) => e))).toBe(true);
    expect(h.receipts()).toHaveLength(0);
    const retired = new Set(['job-cut']);
    expect(await kkt.findRequest({ requestId: 'job-cut', retired })).toEqual({ state: 'unknown' });
    const result = await kkt.sell(coffeeReceipt('job-cut'), { requestId: 'job-cut', retired });
    expect(h.receipts().map((r) => r.documentNumber)).toEqual([result.fiscalDocumentNumber]);
    expect(await kkt.findRequest({ requestId: 'job-cut', retired })).toMatchObject({
      state: 'done',
      uuid: 'job-cut-1',
    });
  });

  it('a refusal is a KktDriverError, never an unknown outcome', async () => {
    h.web.register.setFault('fnFull');
    const error = await sell('job-full').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KktDriverError);
    expect(isOutcomeUnknown(error)).toBe(false);
  });
});
