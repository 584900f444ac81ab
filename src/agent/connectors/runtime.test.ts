import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { StorageWriteError } from '../../lib/durableFile.js';
import { KktAgentError } from '../../lib/errors.js';
import { FailingBills, rowDigest } from './failingBills.js';
import { cloudTransportErrors } from './http/errors.js';
import { type BillPolicy, type BillSource, ConnectorRuntime } from './runtime.js';
import type { ConnectorContext } from './types.js';

const { HttpStatusError, TimeoutError } = cloudTransportErrors({
  codePrefix: 'TEST',
  label: 'Test',
  className: 'Test',
  unreachableHint: '',
});

class Clock {
  ms = Date.parse('2026-12-07T10:00:00.000Z');
  now = () => new Date(this.ms);
}

/** A connector with a source that does nothing on its own: the tests drive `eachBill` themselves. */
class TestConnector extends ConnectorRuntime<void> {
  readonly lines: Array<{ level: number; event?: string; billId?: string }> = [];
  constructor(clock: Clock) {
    super({ kind: 'test', codePrefix: 'TEST', event: 'test', label: 'Test' }, 'a1', {
      now: clock.now,
      isOffline: () => true,
      billRetry: { firstDelayMs: 1000, maxDelayMs: 4000 },
    });
    const source: BillSource<void> = {
      polls: false,
      poll: async () => undefined,
      pollIntervalMs: () => 1000,
      fiscalizeOnCommand: () => Promise.reject(new Error('not here')),
    };
    this.compose({ source });
  }

  async begin(): Promise<void> {
    const logger = pino(
      { level: 'debug' },
      { write: (line: string) => this.lines.push(JSON.parse(line) as TestConnector['lines'][number]) },
    );
    await this.start({ logger } as unknown as ConnectorContext);
  }

  events(event: string, level?: number) {
    return this.lines.filter((line) => line.event === event && (level === undefined || line.level === level));
  }
}

const WARN = 40;
const DEBUG = 20;

async function running(clock = new Clock()) {
  const connector = new TestConnector(clock);
  await connector.begin();
  return { connector, clock };
}

/** A cycle over `bills` where the bills in `failing` throw `error`; returns what was taken. */
async function cycle(
  connector: TestConnector,
  bills: string[],
  failing: Map<string, unknown>,
  policy: Partial<BillPolicy<string>> = {},
) {
  const taken: string[] = [];
  const failed: string[] = [];
  const passed: string[] = [];
  await connector.eachBill(
    bills,
    async (bill) => {
      const error = failing.get(bill);
      if (error) throw error;
      taken.push(bill);
    },
    {
      idOf: (bill) => bill,
      passedOver: (bill) => passed.push(bill),
      failed: (_error, bill) => failed.push(bill),
      ...policy,
    },
  );
  return { taken, failed, passed };
}

describe('ConnectorRuntime.eachBill: one bad bill (issue 18.2)', () => {
  it('a failing bill does not stop the newer ones; it waits on its own backoff and is an alert', async () => {
    const { connector } = await running();
    const failing = new Map([['b1', new HttpStatusError('a1', 'GET /bill/b1', 500)]]);
    const first = await cycle(connector, ['b1', 'b2', 'b3'], failing, { cloudUp: async () => 'hello' });
    expect(first).toEqual({ taken: ['b2', 'b3'], failed: ['b1'], passed: [] });
    const status = connector.status();
    expect(status.failingBills).toMatchObject([{ billId: 'b1', failures: 1, code: 'TEST_HTTP_STATUS' }]);

    // Before its backoff has passed, the next cycle passes it over without asking.
    const second = await cycle(connector, ['b1', 'b2', 'b3'], failing);
    expect(second).toEqual({ taken: ['b2', 'b3'], failed: [], passed: ['b1'] });
  });

  it('the backoff doubles per failure up to the cap, and a success clears the bill', async () => {
    const { connector, clock } = await running();
    const failing = new Map<string, unknown>([['b1', new KktAgentError('TEST_GARBAGE', 'garbage')]]);
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      await cycle(connector, ['b1'], failing);
      const next = Date.parse(connector.status().failingBills![0]!.nextTryAt);
      waits.push(next - clock.ms);
      clock.ms = next;
    }
    // Jitter puts each wait in the upper half of 1 s, 2 s, 4 s, 4 s.
    expect(waits[0]).toBeGreaterThanOrEqual(500);
    expect(waits[0]).toBeLessThanOrEqual(1000);
    expect(waits[1]).toBeGreaterThanOrEqual(1000);
    expect(waits[1]).toBeLessThanOrEqual(2000);
    expect(waits[2]).toBeGreaterThanOrEqual(2000);
    expect(waits[3]).toBeLessThanOrEqual(4000);
    expect(connector.status().failingBills![0]!.failures).toBe(4);

    failing.clear();
    const healed = await cycle(connector, ['b1'], failing);
    expect(healed.taken).toEqual(['b1']);
    expect(connector.status().failingBills).toBeUndefined();
    expect(connector.events('test.bill.recovered')).toHaveLength(1);
  });

  it('one warning per bill and kind of failure; the retries in between are debug', async () => {
    const { connector, clock } = await running();
    const failing = new Map<string, unknown>([['b1', new KktAgentError('TEST_GARBAGE', 'garbage')]]);
    for (let i = 0; i < 3; i++) {
      await cycle(connector, ['b1'], failing);
      clock.ms += 10_000;
    }
    expect(connector.events('test.bill.failing', WARN)).toHaveLength(1);
    expect(connector.events('test.bill.failing', DEBUG)).toHaveLength(2);
    failing.set('b1', new KktAgentError('TEST_OTHER', 'another failure'));
    await cycle(connector, ['b1'], failing);
    expect(connector.events('test.bill.failing', WARN)).toHaveLength(2);
  });

  it('a failure that may be the cloud’s asks the cloud: down, the cycle stops and the bill is not charged', async () => {
    const { connector } = await running();
    const down = new TimeoutError('a1', 'GET /hello', 100);
    const failing = new Map([['b1', new TimeoutError('a1', 'GET /bill/b1', 100)]]);
    await expect(
      cycle(connector, ['b1', 'b2'], failing, {
        cloudUp: () => Promise.reject(down),
      }),
    ).rejects.toBe(down);
    expect(connector.status().failingBills).toBeUndefined();
  });

  it('a failure the cloud cannot be blamed for is the bill’s without asking the cloud', async () => {
    const { connector } = await running();
    let asked = 0;
    const failing = new Map([['b1', new KktAgentError('TEST_MALFORMED', 'not JSON')]]);
    const result = await cycle(connector, ['b1', 'b2'], failing, {
      cloudUp: async () => {
        asked++;
      },
    });
    expect(result.taken).toEqual(['b2']);
    expect(asked).toBe(0);
  });

  it('a store that cannot write ends the cycle: no bill is to blame', async () => {
    const { connector } = await running();
    const full = new StorageWriteError(
      '/data/agent.db',
      'write to',
      Object.assign(new Error('full'), { code: 'ENOSPC' }),
    );
    await expect(cycle(connector, ['b1', 'b2'], new Map([['b1', full]]))).rejects.toBe(full);
    expect(connector.status().failingBills).toBeUndefined();
  });

  it('without a policy a failure ends the cycle (a queue that hands out one operation at a time)', async () => {
    const { connector } = await running();
    const broken = new KktAgentError('TEST_MALFORMED', 'not JSON');
    await expect(
      connector.eachBill(['b1', 'b2'], async () => {
        throw broken;
      }),
    ).rejects.toBe(broken);
  });

  it('bills the cloud no longer lists are forgotten', async () => {
    const { connector } = await running();
    await cycle(connector, ['b1', 'b2'], new Map([['b1', new KktAgentError('TEST_X', 'x')]]));
    connector.failingBills.keepOnly(new Set(['b2']));
    expect(connector.status().failingBills).toBeUndefined();
  });
});

describe('FailingBills.firstWarning: a broken row is one warning until it changes', () => {
  it('warns once per content, again when the row changes', () => {
    const bills = new FailingBills({ firstDelayMs: 1, maxDelayMs: 1 }, () => new Date());
    const row = { id: 's1', updatedTime: 'garbage' };
    expect(bills.firstWarning('s1', rowDigest(row))).toBe(true);
    expect(bills.firstWarning('s1', rowDigest({ ...row }))).toBe(false);
    expect(bills.firstWarning('s1', rowDigest({ ...row, updatedTime: 'still garbage' }))).toBe(true);
    bills.keepOnly(new Set());
    expect(bills.firstWarning('s1', rowDigest({ ...row, updatedTime: 'still garbage' }))).toBe(true);
  });

  it('remembers at most a thousand bills (the oldest are forgotten first)', () => {
    const bills = new FailingBills({ firstDelayMs: 1000, maxDelayMs: 1000 }, () => new Date());
    for (let i = 0; i < 1005; i++) bills.failed(`b${i}`, new KktAgentError('X', 'x'));
    expect(bills.size).toBe(1000);
    expect(bills.due('b0')).toBe(true);
    expect(bills.due('b1004')).toBe(false);
  });
});
