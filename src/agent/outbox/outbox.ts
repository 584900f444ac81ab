import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
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

/** Marks that an event's drafts were made (even when no sink wanted it), so recovery never drafts twice. */
interface DraftMarker {
  marker: true;
  event: string;
  at: string;
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

/**
 * Durable, at-least-once delivery of reports, FIFO per sink. A report is drafted once (its ids fixed) and
 * journaled before any delivery is tried; it is retried with backoff and jitter until the sink accepts it,
 * or moved to the dead letter when the sink rejects it for good. Bounded only by disk.
 */
export class Outbox {
  private readonly sinks = new Map<string, ReportSink>();
  private readonly workers = new Map<string, { wake: () => void; stopped: boolean; done: Promise<void> }>();
  private readonly attempts = new Map<string, number>();
  private readonly lastErrors = new Map<string, NonNullable<OutboxEntry['lastError']>>();
  private lastSeq = 0;
  private running = false;
  private readonly options: OutboxOptions;

  private constructor(
    private readonly journal: JsonlJournal<Record_>,
    private readonly logger: Logger,
    options: Partial<OutboxOptions>,
    /** Called after an entry is delivered (the agent marks jobs REPORTED). */
    private readonly onDelivered: (entry: OutboxEntry) => void,
  ) {
    this.options = { ...DEFAULT_OUTBOX_OPTIONS, ...options };
    for (const [, record] of journal.entries())
      if (isEntry(record)) this.lastSeq = Math.max(this.lastSeq, record.seq);
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

  addSink(sink: ReportSink): void {
    if (this.sinks.has(sink.name)) throw new Error(`duplicate sink ${sink.name}`);
    this.sinks.set(sink.name, sink);
    if (this.running) this.startWorker(sink);
  }

  static eventKey(event: AgentEvent): string {
    switch (event.type) {
      case 'job.fiscalized':
      case 'job.failed':
        return `${event.type}:${event.job.id}`;
      case 'shift.opened':
      case 'shift.closed':
        return `${event.type}:${event.deviceId}:${event.shift.shiftNumber}:${event.shift.fiscalDocumentNumber ?? ''}`;
    }
  }

  /** True when this event's drafts were already journaled. */
  published(event: AgentEvent): boolean {
    return this.journal.has(`draft:${Outbox.eventKey(event)}`);
  }

  /**
   * Drafts the reports of an event for every sink and journals them with a marker in one fsync'd line.
   * Idempotent: an event already drafted is ignored. Returns the new entries.
   */
  async publish(event: AgentEvent): Promise<OutboxEntry[]> {
    const eventKey = Outbox.eventKey(event);
    const markerKey = `draft:${eventKey}`;
    if (this.journal.has(markerKey)) return [];
    const now = new Date().toISOString();
    // All sinks draft, or nothing is journaled: a marker with a sink's drafts missing would lose its report.
    const drafts: Array<[ReportSink, OutboxDraft[]]> = [];
    for (const sink of this.sinks.values()) {
      try {
        drafts.push([sink, sink.draft(event)]);
      } catch (error) {
        this.logger.error({
          event: 'outbox.draft-failed',
          sink: sink.name,
          on: eventKey,
          reason: errorMessage(error),
        });
        throw error;
      }
    }
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
    records.push([markerKey, { marker: true, event: eventKey, at: now }]);
    crashPoint('outbox:publish:before');
    await this.journal.setMany(records);
    crashPoint('outbox:publish:after');
    for (const entry of entries) this.workers.get(entry.sink)?.wake();
    return entries;
  }

  entries(filter: { sink?: string; state?: OutboxEntry['state']; jobId?: string } = {}): OutboxEntry[] {
    const list: OutboxEntry[] = [];
    for (const [, record] of this.journal.entries()) {
      if (!isEntry(record)) continue;
      if (filter.sink && record.sink !== filter.sink) continue;
      if (filter.state && record.state !== filter.state) continue;
      if (filter.jobId && record.jobId !== filter.jobId) continue;
      list.push(record);
    }
    return list.sort((a, b) => a.seq - b.seq);
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
    if (dead.length === 0) {
      // Pending entries waiting out a backoff are retried now too.
      for (const worker of this.workers.values()) worker.wake();
      return 0;
    }
    await this.journal.setMany(dead.map((e) => [e.id, { ...e, state: 'pending' as const }]));
    for (const entry of dead) this.workers.get(entry.sink)?.wake();
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
    let wake: () => void = () => undefined;
    const worker = { wake: () => wake(), stopped: false, done: Promise.resolve() };
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    worker.done = (async () => {
      let failures = 0;
      while (!worker.stopped) {
        const head = this.entries({ sink: sink.name, state: 'pending' })[0];
        if (!head) {
          await sleep(60_000);
          continue;
        }
        const delay = await this.attempt(sink, head);
        if (delay === 0) {
          failures = 0;
          continue;
        }
        failures++;
        await sleep(delay ?? this.backoff(failures));
      }
    })();
    this.workers.set(sink.name, worker);
  }

  private backoff(failures: number): number {
    const base = Math.min(
      this.options.maxBackoffMs,
      this.options.initialBackoffMs * 2 ** Math.min(failures - 1, 20),
    );
    // Full jitter on the upper half: spreads a fleet's retries after a cloud outage.
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  /** One delivery attempt. 0 = go on at once; a number = wait that long; undefined = normal backoff. */
  private async attempt(sink: ReportSink, entry: OutboxEntry): Promise<number | undefined> {
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
        this.logger.error({
          event: 'outbox.dead-letter',
          sink: sink.name,
          entry: entry.id,
          job: entry.jobId,
          code: delivery.code,
        });
        return 0;
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
      return delivery.retryAfterMs;
    }
    crashPoint('outbox:delivered:before');
    const delivered: OutboxEntry = { ...entry, state: 'delivered', deliveredAt: new Date().toISOString() };
    await this.journal.set(entry.id, delivered);
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
    return 0;
  }

  /** Drops delivered entries past retention, and old markers whose entries are all gone; rewrites the journal. */
  async compact(now = Date.now()): Promise<number> {
    const cutoff = now - this.options.retainDeliveredMs;
    const all = this.entries();
    const stale = all.filter(
      (e) => e.state === 'delivered' && e.deliveredAt && Date.parse(e.deliveredAt) < cutoff,
    );
    const staleIds = new Set(stale.map((e) => e.id));
    // Recovery only re-drafts recent jobs, so an old marker may go once none of its entries remain.
    const jobsWithEntries = new Set(all.filter((e) => !staleIds.has(e.id)).map((e) => e.jobId));
    const staleMarkers: string[] = [];
    for (const [key, record] of this.journal.entries()) {
      if (isEntry(record) || Date.parse(record.at) >= cutoff) continue;
      if (!jobsWithEntries.has(key.split(':').at(-1))) staleMarkers.push(key);
    }
    await this.journal.deleteMany([...staleIds, ...staleMarkers]);
    await this.journal.compact();
    return stale.length;
  }
}
