import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { Agent } from '../../src/agent/agent.js';
import type { MoyskladAccountInput } from '../../src/agent/connectors/moysklad/config.js';
import { MoyskladConnector } from '../../src/agent/connectors/moysklad/connector.js';
import { writeCredentials } from '../../src/agent/connectors/moysklad/credentials.js';
import type { ConnectorStore } from '../../src/agent/connectors/types.js';
import { type DeviceSnapshot, FiscalDevice, type ReconcileOutcome } from '../../src/agent/devices/device.js';
import type { FiscalData, Job, ShiftEvent } from '../../src/agent/jobs/job.js';
import { untilWith } from '../support/until.js';
import type { MockMoysklad } from './mockServer.js';

export const logger = pino({ level: process.env.MOYSKLAD_TEST_LOG ?? 'silent' });

export const FN_NUMBER = '7380440700076549';
export const REG_NUMBER = '0000000001012345';

/**
 * A register for MoySklad tests: numbered shifts, an FN number and a registration number, fiscal signs,
 * FD numbers that count every document (shift reports too), and a clock. Prints in memory; can be gated
 * (prints wait until `open()`), refuse, or report itself offline.
 */
export class ShiftRegister extends FiscalDevice {
  readonly kind = 'atol';
  readonly currencies = ['RUB'] as const;
  readonly readBack = 'own-records' as const;
  printed: Job[] = [];
  shiftNumber = 41;
  shiftOpen = false;
  fd = 500;
  receiptInShift = 0;
  clock = Date.parse('2026-11-22T07:00:00.000Z');
  refuse: ((job: Job) => Error | undefined) | undefined;
  snapshotExtra: Partial<DeviceSnapshot> = {};
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  constructor(readonly id = 'kkt-1') {
    super();
  }

  get ready(): boolean {
    return true;
  }

  async start(): Promise<void> {
    this.emit('ready');
  }

  async stop(): Promise<void> {}

  /** Prints wait until `open()`. */
  close(): void {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  open(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  async preparePrint(): Promise<{ lastDocumentNumberBefore: number }> {
    return { lastDocumentNumberBefore: this.fd };
  }

  private tick(): { dateTime: string; dateTimeUtc: string } {
    this.clock += 60_000;
    const utc = new Date(this.clock);
    const local = new Date(this.clock + 3 * 3600_000).toISOString().slice(0, 19);
    return { dateTime: `${local}+03:00`, dateTimeUtc: utc.toISOString() };
  }

  async print(job: Job): Promise<FiscalData> {
    if (this.gate) await this.gate;
    const refused = this.refuse?.(job);
    if (refused) throw refused;
    if (!this.shiftOpen) await this.openShift();
    this.fd++;
    this.receiptInShift++;
    this.printed.push(job);
    return {
      deviceId: this.id,
      deviceKind: this.kind,
      fiscalDocumentNumber: this.fd,
      fiscalSign: String(3_000_000_000 + this.fd),
      ...this.tick(),
      shiftNumber: this.shiftNumber,
      receiptNumber: String(this.receiptInShift),
      fnNumber: FN_NUMBER,
      registrationNumber: REG_NUMBER,
      totalMinor: job.bill?.totalMinor ?? 0,
    };
  }

  async reconcile(job: Job): Promise<ReconcileOutcome> {
    return this.printed.some((p) => p.id === job.id)
      ? { kind: 'ambiguous', reason: 'printed, answer lost' }
      : { kind: 'not-printed', note: 'nothing printed' };
  }

  async snapshot(): Promise<DeviceSnapshot> {
    return {
      id: this.id,
      kind: this.kind,
      online: true,
      model: 'АТОЛ 30Ф',
      serial: '00106712345678',
      firmware: '5.8.100',
      shift: { state: this.shiftOpen ? 'open' : 'closed', number: this.shiftNumber },
      fn: { serial: FN_NUMBER, validUntil: '2027-06-30', warnings: [], lastDocumentNumber: this.fd },
      ofd: { unsentCount: 3, oldestUnsentAt: '2026-11-22T09:15:00+03:00' },
      details: { registrationNumber: REG_NUMBER, ffdVersion: '1.2' },
      ...this.snapshotExtra,
    };
  }

  private shiftEvent(extra: Partial<ShiftEvent> = {}): ShiftEvent {
    this.fd++;
    return {
      shiftNumber: this.shiftNumber,
      fiscalDocumentNumber: this.fd,
      fiscalSign: String(3_000_000_000 + this.fd),
      ...this.tick(),
      fnNumber: FN_NUMBER,
      registrationNumber: REG_NUMBER,
      ...extra,
    };
  }

  async openShift(): Promise<ShiftEvent> {
    this.shiftNumber++;
    this.shiftOpen = true;
    this.receiptInShift = 0;
    const shift = this.shiftEvent();
    this.emit('shift', { type: 'opened', shift });
    return shift;
  }

  async closeShift(): Promise<ShiftEvent> {
    this.shiftOpen = false;
    const shift = this.shiftEvent();
    this.emit('shift', { type: 'closed', shift });
    return shift;
  }

  async reportX(): Promise<void> {}
  async cashIn(): Promise<void> {}
  async cashOut(): Promise<void> {}
}

/** An in-memory ConnectorStore; share one instance across connectors to simulate a restart. */
export class MemoryStore implements ConnectorStore {
  readonly values = new Map<string, unknown>();

  get<T>(key: string): T | undefined {
    const value = this.values.get(key);
    return value === undefined ? undefined : (structuredClone(value) as T);
  }

  async set(key: string, value: unknown): Promise<void> {
    this.values.set(key, structuredClone(value));
  }
}

export const until = untilWith({ timeoutMs: 8000, intervalMs: 5 });

export async function tempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'kkt-moysklad-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A credentials file as `moysklad pair` writes it, with a token the mock issued. */
export async function pairedFile(
  mock: MockMoysklad,
  directory: string,
  name = 'moysklad.json',
): Promise<string> {
  const path = join(directory, name);
  const { token, uid } = mock.issueToken();
  await writeCredentials(path, {
    version: 1,
    baseUrl: mock.url,
    retailStore: { id: mock.store.id, name: mock.store.name },
    organizationId: mock.store.organizationId,
    token,
    cashierUid: uid,
    attachedAt: new Date().toISOString(),
  });
  return path;
}

/** Connector settings for tests: fast polls and backoffs, the real limiter logic with the real limits. */
export function testAccount(
  mock: MockMoysklad,
  credentialsFile: string,
  extra: Partial<MoyskladAccountInput> = {},
): MoyskladAccountInput {
  return {
    id: 'shop',
    baseUrl: mock.url,
    credentialsFile,
    pollIntervalMs: 50,
    timeoutMs: 1_000,
    retries: 2,
    retryDelayMs: 10,
    maxRetryDelayMs: 50,
    authRetryMs: 100,
    state: { enabled: false },
    ...extra,
  };
}

export interface Harness {
  agent: Agent;
  connector: MoyskladConnector;
  device: ShiftRegister;
  stop: () => Promise<void>;
}

export async function openHarness(
  dataDir: string,
  account: MoyskladAccountInput,
  device = new ShiftRegister(),
  log: Logger = logger,
): Promise<Harness> {
  const connector = new MoyskladConnector(account, { softwareVersion: '0.1.0-test', hostname: 'pi-kassa' });
  const agent = await Agent.open({
    dataDir,
    logger: log,
    devices: [device],
    connectors: [connector],
    router: () => device.id,
    fiscalizer: { retryDelayMs: 10, maxRetryDelayMs: 20, maxAttempts: 2, stopTimeoutMs: 2000 },
    outbox: { initialBackoffMs: 20, maxBackoffMs: 100 },
    fsync: false,
  });
  await agent.start();
  // A new store is read back from its device before the connectors start (docs/fiscalization.md §7).
  await agent.serving();
  return { agent, connector, device, stop: () => agent.stop() };
}
