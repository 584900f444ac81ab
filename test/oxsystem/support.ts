import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { Agent } from '../../src/agent/agent.js';
import type { OxAccountInput } from '../../src/agent/connectors/oxsystem/config.js';
import { OxSystemConnector } from '../../src/agent/connectors/oxsystem/connector.js';
import { NonfiscalDevice } from '../../src/agent/devices/nonfiscal/index.js';
import type { Job, JobState } from '../../src/agent/jobs/job.js';
import { until } from '../support/until.js';
import type { MockOxServer } from './mockServer.js';

export const silent = pino({ level: 'silent' });

/** A clock the connector and the mock share, so token expiry and cart settling need no waiting. */
export class Clock {
  constructor(public t = Date.parse('2025-06-01T05:00:00.000Z')) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export function accountFor(mock: MockOxServer, overrides: Partial<OxAccountInput> = {}): OxAccountInput {
  return {
    id: 'main',
    subdomain: mock.subdomain,
    baseUrl: mock.url,
    username: mock.username,
    password: mock.password,
    cashdesk: mock.cashdeskId,
    timeoutMs: 2000,
    retries: 1,
    retryDelayMs: 5,
    poll: { enabled: false },
    openSettleSeconds: 0,
    ...overrides,
  };
}

export interface OxHarness {
  agent: Agent;
  connector: OxSystemConnector;
  device: NonfiscalDevice;
  receiptsDir: string;
}

/** A real Agent (journals in `dir/agent`) with the non-fiscal device and one OX connector, started. */
export async function openOxAgent(options: {
  dir: string;
  mock: MockOxServer;
  clock: Clock;
  account?: Partial<OxAccountInput>;
  beforeStart?: (agent: Agent, connector: OxSystemConnector) => Promise<void>;
  logger?: Logger;
}): Promise<OxHarness> {
  const logger = options.logger ?? silent;
  const receiptsDir = join(options.dir, 'receipts');
  const device = new NonfiscalDevice({
    id: 'np1',
    directory: receiptsDir,
    timeZone: 'Asia/Tashkent',
    logger,
  });
  const connector = new OxSystemConnector(accountFor(options.mock, options.account), {
    now: options.clock.now,
    retryDelayMs: 5,
  });
  const agent = await Agent.open({
    dataDir: join(options.dir, 'agent'),
    logger,
    devices: [device],
    connectors: [connector],
    router: () => device.id,
    fiscalizer: { retryDelayMs: 10, maxRetryDelayMs: 20, maxAttempts: 3, stopTimeoutMs: 2000 },
    outbox: { initialBackoffMs: 10, maxBackoffMs: 40 },
  });
  await options.beforeStart?.(agent, connector);
  await agent.start();
  // A new store is read back from its device before the connectors start (docs/fiscalization.md §7).
  await agent.serving();
  return { agent, connector, device, receiptsDir };
}

export { until };

export function jobOfSell(agent: Agent, sellId: number | string, account = 'main'): Job | undefined {
  return agent.intake.find({ source: 'oxsystem', account, billId: String(sellId) });
}

export function untilState(agent: Agent, sellId: number, state: JobState): Promise<Job> {
  return until(() => {
    const job = jobOfSell(agent, sellId);
    return job?.state === state ? job : undefined;
  }, `sell ${sellId} ${state}`);
}

export async function receiptFiles(directory: string): Promise<string[]> {
  try {
    return (await readdir(directory)).filter((name) => name.endsWith('.txt')).sort();
  } catch {
    return [];
  }
}

/** A pino logger at debug level that keeps every line, to check what logs may and may not say. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
  return { logger, lines };
}
