import type { Logger } from 'pino';
import { z } from 'zod';
import { jitteredBackoffMs } from '../../lib/backoff.js';
import { errorMessage } from '../../lib/errors.js';
import { parseWithSchema } from '../../lib/json.js';
import type { AgentDatabase } from '../store/database.js';
import { StoreRecordError } from '../store/storeErrors.js';
import { DAY_MS, OUTBOX_DEFAULTS, type OutboxConfig } from './config.js';
import { DeliveryError } from './deliveryError.js';
import { reportId } from './reportId.js';
import type { AgentEvent, OutboxDraft, OutboxEntry, ReportSink } from './sink.js';

/** The config's `outbox` section (its schema holds the defaults). */
export type OutboxOptions = OutboxConfig;

/** setTimeout fires at once for delays past 2^31 − 1 ms: a server's Retry-After must never reach that. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface SinkStats {
  pending: number;
  dead: number;
  delivered: number;
  oldestPendingAt?: string;
  lastError?: OutboxEntry['lastError'];
  attempts: number;
}

type AttemptResult = { kind: 'delivered' } | { kind: 'dead' } | { kind: 'retry'; retryAfterMs?: number };

interface Worker {
  stopped: boolean;
  /** Waiting out a failure: new entries must not cut the backoff short (a receipt is no sign the cloud is back). */
  backingOff: boolean;
  wake(): void;
  done: Promise<void>;
}

/** Called inside the transaction that marks an entry delivered: what it writes commits with it. */
export type DeliveredEffect = (entry: OutboxEntry) => void;

interface OutboxRow {
  seq: number;
  id: string;
  sink: string;
  state: string;
  job_id: string | null;
  kind: string;
  created_at: string;
  delivered_at: string | null;
  last_error: string | null;
  payload: string;
}

const COLUMNS = 'seq, id, sink, state, job_id, kind, created_at, delivered_at, last_error, payload';

export const outboxEntrySchema = z.object({
  id: z.string().min(1),
  seq: z.number().int().positive(),
  sink: z.string().min(1),
  state: z.enum(['pending', 'delivered', 'dead']),
  kind: z.string(),
  jobId: z.string().optional(),
  createdAt: z.string(),
  deliveredAt: z.string().optional(),
  lastError: z.object({ code: z.string(), message: z.string(), at: z.string() }).optional(),
  payload: z.unknown(),
});

const jobIdOf = (event: AgentEvent): string | undefined =>
  event.type === 'job.fiscalized' || event.type === 'job.failed' ? event.job.id : undefined;

/**
 * Durable, at-least-once delivery of reports, FIFO per sink, in the `outbox` table. A report is drafted once
 * (its ids fixed) and committed before any delivery is tried, in the same transaction as the job change that
 * caused it; it is retried with backoff and jitter until the sink accepts it, or moved to the dead letter
 * when the sink rejects it for good. Bounded only by disk; nothing but the workers' state is in memory.
 */
export class Outbox {
  private readonly sinks = new Map<string, ReportSink>();
  private readonly workers = new Map<string, Worker>();
  private readonly attempts = new Map<string, number>();
  private readonly lastErrors = new Map<string, NonNullable<OutboxEntry['lastError']>>();
  private running = false;
  /** Draft failures already logged as errors (sink and event), so recovery does not repeat them. */
  private readonly draftFailuresLogged = new Set<string>();
  private readonly options: OutboxOptions;
  private deliveredEffect: DeliveredEffect = () => undefined;

  constructor(
    private readonly db: AgentDatabase,
    private readonly logger: Logger,
    options: Partial<OutboxOptions> = {},
  ) {
    this.options = { ...OUTBOX_DEFAULTS, ...options };
  }

  /** Work that must commit with a delivery (the agent marks the job REPORTED here). */
  onDelivered(effect: DeliveredEffect): void {
    this.deliveredEffect = effect;
  }

  addSink(sink: ReportSink): void {
    if (this.sinks.has(sink.name)) throw new Error(`duplicate sink ${sink.name}`);
    this.sinks.set(sink.name, sink);
    if (this.running) this.startWorker(sink);
  }

  static eventKey(event: AgentEvent): string {
    switch (event.type) {
      case 'job.fiscalized':
        return `${event.type}:${event.job.id}`;
      case 'job.failed':
        // A job can fail again after a person resubmitted it: each failure is its own event.
        return `${event.type}:${event.job.id}:${event.job.failure?.at ?? ''}`;
      case 'shift.opened':
      case 'shift.closed':
        return `${event.type}:${event.deviceId}:${event.shift.shiftNumber}:${event.shift.fiscalDocumentNumber ?? ''}`;
    }
  }

  private fromRow(row: OutboxRow): OutboxEntry {
    const fail = (reason: string): never => {
      throw new StoreRecordError(this.db.path, 'outbox', row.seq, reason);
    };
    let payload: unknown;
    let lastError: unknown;
    try {
      payload = JSON.parse(row.payload);
      lastError = row.last_error === null ? undefined : JSON.parse(row.last_error);
    } catch (error) {
      return fail(`not JSON (${errorMessage(error)})`);
    }
    try {
      return parseWithSchema(outboxEntrySchema, {
        id: row.id,
        seq: row.seq,
        sink: row.sink,
        state: row.state,
        kind: row.kind,
        jobId: row.job_id ?? undefined,
        createdAt: row.created_at,
        deliveredAt: row.delivered_at ?? undefined,
        lastError,
        payload,
      }) as OutboxEntry;
    } catch (error) {
      return fail(errorMessage(error));
    }
  }

  private select(where: string, ...params: unknown[]): OutboxEntry[] {
    const rows = this.db.read(
      () => this.db.statement(`SELECT ${COLUMNS} FROM outbox ${where}`).all(...params) as OutboxRow[],
    );
    return rows.map((row) => this.fromRow(row));
  }

  /** Inserts an entry as it was (the journal import), keeping its id and FIFO position. */
  static insertImported(db: AgentDatabase, entry: OutboxEntry): void {
    const valid = parseWithSchema(outboxEntrySchema, entry);
    db.statement(
      `INSERT INTO outbox (${COLUMNS}) VALUES (@seq, @id, @sink, @state, @jobId, @kind, @createdAt, @deliveredAt, @lastError, @payload)`,
    ).run({
      ...valid,
      jobId: valid.jobId ?? null,
      deliveredAt: valid.deliveredAt ?? null,
      lastError: valid.lastError === undefined ? null : JSON.stringify(valid.lastError),
      payload: JSON.stringify(valid.payload ?? null),
    });
  }

  /** Inserts a draft marker as it was (the journal import). */
  static insertImportedMarker(
    db: AgentDatabase,
    marker: { event: string; at: string; jobId?: string },
  ): void {
    db.statement('INSERT INTO outbox_drafts (event, at, job_id) VALUES (?, ?, ?)').run(
      marker.event,
      marker.at,
      marker.jobId ?? null,
    );
  }

  /**
   * The event's draft marker: absent before its drafts were committed; `undrafted` names the sinks whose
   * draft failed (the others' reports were committed), which recovery drafts again, alone.
   */
  private marker(eventKey: string): { at: string; undrafted: string[] } | undefined {
    const row = this.db.read(() =>
      this.db.statement('SELECT at, undrafted FROM outbox_drafts WHERE event = ?').get(eventKey),
    ) as { at: string; undrafted: string | null } | undefined;
    if (row === undefined) return undefined;
    return { at: row.at, undrafted: row.undrafted === null ? [] : (JSON.parse(row.undrafted) as string[]) };
  }

  /** True when every sink's drafts of this event were committed. */
  published(event: AgentEvent): boolean {
    const marker = this.marker(Outbox.eventKey(event));
    return marker !== undefined && marker.undrafted.length === 0;
  }

  /**
   * Drafts the reports of an event for every sink and commits them with a marker, in one transaction: its
   * own, or the one it is called in (a job change). A sink whose draft fails does not hold the others back
   * (issue 18.4): their reports are committed, the marker names it, and a later call (recovery) drafts for
   * it alone; until then the event is not published and its job not REPORTED. Idempotent. Returns the new
   * entries.
   */
  async publish(event: AgentEvent): Promise<OutboxEntry[]> {
    return this.draftNow(event);
  }

  /** Inside the transaction of a job change: drafts its reports so they commit with it. */
  draftWithin(event: AgentEvent): void {
    this.draftNow(event);
  }

  private draftNow(event: AgentEvent): OutboxEntry[] {
    const eventKey = Outbox.eventKey(event);
    const earlier = this.marker(eventKey);
    if (earlier !== undefined && earlier.undrafted.length === 0) return [];
    // A sink named by an earlier marker but no longer configured has nobody left to report to.
    const sinks = earlier
      ? earlier.undrafted.flatMap((name) => this.sinks.get(name) ?? [])
      : [...this.sinks.values()];
    const now = new Date().toISOString();
    const drafts: Array<[ReportSink, OutboxDraft[]]> = [];
    const undrafted: string[] = [];
    for (const sink of sinks) {
      try {
        drafts.push([sink, sink.draft(event)]);
      } catch (error) {
        undrafted.push(sink.name);
        this.logDraftFailure(sink.name, eventKey, error);
      }
    }
    if (earlier !== undefined && drafts.length === 0 && undrafted.length === earlier.undrafted.length)
      return [];
    return this.db.write('outbox-publish', () => {
      const entries: OutboxEntry[] = [];
      const insert = this.db.statement(
        `INSERT INTO outbox (id, sink, state, job_id, kind, created_at, payload) VALUES (?, ?, 'pending', ?, ?, ?, ?)
         ON CONFLICT (id) DO NOTHING`,
      );
      for (const [sink, list] of drafts) {
        for (const [index, draft] of list.entries()) {
          // Named by the event and the sink, like the ids inside the report: an event drafted again (a store
          // rebuilt from the register) gets the same id, and an entry still kept under it is not doubled.
          const id = reportId(eventKey, sink.name, draft.kind, String(index));
          const payload = JSON.stringify(draft.payload ?? null);
          const { lastInsertRowid, changes } = insert.run(
            id,
            sink.name,
            draft.jobId ?? null,
            draft.kind,
            now,
            payload,
          );
          if (changes === 0) continue;
          entries.push({
            kind: draft.kind,
            jobId: draft.jobId,
            payload: JSON.parse(payload),
            id,
            seq: Number(lastInsertRowid),
            sink: sink.name,
            state: 'pending',
            createdAt: now,
          });
        }
      }
      this.db
        .statement(
          `INSERT INTO outbox_drafts (event, at, job_id, undrafted) VALUES (?, ?, ?, ?)
           ON CONFLICT (event) DO UPDATE SET undrafted = excluded.undrafted`,
        )
        .run(
          eventKey,
          earlier?.at ?? now,
          jobIdOf(event) ?? null,
          undrafted.length > 0 ? JSON.stringify(undrafted) : null,
        );
      this.db.afterCommit(() => {
        // Sinks that keep state (MoySklad's shift registry) record what is now durable, in publish order.
        for (const [sink, list] of drafts) {
          try {
            sink.recorded?.(event, list);
          } catch (error) {
            this.logger.error({
              event: 'outbox.record-failed',
              sink: sink.name,
              on: eventKey,
              reason: errorMessage(error),
            });
          }
        }
        for (const sink of new Set(entries.map((entry) => entry.sink))) {
          const worker = this.workers.get(sink);
          if (worker && !worker.backingOff) worker.wake();
        }
      });
      return entries;
    });
  }

  /** Entries, oldest first; `limit` keeps the newest that many. */
  entries(
    filter: { sink?: string; state?: OutboxEntry['state']; jobId?: string; limit?: number } = {},
  ): OutboxEntry[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.jobId !== undefined) {
      where.push('job_id = ?');
      params.push(filter.jobId);
    }
    if (filter.sink !== undefined) {
      where.push('sink = ?');
      params.push(filter.sink);
    }
    if (filter.state !== undefined) {
      where.push('state = ?');
      params.push(filter.state);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    if (filter.limit === undefined) return this.select(`${clause} ORDER BY seq`, ...params);
    return this.select(`${clause} ORDER BY seq DESC LIMIT ?`, ...params, filter.limit).reverse();
  }

  sinkStats(): Record<string, SinkStats> {
    const stats: Record<string, SinkStats> = {};
    const of = (sink: string) => {
      stats[sink] ??= { pending: 0, dead: 0, delivered: 0, attempts: 0 };
      return stats[sink];
    };
    for (const name of this.sinks.keys()) of(name);
    // Counts kept by triggers (schema version 7): reading them never touches the outbox's rows.
    const rows = this.db.read(
      () =>
        this.db.statement('SELECT sink, state, n FROM outbox_counts WHERE n > 0').all() as Array<{
          sink: string;
          state: OutboxEntry['state'];
          n: number;
        }>,
    );
    for (const row of rows) of(row.sink)[row.state] = row.n;
    for (const [id, attempts] of this.attempts) {
      const sink = this.sinkOfPending(id);
      if (sink !== undefined) of(sink).attempts += attempts;
    }
    for (const [name, s] of Object.entries(stats)) {
      if (s.pending === 0) continue;
      // A sink's queue is FIFO: its head is its oldest pending entry.
      const head = this.head(name);
      if (head) s.oldestPendingAt = head.createdAt;
      const lastError = head && (this.lastErrors.get(head.id) ?? head.lastError);
      if (lastError) s.lastError = lastError;
    }
    return stats;
  }

  private sinkOfPending(id: string): string | undefined {
    return this.db.read(
      () =>
        this.db.statement("SELECT sink FROM outbox WHERE id = ? AND state = 'pending'").pluck().get(id) as
          | string
          | undefined,
    );
  }

  /** The oldest pending entry of a sink: the head of its queue. */
  private head(sink: string): OutboxEntry | undefined {
    return this.select("WHERE sink = ? AND state = 'pending' ORDER BY seq LIMIT 1", sink)[0];
  }

  /** Moves dead entries (all, a sink's, or given ids) back to pending. Returns how many moved. */
  async retry(filter: { sink?: string; ids?: string[] } = {}): Promise<number> {
    const dead = this.entries({ state: 'dead', sink: filter.sink }).filter(
      (e) => !filter.ids || filter.ids.includes(e.id),
    );
    if (dead.length > 0) {
      this.db.write('outbox-retry', () => {
        const revive = this.db.statement(
          "UPDATE outbox SET state = 'pending' WHERE id = ? AND state = 'dead'",
        );
        for (const entry of dead) revive.run(entry.id);
      });
    }
    // Pending entries waiting out a backoff are retried now too.
    for (const worker of this.workers.values()) worker.wake();
    return dead.length;
  }

  start(): void {
    this.running = true;
    for (const sink of this.sinks.values()) this.startWorker(sink);
  }

  async stop(): Promise<void> {
    this.running = false;
    const done: Promise<void>[] = [];
    for (const worker of this.workers.values()) {
      worker.stopped = true;
      worker.wake();
      done.push(worker.done);
    }
    await Promise.all(done);
    this.workers.clear();
  }

  private startWorker(sink: ReportSink): void {
    if (this.workers.has(sink.name)) return;
    let wakeSleeper: () => void = () => undefined;
    const worker: Worker = {
      stopped: false,
      backingOff: false,
      wake: () => wakeSleeper(),
      done: Promise.resolve(),
    };
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        if (worker.stopped) {
          resolve();
          return;
        }
        const timer = setTimeout(resolve, ms);
        wakeSleeper = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    worker.done = (async () => {
      let failures = 0;
      while (!worker.stopped) {
        let waitMs: number;
        let headId: string | undefined;
        try {
          const head = this.head(sink.name);
          if (head === undefined) {
            await sleep(60_000);
            continue;
          }
          headId = head.id;
          const result = await this.attempt(sink, head);
          if (result.kind !== 'retry') {
            failures = 0;
            continue;
          }
          failures++;
          waitMs = this.delayAfterFailure(failures, result.retryAfterMs);
        } catch (error) {
          // The store refused a write or a read (disk full?): the entry stays pending; try again later.
          failures++;
          waitMs = this.delayAfterFailure(failures);
          this.logger.error({
            event: 'outbox.store-failed',
            sink: sink.name,
            entry: headId,
            reason: errorMessage(error),
          });
        }
        worker.backingOff = true;
        await sleep(waitMs);
        worker.backingOff = false;
      }
    })();
    this.workers.set(sink.name, worker);
  }

  /** Exponential backoff with jitter, or the server's hint kept within the configured bounds. */
  private delayAfterFailure(failures: number, retryAfterMs?: number): number {
    if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs)) {
      return Math.min(
        Math.max(retryAfterMs, this.options.initialBackoffMs),
        this.options.maxBackoffMs,
        MAX_TIMER_MS,
      );
    }
    // Jitter at the cap too: spreads a fleet's retries after a long cloud outage.
    const delayMs = jitteredBackoffMs(failures - 1, {
      firstDelayMs: this.options.initialBackoffMs,
      maxDelayMs: this.options.maxBackoffMs,
    });
    return Math.min(delayMs, MAX_TIMER_MS);
  }

  private async attempt(sink: ReportSink, entry: OutboxEntry): Promise<AttemptResult> {
    this.attempts.set(entry.id, (this.attempts.get(entry.id) ?? 0) + 1);
    try {
      await sink.deliver(entry);
    } catch (error) {
      const delivery =
        error instanceof DeliveryError
          ? error
          : new DeliveryError('DELIVERY_FAILED', errorMessage(error), { permanent: false, cause: error });
      const lastError = { code: delivery.code, message: delivery.message, at: new Date().toISOString() };
      if (delivery.permanent) {
        this.db.write('outbox-dead', () => {
          this.db
            .statement("UPDATE outbox SET state = 'dead', last_error = ? WHERE id = ?")
            .run(JSON.stringify(lastError), entry.id);
        });
        this.forget(entry.id);
        this.logger.error({
          event: 'outbox.dead-letter',
          sink: sink.name,
          entry: entry.id,
          job: entry.jobId,
          code: delivery.code,
        });
        return { kind: 'dead' };
      }
      // Kept in memory only: writing every failed attempt would wear the SD card during a long outage.
      this.lastErrors.set(entry.id, lastError);
      this.logger.warn({
        event: 'outbox.retry',
        sink: sink.name,
        entry: entry.id,
        attempt: this.attempts.get(entry.id),
        code: delivery.code,
      });
      return { kind: 'retry', retryAfterMs: delivery.retryAfterMs };
    }
    const delivered: OutboxEntry = { ...entry, state: 'delivered', deliveredAt: new Date().toISOString() };
    // Not fsync'd: a delivery lost in a power cut is sent again with the same ids, which every sink takes
    // as the same report (the kill point store:outbox-delivered:before proves it). docs/storage.md.
    this.db.write(
      'outbox-delivered',
      () => {
        this.db
          .statement("UPDATE outbox SET state = 'delivered', delivered_at = ? WHERE id = ?")
          .run(delivered.deliveredAt, entry.id);
        this.deliveredEffect(delivered);
      },
      { durable: false },
    );
    this.forget(entry.id);
    this.logger.info({
      event: 'outbox.delivered',
      sink: sink.name,
      entry: entry.id,
      job: entry.jobId,
      kind: entry.kind,
    });
    return { kind: 'delivered' };
  }

  private forget(id: string): void {
    this.attempts.delete(id);
    this.lastErrors.delete(id);
  }

  /** An error the first time a sink cannot draft an event; recovery's later tries are quiet (debug). */
  private logDraftFailure(sink: string, eventKey: string, error: unknown): void {
    const key = `${sink} ${eventKey}`;
    const first = !this.draftFailuresLogged.has(key);
    this.draftFailuresLogged.add(key);
    this.logger[first ? 'error' : 'debug']({
      event: 'outbox.draft-failed',
      sink,
      on: eventKey,
      reason: errorMessage(error),
    });
  }

  /**
   * True when every sink drafted its reports of the job's receipt and every one of them is delivered (also
   * when it has none).
   */
  allDelivered(jobId: string): boolean {
    if ((this.marker(`job.fiscalized:${jobId}`)?.undrafted.length ?? 0) > 0) return false;
    const undelivered = this.db.read(() =>
      this.db
        .statement("SELECT count(*) FROM outbox WHERE job_id = ? AND state <> 'delivered'")
        .pluck()
        .get(jobId),
    );
    return Number(undelivered) === 0;
  }

  /**
   * Retention: deletes delivered entries past `retainDeliveredDays`, and old draft markers none of whose
   * entries remain (recovery only re-drafts recent jobs). Batches of `batchSize`, one transaction each.
   */
  async deleteDelivered(now = Date.now(), batchSize = 500): Promise<number> {
    const cutoff = new Date(now - this.options.retainDeliveredDays * DAY_MS).toISOString();
    let deleted = 0;
    for (;;) {
      const changes = this.db.write('outbox-retention', () => {
        const entries = this.db
          .statement(
            `DELETE FROM outbox WHERE seq IN (
               SELECT seq FROM outbox WHERE state = 'delivered' AND delivered_at < ? LIMIT ?)`,
          )
          .run(cutoff, batchSize).changes;
        const markers = this.db
          .statement(
            `DELETE FROM outbox_drafts WHERE event IN (
               SELECT event FROM outbox_drafts d WHERE at < ? AND undrafted IS NULL
                 AND (job_id IS NULL OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.job_id = d.job_id))
               LIMIT ?)`,
          )
          .run(cutoff, batchSize).changes;
        deleted += entries;
        return entries + markers;
      });
      if (changes === 0) return deleted;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
