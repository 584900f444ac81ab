import { randomUUID } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { DATABASE_FILE } from '../../src/agent/agent.js';
import { type BridgeIdentity, buildReceiptCreated } from '../../src/agent/connectors/bridge/event.js';
import { mapBridgeBill } from '../../src/agent/connectors/bridge/mapping.js';
import { RECEIPT_CREATED_KIND } from '../../src/agent/connectors/bridge/sink.js';
import { billSummary, type FiscalData, type Job } from '../../src/agent/jobs/job.js';
import { newJobId } from '../../src/agent/jobs/jobId.js';
import { JobStore } from '../../src/agent/jobs/jobStore.js';
import { Outbox } from '../../src/agent/outbox/outbox.js';
import type { OutboxEntry } from '../../src/agent/outbox/sink.js';
import { AgentDatabase } from '../../src/agent/store/database.js';
import { parseJsonLossless } from '../../src/lib/json.js';
import { bridgeBill } from '../../test/support/bridgeBills.js';

/**
 * A data directory as a box of a given age leaves it (issue 17): one register, one bridge account,
 * `receiptsPerDay` receipts a day (09:00–21:00), every one reported, one bill a day refused at the door.
 * Records are made by the agent's own code, not imitated: bridge BILLs mapped by `mapBridgeBill`, the
 * ReceiptCreated report built by `buildReceiptCreated`, rows written (and validated) by the store.
 *
 * The last `liveDays` days (default twice the retention) are lived day by day: full records, then the
 * retention of each night as the schedule runs it (`slimFinished`, `deleteDelivered`), so the file holds
 * the churn nightly retention leaves (details deleted, their pages reused). Older days are written as
 * retention has long left them, in bulk (one transaction per 30 days): the job's lasting row only, no
 * bill, no print anchor, no outbox rows; those are exactly the rows `slimFinished` and `deleteDelivered`
 * leave, made ~20 times faster, so a 5-year directory builds in minutes on a small machine.
 */

export interface AgedDataDirOptions {
  ageDays: number;
  receiptsPerDay?: number;
  /** `journal.retainDays`: finished jobs keep their bill this long. */
  retainDays?: number;
  /** `outbox.retainDeliveredDays`. */
  retainDeliveredDays?: number;
  /** Days lived record by record with nightly retention (default 2 × retainDays); older ones in bulk. */
  liveDays?: number;
  /** The moment the box is "now" (default the real now): the newest receipts are from just before. */
  now?: number;
  account?: string;
  deviceId?: string;
}

export interface AgedDataDir {
  dataDir: string;
  jobs: number;
  databaseBytes: number;
  buildSeconds: number;
}

const DAY_MS = 86_400_000;
const logger = pino({ level: 'silent' });

const IDENTITY: BridgeIdentity = {
  userId: '01-000000000012345',
  storeId: '20260101-0000-4000-8000-000000000120',
  deviceId: '20260101-0000-4000-8000-0000000000a1',
  employeeId: '20260101-0000-4000-8000-0000000000e1',
};

function fiscalFor(seq: number, bill: Job['bill'] & object, at: Date, shift: number): FiscalData {
  const utc = at.toISOString();
  return {
    deviceId: 'kkt',
    deviceKind: 'atol',
    fiscalDocumentNumber: 10_000 + seq,
    fiscalSign: String(1_000_000_000 + ((seq * 7_919) % 3_000_000_000)),
    dateTime: `${utc.slice(0, 19)}+03:00`,
    dateTimeUtc: `${utc.slice(0, 19)}.000Z`,
    shiftNumber: shift,
    receiptNumber: String(seq % 300),
    fnNumber: '7380440700123456',
    registrationNumber: '0000000001012345',
    totalMinor: bill.totalMinor,
  };
}

export async function buildAgedDataDir(dataDir: string, options: AgedDataDirOptions): Promise<AgedDataDir> {
  const started = performance.now();
  const perDay = options.receiptsPerDay ?? 300;
  const retainMs = (options.retainDays ?? 30) * DAY_MS;
  const now = options.now ?? Date.now();
  const account = options.account ?? '120';
  const deviceId = options.deviceId ?? 'kkt';
  await mkdir(dataDir, { recursive: true, mode: 0o750 });
  const db = AgentDatabase.open(join(dataDir, DATABASE_FILE), { fsync: false });
  const jobs = new JobStore(db);
  const outbox = new Outbox(db, logger, { retainDeliveredDays: options.retainDeliveredDays ?? 7 });
  let seq = 0;
  let billId = 1_000_000;
  const liveDays = Math.min(options.ageDays, options.liveDays ?? 2 * (options.retainDays ?? 30));
  const refusedJob = (day: number): Job => {
    const dayStart = now - (day + 1) * DAY_MS + 9 * 3_600_000;
    // One bill a day refused at the door (a bad price in the CRM): FAILED, nothing printed or reported.
    const refusedAt = new Date(dayStart + 6 * 3_600_000).toISOString();
    const refusedId = String(++billId);
    return {
      id: newJobId(dayStart + 6 * 3_600_000 + 1),
      key: `bridge/${account}/${refusedId}`,
      seq: ++seq,
      summary: { source: 'bridge', account, billId: refusedId, number: `A-${refusedId}` },
      operation: 'sell',
      deviceId: '',
      state: 'FAILED',
      receivedAt: refusedAt,
      updatedAt: refusedAt,
      trigger: { kind: 'poll' },
      attempts: 0,
      failure: {
        code: 'BILL_TOTAL_MISMATCH',
        message: 'summ: the bill total is 100.00 RUB but the products add up to 90.00 RUB.',
        field: 'summ',
        at: refusedAt,
        retryable: false,
      },
    };
  };
  try {
    // History older than the lived days: the slim rows retention leaves, a day's bills mapped once as templates.
    const templates = Array.from({ length: perDay }, (_, i) => {
      const raw = parseJsonLossless(JSON.stringify(bridgeBill(billId + 1 + i)));
      return mapBridgeBill(raw, { account, payment: 'card', expectedId: String(billId + 1 + i) });
    });
    const HISTORY_CHUNK_DAYS = 30;
    for (let chunkEnd = options.ageDays - 1; chunkEnd >= liveDays; chunkEnd -= HISTORY_CHUNK_DAYS) {
      db.write('aged-history', () => {
        for (let day = chunkEnd; day > chunkEnd - HISTORY_CHUNK_DAYS && day >= liveDays; day--) {
          const dayStart = now - (day + 1) * DAY_MS + 9 * 3_600_000;
          const shift = options.ageDays - day;
          for (let i = 0; i < perDay; i++) {
            const receivedAt = new Date(dayStart + Math.floor((i * 12 * 3_600_000) / perDay));
            const template = templates[i]!;
            const bill = { ...template, billId: String(++billId), number: `CH-${billId}` };
            const fiscal = fiscalFor(++seq, bill, receivedAt, shift);
            JobStore.insertImported(db, {
              id: newJobId(receivedAt.getTime()),
              key: `bridge/${account}/${bill.billId}`,
              seq,
              summary: billSummary(bill),
              operation: 'sell',
              deviceId,
              state: 'REPORTED',
              receivedAt: receivedAt.toISOString(),
              updatedAt: new Date(receivedAt.getTime() + 2_000).toISOString(),
              trigger: { kind: 'poll', ref: `poll-${seq}` },
              attempts: 1,
              fiscal,
            });
          }
          JobStore.insertImported(db, refusedJob(day));
        }
      });
    }
    for (let day = liveDays - 1; day >= 0; day--) {
      const dayStart = now - (day + 1) * DAY_MS + 9 * 3_600_000;
      const shift = options.ageDays - day;
      db.write('aged-day', () => {
        for (let i = 0; i < perDay; i++) {
          const receivedAt = new Date(dayStart + Math.floor((i * 12 * 3_600_000) / perDay));
          const reportedAt = new Date(receivedAt.getTime() + 2_000);
          const raw = parseJsonLossless(JSON.stringify(bridgeBill(++billId)));
          const bill = mapBridgeBill(raw, { account, payment: 'card', expectedId: String(billId) });
          const fiscal = fiscalFor(++seq, bill, receivedAt, shift);
          const job: Job = {
            id: newJobId(receivedAt.getTime()),
            key: `bridge/${account}/${bill.billId}`,
            seq,
            bill,
            summary: billSummary(bill),
            operation: 'sell',
            deviceId,
            state: 'REPORTED',
            receivedAt: receivedAt.toISOString(),
            updatedAt: reportedAt.toISOString(),
            trigger: { kind: 'poll', ref: `poll-${seq}` },
            attempts: 1,
            printing: {
              lastDocumentNumberBefore: fiscal.fiscalDocumentNumber! - 1,
              startedAt: receivedAt.toISOString(),
            },
            fiscal,
          };
          JobStore.insertImported(db, job);
          const event = buildReceiptCreated({
            bill,
            fiscal,
            identity: IDENTITY,
            eventId: randomUUID(),
            receiptId: randomUUID(),
          });
          const entry: OutboxEntry = {
            kind: RECEIPT_CREATED_KIND,
            jobId: job.id,
            payload: { account, billId: bill.billId, event },
            id: randomUUID(),
            seq,
            sink: `bridge:${account}`,
            state: 'delivered',
            createdAt: reportedAt.toISOString(),
            deliveredAt: reportedAt.toISOString(),
          };
          Outbox.insertImported(db, entry);
          Outbox.insertImportedMarker(db, {
            event: `job.fiscalized:${job.id}`,
            at: entry.createdAt,
            jobId: job.id,
          });
        }
        JobStore.insertImported(db, refusedJob(day));
      });
      // The nightly retention of that day, at 03:30.
      const night = now - day * DAY_MS - 20 * 3_600_000;
      await jobs.slimFinished(retainMs, night);
      await outbox.deleteDelivered(night);
    }
    db.checkpoint();
  } finally {
    db.close();
  }
  const { size } = await stat(join(dataDir, DATABASE_FILE));
  return { dataDir, jobs: seq, databaseBytes: size, buildSeconds: (performance.now() - started) / 1000 };
}
