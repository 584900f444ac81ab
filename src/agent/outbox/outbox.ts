import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { jitteredBackoffMs } from '../../lib/backoff.js';
import { errorMessage } from '../../lib/errors.js';
import type { AgentEvent, OutboxDraft, OutboxEntry, ReportSink } from '../connectors/types.js';
import { crashPoint } from '../crashPoints.js';
import { JsonlJournal } from '../store/journal.js';
import { DeliveryError } from './deliveryError.js';

export interface OutboxOptions {
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Delivered entries older than this are dropped at compaction. */
  retainDeliveredMs: number;
  fsync: boolean;
}

export const DEFAULT_OUTBOX_OPTIONS: OutboxOptions = {
  initialBackoffMs: 1000,
  maxBackoffMs: 5 * 60_000,
  retainDeliveredMs: 7 * 24 * 3600_000,
  fsync: true,
};

/** setTimeout fires at once for delays past 2^31 − 1 ms: a server's Retry-After must never reach that. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Marks that an event's drafts were made (even when no sink wanted it), so recovery never drafts twice. */
interface DraftMarker {
  marker: true;
  event: string;
  at: string;
  jobId?: string;
  /**
   * Sinks whose draft failed: the other sinks' reports are journaled and go out; these are drafted again
   * by recovery, and the event counts as published (its job as reported) only once none is left.
   */
  undrafted?: string[];
}

type Record_ = OutboxEntry | DraftMarker;
const isEntry = (r: Record_): r is OutboxEntry => !('marker' in r);

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

const jobIdOf = (event: AgentEvent): string | undefined =>
  event.type === 'job.fiscalized' || event.type === 'job.failed' ? event.job.id : undefined;

/**
 * Durable, at-least-once delivery of reports, FIFO per sink. A report is drafted once (its ids fixed) and
 * journaled before any delivery is tried; it is retried with backoff and jitter until the sink accepts it,
 * or moved to the dead letter when the sink rejects it for good. Bounded only by disk.
 */
export class Outbox {
  private readonly sinks = new Map<string, ReportSink>();
  private readonly workers = new Map<string, Worker>();
  private readonly attempts = new Map<string, number>();
  private readonly lastErrors = new Map<string, NonNullable<OutboxEntry['lastError']>>();
  /** Pending entry ids per sink, oldest first: the delivery queues. */
  private readonly pending = new Map<string, string[]>();
  /** Entry ids per job, so "are all of this job's reports delivered?" costs no scan. */
  private readonly byJob = new Map<string, Set<string>>();
  /** Publishes in progress per event: a second caller waits for the first instead of drafting again. */
  private readonly inFlight = new Map<string, Promise<OutboxEntry[]>>();
  private lastSeq = 0;
  private running = false;
  /** Draft failures already logged as errors (sink and event), so recovery does not repeat them. */
  private readonly draftFailuresLogged = new Set<string>();
  private readonly options: OutboxOptions;

  private constructor(
    private readonly journal: JsonlJournal<Record_>,
    private readonly logger: Logger,
    options: Partial<OutboxOptions>,
    /** Called after an entry is delivered (the agent marks jobs REPORTED). */
    private readonly onDelivered: (entry: OutboxEntry) => void,
  ) {
    this.options = { ...DEFAULT_OUTBOX_OPTIONS, ...options };
    const entries = [...journal.entries()].flatMap(([, record]) => (isEntry(record) ? [record] : []));
    entries.sort((a, b) => a.seq - b.seq);
    for (const entry of entries) {
      this.lastSeq = Math.max(this.lastSeq, entry.seq);
      this.index(entry);
    }
  }

  static async open(
    path: string,
    logger: Logger,
    options: Partial<OutboxOptions> = {},
    onDelivered: (entry: OutboxEntry) => void = () => undefined,
  ): Promise<Outbox> {
    const journal = await JsonlJournal.open<Record_>(path, { fsync: options.fsync ?? true });
    return new Outbox(journal, logger, options, onDelivered);
  }

  get stats() {
    return this.journal.stats;
  }

  /** Set while writes to the outbox journal are failing (full disk); see `WriteHealth`. */
  get writeFailure() {
    return this.journal.writeFailure;
  }

  private index(entry: OutboxEntry): void {
    if (entry.jobId) {
      const ids = this.byJob.get(entry.jobId) ?? new Set<string>();
      this.byJob.set(entry.jobId, ids);
      ids.add(entry.id);
    }
    if (entry.state === 'pending') this.queueOf(entry.sink).push(entry.id);
  }

  private queueOf(sink: string): string[] {
    const queue = this.pending.get(sink) ?? [];
    this.pending.set(sink, queue);
    return queue;
  }

  private entry(id: string): OutboxEntry | undefined {
    const record = this.journal.get(id);
    return record && isEntry(record) ? record : undefined;
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

  private marker(key: string): DraftMarker | undefined {
    const record = this.journal.get(key);
    return record && !isEntry(record) ? record : undefined;
  }

  /** True when every sink's drafts for this event were journaled. */
  published(event: AgentEvent): boolean {
    const marker = this.marker(`draft:${Outbox.eventKey(event)}`);
    return marker !== undefined && !marker.undrafted?.length;
  }

  /**
   * Drafts the reports of an event for every sink and journals them with a marker in one fsync'd line.
   * A sink whose draft fails does not hold the others back: the marker names it and a later call (recovery)
   * drafts for it alone. Idempotent, also when called again while the first call is still writing. Returns
   * the new entries.
   */
  publish(event: AgentEvent): Promise<OutboxEntry[]> {
    const eventKey = Outbox.eventKey(event);
    const running = this.inFlight.get(eventKey);
    if (running) return running.then(() => []);
    const publishing = this.publishOnce(event, eventKey).finally(() => this.inFlight.delete(eventKey));
    this.inFlight.set(eventKey, publishing);
    return publishing;
  }

  private async publishOnce(event: AgentEvent, eventKey: string): Promise<OutboxEntry[]> {
    const markerKey = `draft:${eventKey}`;
    const earlier = this.marker(markerKey);
    if (earlier && !earlier.undrafted?.length) return [];
    // A sink named by an earlier marker but no longer configured has nobody left to report to.
    const sinks = earlier
      ? (earlier.undrafted ?? []).flatMap((name) => this.sinks.get(name) ?? [])
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
    const unchanged =
      earlier !== undefined && drafts.length === 0 && undrafted.length === earlier.undrafted?.length;
    if (unchanged) return [];
    const entries: OutboxEntry[] = drafts.flatMap(([sink, list]) =>
      list.map((draft) => ({
        ...draft,
        id: randomUUID(),
        seq: ++this.lastSeq,
        sink: sink.name,
        state: 'pending' as const,
        createdAt: now,
      })),
    );
    const records: Array<[string, Record_]> = entries.map((entry) => [entry.id, entry]);
    const marker: DraftMarker = {
      marker: true,
      event: eventKey,
      at: earlier?.at ?? now,
      jobId: jobIdOf(event),
    };
    if (undrafted.length > 0) marker.undrafted = undrafted;
    records.push([markerKey, marker]);
    crashPoint('outbox:publish:before');
    await this.journal.setMany(records);
    crashPoint('outbox:publish:after');
    for (const entry of entries) {
      this.index(entry);
      const worker = this.workers.get(entry.sink);
      if (worker && !worker.backingOff) worker.wake();
    }
    return entries;
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

  entries(filter: { sink?: string; state?: OutboxEntry['state']; jobId?: string } = {}): OutboxEntry[] {
    const candidates = filter.jobId
      ? [...(this.byJob.get(filter.jobId) ?? [])].flatMap((id) => this.entry(id) ?? [])
      : [...this.journal.entries()].flatMap(([, record]) => (isEntry(record) ? [record] : []));
    return candidates
      .filter((e) => (!filter.sink || e.sink === filter.sink) && (!filter.state || e.state === filter.state))
      .sort((a, b) => a.seq - b.seq);
  }

  sinkStats(): Record<string, SinkStats> {
    const stats: Record<string, SinkStats> = {};
    for (const name of this.sinks.keys()) stats[name] = { pending: 0, dead: 0, delivered: 0, attempts: 0 };
    for (const entry of this.entries()) {
      stats[entry.sink] ??= { pending: 0, dead: 0, delivered: 0, attempts: 0 };
      const s = stats[entry.sink]!;
      s[entry.state]++;
      if (entry.state === 'pending') {
        if (!s.oldestPendingAt || entry.createdAt < s.oldestPendingAt) s.oldestPendingAt = entry.createdAt;
        s.attempts += this.attempts.get(entry.id) ?? 0;
        const lastError = this.lastErrors.get(entry.id) ?? entry.lastError;
        if (lastError) s.lastError = lastError;
      }
    }
    return stats;
  }

  /** Moves dead entries (all, a sink's, or given ids) back to pending. Returns how many moved. */
  async retry(filter: { sink?: string; ids?: string[] } = {}): Promise<number> {
    const dead = this.entries({ state: 'dead', sink: filter.sink }).filter(
      (e) => !filter.ids || filter.ids.includes(e.id),
    );
    if (dead.length > 0) {
      await this.journal.setMany(dead.map((e) => [e.id, { ...e, state: 'pending' as const }]));
      for (const entry of dead) {
        const queue = this.queueOf(entry.sink);
        queue.push(entry.id);
        queue.sort((a, b) => (this.entry(a)?.seq ?? 0) - (this.entry(b)?.seq ?? 0));
      }
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

  async close(): Promise<void> {
    await this.stop();
    await this.journal.close();
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
        const headId = this.pending.get(sink.name)?.[0];
        if (headId === undefined) {
          await sleep(60_000);
          continue;
        }
        let waitMs: number;
        try {
          const result = await this.attempt(sink, this.entry(headId)!);
          if (result.kind !== 'retry') {
            failures = 0;
            continue;
          }
          failures++;
          waitMs = this.delayAfterFailure(failures, result.retryAfterMs);
        } catch (error) {
          // The journal refused a write (disk full?): the entry stays pending; try again later.
          failures++;
          waitMs = this.delayAfterFailure(failures);
          this.logger.error({
            event: 'outbox.journal-failed',
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
      cap: 'before-jitter',
    });
    return Math.min(delayMs, MAX_TIMER_MS);
  }

  private dequeue(entry: OutboxEntry): void {
    const queue = this.pending.get(entry.sink);
    const at = queue?.indexOf(entry.id) ?? -1;
    if (queue && at >= 0) queue.splice(at, 1);
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
        await this.journal.set(entry.id, { ...entry, state: 'dead', lastError });
        this.dequeue(entry);
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
    crashPoint('outbox:delivered:before');
    const delivered: OutboxEntry = { ...entry, state: 'delivered', deliveredAt: new Date().toISOString() };
    await this.journal.set(entry.id, delivered);
    this.dequeue(entry);
    this.attempts.delete(entry.id);
    this.lastErrors.delete(entry.id);
    this.logger.info({
      event: 'outbox.delivered',
      sink: sink.name,
      entry: entry.id,
      job: entry.jobId,
      kind: entry.kind,
    });
    this.onDelivered(delivered);
    return { kind: 'delivered' };
  }

  /** True when every sink drafted its reports of the job's receipt and every one of them is delivered. */
  allDelivered(jobId: string): boolean {
    if (this.marker(`draft:job.fiscalized:${jobId}`)?.undrafted?.length) return false;
    const ids = this.byJob.get(jobId);
    if (!ids || ids.size === 0) return true;
    return [...ids].every((id) => this.entry(id)?.state === 'delivered');
  }

  /** Drops delivered entries past retention, and old markers whose entries are all gone; rewrites the journal. */
  async compact(now = Date.now()): Promise<number> {
    const cutoff = now - this.options.retainDeliveredMs;
    const stale = this.entries({ state: 'delivered' }).filter(
      (e) => e.deliveredAt && Date.parse(e.deliveredAt) < cutoff,
    );
    const staleIds = new Set(stale.map((e) => e.id));
    // Recovery only re-drafts recent jobs, so an old marker may go once none of its entries remain.
    const staleMarkers: string[] = [];
    for (const [key, record] of this.journal.entries()) {
      // A marker naming undrafted sinks is all that keeps the other sinks from being drafted again.
      if (isEntry(record) || Date.parse(record.at) >= cutoff || record.undrafted?.length) continue;
      const remaining = record.jobId
        ? [...(this.byJob.get(record.jobId) ?? [])].filter((id) => !staleIds.has(id))
        : [];
      if (remaining.length === 0) staleMarkers.push(key);
    }
    await this.journal.deleteMany([...staleIds, ...staleMarkers]);
    for (const entry of stale) {
      if (entry.jobId) this.byJob.get(entry.jobId)?.delete(entry.id);
    }
    await this.journal.compact();
    return stale.length;
  }
}
