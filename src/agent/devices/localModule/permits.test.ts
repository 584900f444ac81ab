import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { printingJob } from '../../../../test/support/bills.js';
import { GS } from '../../../lib/markingCode.js';
import { buildBill, buildPosition } from '../../domain/bill.js';
import type { MarkingPermit } from '../../domain/marking.js';
import type { Job, JobOperation } from '../../jobs/job.js';
import { type LocalModuleCheck, type LocalModuleCode, parseCheck, parseStatus } from './answers.js';
import { LocalModuleAuthError, type LocalModuleClient, type LocalModuleReply } from './client.js';
import { LocalModuleWatch } from './condition.js';
import {
  LocalModulePermits,
  LocalModuleRefusedError,
  LocalModuleUnavailableError,
  refusalOf,
} from './permits.js';

/**
 * The permissive mode's decisions on the local module's answers (docs/marking.md, "Permissive mode"): the
 * answers are the recorded shapes (test/fixtures/local-module), the client a stub; the real HTTP client
 * against the mock module is test/localModule/client.e2e.test.ts.
 */

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(
    readFileSync(new URL(`../../../../test/fixtures/local-module/${name}`, import.meta.url), 'utf8'),
  ) as Record<string, unknown>;

const NOW = Date.parse('2026-12-07T10:00:00Z');
const SHOES = `010463003022541621Yu7t_HclAYqqD${GS}91006A${GS}92abcd`;
const CHEESE = `0104680029460908215jcmHzLmkdPML${GS}938p9E`;
const SOURCE_PERMIT: MarkingPermit = {
  uuid: '11111111-2222-4333-8444-555555555555',
  timestampMs: NOW - 1000,
};

function job(operation: JobOperation = 'sell', permitOnCheese = false): Job {
  const bill = buildBill({
    source: 'mqtt',
    account: 'shop',
    billId: 'b1',
    number: '1',
    currency: 'RUB',
    positions: [
      buildPosition({ name: 'Хлеб', priceMinor: 5_000, quantityMilli: 1000, vat: 'none' }),
      buildPosition({
        name: 'Кроссовки',
        priceMinor: 500_000,
        quantityMilli: 1000,
        vat: 'none',
        marking: { code: SHOES },
      }),
      buildPosition({
        name: 'Сыр',
        priceMinor: 50_000,
        quantityMilli: 1000,
        vat: 'none',
        marking: { code: CHEESE, ...(permitOnCheese ? { permit: SOURCE_PERMIT } : {}) },
      }),
    ],
    payments: 'cash',
  });
  return printingJob(bill, operation);
}

const sellable = (): LocalModuleCheck => parseCheck(fixture('check-v1-sellable.json'), 1) as LocalModuleCheck;

/** A module whose status is `status` and whose check answers `checks` in turn. */
function stub(
  status: LocalModuleReply<ReturnType<typeof parseStatus>>,
  checks: Array<LocalModuleReply<ReturnType<typeof parseCheck>>>,
) {
  const asked: string[] = [];
  const client: Pick<LocalModuleClient, 'status' | 'check'> = {
    status: async () => status,
    check: async (cis) => {
      asked.push(cis);
      const next = checks.shift();
      if (!next) throw new Error('unexpected check');
      return next;
    },
  };
  return { client, asked };
}

const ready = (): LocalModuleReply<ReturnType<typeof parseStatus>> => ({
  kind: 'answered',
  value: { ...parseStatus(fixture('status-ready.json')), lastSyncMs: NOW - 3_600_000 },
});

const permits = (
  client: Pick<LocalModuleClient, 'status' | 'check'>,
  whenUnavailable: 'refuse' | 'sellWithoutPermit' = 'refuse',
) =>
  new LocalModulePermits({
    client,
    maxSyncAgeHours: 72,
    whenUnavailable,
    deviceId: 'kkt',
    logger: pino({ level: 'silent' }),
    now: () => NOW,
  });

const refusal = async (run: Promise<unknown>) => {
  try {
    await run;
  } catch (error) {
    return error as Error & { code: string };
  }
  throw new Error('expected a refusal');
};

describe("the local module's verdict on one code", () => {
  const base: LocalModuleCode = sellable().code;
  it.each([
    [{ gtin: '04600000000008' }, 'wrongProduct'],
    [{ isBlocked: true }, 'blocked'],
    [{ sold: true, realizable: false }, 'sold'],
    [{ expireDate: '2026-12-06T23:59:59Z' }, 'expired'],
  ] as const)('%o refuses as %s', (change, expected) => {
    expect(refusalOf({ ...base, ...change }, SHOES, NOW)?.refusal).toBe(expected);
  });

  it('allows a code the module states nothing against, including one it does not describe at all', () => {
    expect(refusalOf(base, SHOES, NOW)).toBeUndefined();
    expect(refusalOf({ cis: '010463003022541621Yu7t_HclAYqqD' }, SHOES, NOW)).toBeUndefined();
    expect(refusalOf({ ...base, expireDate: '2026-12-08' }, SHOES, NOW)).toBeUndefined();
  });

  it('reads an offline answer by what it states against the code, not by the flags it leaves false', () => {
    // Offline, found/valid/verified/utilised/realizable come back false whatever the code (the quoted answer).
    const offline = parseCheck(fixture('check-offline-blocked.json'), 1) as LocalModuleCheck;
    const scanned = `0104630030225416215LmBlk${GS}93abcd`;
    expect(refusalOf(offline.code, scanned, NOW)).toEqual({ refusal: 'blocked', detail: 'isBlocked = true' });
    expect(refusalOf({ ...offline.code, isBlocked: false }, scanned, NOW)).toBeUndefined();
  });
});

describe('permits from the local module before a marked sale', () => {
  it('asks about each marked position without a permit, by its identification part, and sets 1265 from the answer', async () => {
    const first = sellable();
    const second = parseCheck(fixture('check-v2-sellable.json'), 2) as LocalModuleCheck;
    const { client, asked } = stub(ready(), [
      { kind: 'answered', value: first },
      { kind: 'answered', value: second },
    ]);
    const checked = await permits(client).fill(job());
    expect(asked).toEqual(['010463003022541621Yu7t_HclAYqqD', '0104680029460908215jcmHzLmkdPML']);
    expect(checked.bill!.positions.map((p) => p.marking?.permit)).toEqual([
      undefined,
      {
        uuid: first.reqId,
        timestampMs: first.reqTimestamp,
        instance: first.instance,
        version: first.version,
      },
      {
        uuid: second.reqId,
        timestampMs: second.reqTimestamp,
        instance: first.instance,
        version: first.version,
      },
    ]);
  });

  it("keeps the source's own permit and asks only about the rest", async () => {
    const { client, asked } = stub(ready(), [{ kind: 'answered', value: sellable() }]);
    const checked = await permits(client).fill(job('sell', true));
    expect(asked).toHaveLength(1);
    expect(checked.bill!.positions[2]!.marking!.permit).toEqual(SOURCE_PERMIT);
  });

  it('does not ask for a return (the permissive mode forbids sales)', async () => {
    const { client, asked } = stub(ready(), []);
    const same = job('sellReturn');
    expect(await permits(client).fill(same)).toBe(same);
    expect(asked).toEqual([]);
  });

  it('refuses the bill on a code the module forbids, naming the position and why', async () => {
    const blocked = parseCheck(fixture('check-v1-blocked.json'), 1);
    const { client } = stub(ready(), [{ kind: 'answered', value: blocked }]);
    const error = await refusal(permits(client).fill(job()));
    expect(error).toBeInstanceOf(LocalModuleRefusedError);
    expect(error.code).toBe('MARKING_LM_REFUSED');
    expect(error.message).toMatch(
      /positions\[1\] "Кроссовки": the sale of this item is blocked by a government authority/,
    );
  });

  it.each([
    ['unreachable', { kind: 'unavailable', reason: 'unreachable (ECONNREFUSED)' }, /unreachable/],
    [
      'not initialised',
      { kind: 'answered', value: { status: 'initialization', lastSyncMs: NOW } },
      /status is initialization/,
    ],
    [
      'updating itself',
      { kind: 'answered', value: { status: 'ready', operationMode: 'service', lastSyncMs: NOW } },
      /service mode/,
    ],
    [
      'stale',
      { kind: 'answered', value: { status: 'ready', lastSyncMs: NOW - 73 * 3_600_000 } },
      /73 h ago \(at most 72 h\)/,
    ],
    [
      'silent about its last sync',
      { kind: 'answered', value: { status: 'ready' } },
      /does not say when it last synced/,
    ],
    [
      'needing a new download',
      { kind: 'answered', value: { status: 'ready', lastSyncMs: NOW, requiresDownload: true } },
      /downloaded again/,
    ],
  ] as const)('refuses by default when the module is %s', async (_, status, reason) => {
    const { client, asked } = stub(status as LocalModuleReply<ReturnType<typeof parseStatus>>, []);
    const error = await refusal(permits(client).fill(job()));
    expect(error).toBeInstanceOf(LocalModuleUnavailableError);
    expect(error.code).toBe('MARKING_LM_UNAVAILABLE');
    expect(error.message).toMatch(reason);
    expect(asked).toEqual([]);
  });

  it("refuses when the check itself gets no answer or the module's own error", async () => {
    const noAnswer = stub(ready(), [
      { kind: 'unavailable', reason: 'no answer (no complete answer within 3000 ms)' },
    ]);
    expect((await refusal(permits(noAnswer.client).fill(job()))).message).toMatch(
      /no complete answer within 3000 ms/,
    );
    const moduleError = stub(ready(), [
      { kind: 'answered', value: { kind: 'moduleError', code: 5, description: 'База не загружена' } },
    ]);
    expect((await refusal(permits(moduleError.client).fill(job()))).message).toMatch(
      /answered code 5: База не загружена/,
    );
  });

  it('sells without a permit when configured so, keeping the permits it already has', async () => {
    const down = stub({ kind: 'unavailable', reason: 'unreachable' }, []);
    const same = job();
    expect(await permits(down.client, 'sellWithoutPermit').fill(same)).toBe(same);
    const midway = stub(ready(), [
      { kind: 'answered', value: sellable() },
      { kind: 'unavailable', reason: 'no answer' },
    ]);
    const checked = await permits(midway.client, 'sellWithoutPermit').fill(job());
    expect(checked.bill!.positions[1]!.marking!.permit?.uuid).toBe(sellable().reqId);
    expect(checked.bill!.positions[2]!.marking!.permit).toBeUndefined();
  });

  it('never sells a code the module forbids, whatever the offline rule', async () => {
    const { client } = stub(ready(), [
      { kind: 'answered', value: { ...sellable(), code: { ...sellable().code, sold: true } } },
    ]);
    const error = await refusal(permits(client, 'sellWithoutPermit').fill(job()));
    expect(error.code).toBe('MARKING_LM_REFUSED');
    expect(error.message).toMatch(/already sold/);
  });

  it("keeps the module's last condition as each sale saw it, for status", async () => {
    const watch = new LocalModuleWatch('http://127.0.0.1:5995', '/etc/kkt-agent/local-module.json');
    const watched = (client: Pick<LocalModuleClient, 'status' | 'check'>) =>
      new LocalModulePermits({
        client,
        watch,
        maxSyncAgeHours: 72,
        whenUnavailable: 'refuse',
        deviceId: 'kkt',
        logger: pino({ level: 'silent' }),
        now: () => NOW,
      });
    await watched(stub(ready(), [{ kind: 'answered', value: sellable() }]).client).fill(job('sell', true));
    expect(watch.condition).toEqual({
      state: 'ready',
      seenAt: new Date(NOW).toISOString(),
      url: 'http://127.0.0.1:5995',
      status: 'ready',
      lastSyncAt: new Date(NOW - 3_600_000).toISOString(),
      version: '1.4.1',
    });
    const stale: LocalModuleReply<ReturnType<typeof parseStatus>> = {
      kind: 'answered',
      value: { ...parseStatus(fixture('status-ready.json')), lastSyncMs: NOW - 100 * 3_600_000 },
    };
    await refusal(watched(stub(stale, []).client).fill(job()));
    expect(watch.condition).toMatchObject({ state: 'staleSync', reason: expect.stringMatching(/100 h ago/) });
    await refusal(
      watched(stub({ kind: 'unavailable', reason: 'unreachable (ECONNREFUSED)' }, []).client).fill(job()),
    );
    expect(watch.condition).toMatchObject({ state: 'unreachable', reason: 'unreachable (ECONNREFUSED)' });
    const refusing: Pick<LocalModuleClient, 'status' | 'check'> = {
      status: async () => {
        throw new LocalModuleAuthError(401);
      },
      check: async () => {
        throw new Error('unexpected check');
      },
    };
    expect((await refusal(watched(refusing).fill(job()))).code).toBe('MARKING_LM_AUTH_FAILED');
    expect(watch.condition).toMatchObject({ state: 'credentialsRefused' });
  });
});
