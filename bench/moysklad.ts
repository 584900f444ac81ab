import { join } from 'node:path';
import pino from 'pino';
import { Agent } from '../src/agent/agent.js';
import { MoyskladConnector } from '../src/agent/connectors/moysklad/connector.js';
import { mapCustomerOrder, parseCustomerOrder } from '../src/agent/connectors/moysklad/mapping.js';
import { startMockMoysklad } from '../test/moysklad/mockServer.js';
import { pairedFile, ShiftRegister, tempDir } from '../test/moysklad/support.js';

/**
 * MoySklad drain benchmark: the cloud is down while a shift opens, `documents` receipts print and the
 * shift closes; then it comes back and the outbox drains openshift → documents → closeshift through the real
 * connector, client and rate limiter to the mock (real HTTP on loopback, posap's limits: 100 per 5 s, 5
 * parallel). The goal is the allowed rate (20 requests/s) with no 429 at all.
 */

export interface MoyskladBenchOptions {
  documents: number;
  /** The mock's and the connector's window; default posap's 100 per 5000 ms. */
  rateLimit?: { requests: number; windowMs: number };
}

export interface MoyskladBenchResult {
  documents: number;
  /** From the first to the last request MoySklad accepted during the drain. */
  seconds: number;
  requestsPerSecond: number;
  /**
   * requestsPerSecond ÷ the allowed average rate (requests / window): meaningful only when the drain is
   * longer than the limit's allowance (`rateBound`); a drain that fits in one window's allowance is a burst.
   */
  shareOfAllowedRate: number;
  /** More requests than one window allows: the limiter, not the agent, sets the pace. */
  rateBound: boolean;
  /** The most accepted requests in any one window (the limit MoySklad enforces), and that limit. */
  busiestWindowRequests: number;
  windowLimit: number;
  windowMs: number;
  count429: number;
  requests: number;
}

async function until(probe: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function benchMoysklad(options: MoyskladBenchOptions): Promise<MoyskladBenchResult> {
  const { documents } = options;
  const rate = options.rateLimit ?? { requests: 100, windowMs: 5_000 };
  const mock = await startMockMoysklad({ rateLimit: { ...rate, maxParallel: 5 } });
  const dir = await tempDir();
  let agent: Agent | undefined;
  try {
    const credentialsFile = await pairedFile(mock, dir.path);
    const device = new ShiftRegister();
    const connector = new MoyskladConnector(
      {
        id: 'bench',
        baseUrl: mock.url,
        credentialsFile,
        mode: 'customerOrders',
        customerOrders: { autoFiscalize: false },
        retries: 1,
        retryDelayMs: 20,
        state: { enabled: false },
        rateLimit: { requests: rate.requests, windowMs: rate.windowMs },
      },
      { softwareVersion: 'bench' },
    );
    agent = await Agent.open({
      dataDir: join(dir.path, 'data'),
      logger: pino({ level: 'silent' }),
      devices: [device],
      connectors: [connector],
      router: () => device.id,
      outbox: { initialBackoffMs: 50, maxBackoffMs: 250 },
      fsync: false,
    });
    await agent.start();

    mock.down = true;
    await device.openShift();
    for (let i = 0; i < documents; i++) {
      const order = mock.addOrder({
        name: `B-${i + 1}`,
        positions: [
          { name: 'Кофе', priceKop: 25_000 + (i % 100) },
          { name: 'Сыр весовой', priceKop: 89_990, quantity: '0.35', vat: 10, uom: 'кг' },
        ],
      });
      const bill = mapCustomerOrder(parseCustomerOrder(order), {
        account: 'bench',
        payment: i % 2 ? 'cash' : 'card',
      });
      await agent.intake.submit({ bill, trigger: { kind: 'test', ref: 'bench' } });
    }
    const fiscalized = () => agent!.jobs.countByState().FISCALIZED === documents;
    await until(fiscalized, 'all receipts printed', 60_000 + documents * 20);
    await device.closeShift();
    const total = documents + 2;
    await until(
      () => agent!.outbox.entries({ sink: connector.name, state: 'pending' }).length === total,
      'reports queued',
      30_000,
    );

    const upAt = Date.now();
    mock.down = false;
    const allowedPerSecond = (rate.requests / rate.windowMs) * 1000;
    await until(() => mock.events.length >= total, 'the drain', 60_000 + (total / allowedPerSecond) * 2_000);
    const accepted = mock.requests.filter(
      (request) => request.at >= upAt && request.status > 0 && request.status < 400,
    );
    const first = accepted[0]!.at;
    const last = accepted.at(-1)!.at;
    const seconds = Math.max(0.001, (last - first) / 1000);
    const requestsPerSecond = (accepted.length - 1) / seconds;
    let busiestWindowRequests = 0;
    for (let i = 0, j = 0; i < accepted.length; i++) {
      while (accepted[i]!.at - accepted[j]!.at >= rate.windowMs) j++;
      busiestWindowRequests = Math.max(busiestWindowRequests, i - j + 1);
    }
    return {
      documents,
      seconds: Math.round(seconds * 1000) / 1000,
      requestsPerSecond: Math.round(requestsPerSecond * 100) / 100,
      shareOfAllowedRate: Math.round((requestsPerSecond / allowedPerSecond) * 1000) / 1000,
      rateBound: accepted.length > rate.requests,
      busiestWindowRequests,
      windowLimit: rate.requests,
      windowMs: rate.windowMs,
      count429: mock.counters.count429,
      requests: accepted.length,
    };
  } finally {
    await agent?.stop();
    await mock.close();
    await dir.remove();
  }
}
