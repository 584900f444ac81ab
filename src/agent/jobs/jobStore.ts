import { EventEmitter } from 'node:events';
import { KktAgentError } from '../../lib/errors.js';
import { parseWithSchema } from '../../lib/json.js';
import type { AgentDatabase } from '../store/database.js';
import { StoreRecordError } from '../store/storeErrors.js';
import {
  type BillKey,
  billKeyString,
  isTerminal,
  JOB_STATES,
  type Job,
  type JobOperation,
  type JobState,
} from './job.js';
import { jobSchema } from './jobSchema.js';
import { type JobLinkInput, recheckLedgerLinks, writeLinks } from './links.js';

/**
 * Which state may follow which. A reconcile may send PRINTING back to RECEIVED (nothing was printed); a
 * receipt found on the register by the job's marker takes a RECEIVED job straight to FISCALIZED.
 */
const TRANSITIONS: Record<JobState, readonly JobState[]> = {
  RECEIVED: ['PRINTING', 'FISCALIZED', 'FAILED', 'BLOCKED', 'RECEIVED'],
  PRINTING: ['FISCALIZED', 'FAILED', 'BLOCKED', 'RECEIVED'],
  FISCALIZED: ['REPORTED'],
  REPORTED: [],
  FAILED: ['RECEIVED', 'FAILED'],
  // BLOCKED → BLOCKED: a job blocked because the register could not be asked learns a new reason.
  BLOCKED: ['FISCALIZED', 'RECEIVED', 'FAILED', 'BLOCKED'],
};

const UNFINISHED: readonly JobState[] = JOB_STATES.filter((state) => !isTerminal(state));

export class IllegalTransitionError extends KktAgentError {
  constructor(jobId: string, from: JobState, to: JobState) {
    super('JOB_ILLEGAL_TRANSITION', `Job ${jobId} cannot go from ${from} to ${to}.`, { jobId, from, to });
  }
}

export class JobNotFoundError extends KktAgentError {
  constructor(jobId: string) {
    super('JOB_NOT_FOUND', `No job ${jobId}.`, { jobId });
  }
}

export interface JobStoreEvents {
  changed: [job: Job, previous: JobState | undefined];
}

/** Called inside the transaction that writes a job: what it writes commits (or fails) with the job. */
export type JobWriteEffect = (job: Job, previous: JobState | undefined) => void;

export type JobPatch = Partial<Omit<Job, 'id' | 'key' | 'seq' | 'state'>>;

interface JobRow {
  seq: number;
  id: string;
  source: string;
  account: string;
  bill_id: string;
  state: string;
  device_id: string;
  updated_at: string;
  job: string;
  /** From `job_details`: the bill and the print anchor, until retention deletes them. */
  details: string | null;
}

const JOB_COLUMNS = ['seq', 'id', 'source', 'account', 'bill_id', 'state', 'device_id', 'updated_at', 'job'];
const SELECT_JOBS = `SELECT ${JOB_COLUMNS.map((column) => `j.${column}`).join(', ')}, d.details
  FROM jobs j LEFT JOIN job_details d ON d.seq = j.seq`;
/** Listings: the lasting record only. */
const SELECT_RECORDS = `SELECT ${JOB_COLUMNS.map((column) => `j.${column}`).join(', ')}, NULL AS details FROM jobs j`;

/** Frozen so a caller cannot change a cached job without a write. */
function deepFreeze<V>(value: V): V {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** The rows of a job: columns for what is queried, JSON for the rest, no fact stored twice. */
function encodeJob(job: Job): JobRow {
  let valid: Job;
  try {
    valid = parseWithSchema(jobSchema, JSON.parse(JSON.stringify(job)));
  } catch (error) {
    throw new KktAgentError('JOB_INVALID', `Refused to store job ${job.id}: ${(error as Error).message}`, {
      jobId: job.id,
    });
  }
  const { id, key, seq, state, deviceId, updatedAt, bill, printing, summary, ...rest } = valid;
  const { source, account, billId, ...summaryRest } = summary;
  if (key !== billKeyString(summary)) {
    throw new KktAgentError(
      'JOB_INVALID',
      `Job ${id}: its key ${key} is not its bill's (source/account/billId).`,
      {
        jobId: id,
      },
    );
  }
  return {
    seq,
    id,
    source,
    account,
    bill_id: billId,
    state,
    device_id: deviceId,
    updated_at: updatedAt,
    job: JSON.stringify({ ...rest, summary: summaryRest }),
    // What only the print needs, apart from the lasting record so retention can delete it whole.
    details: bill === undefined && printing === undefined ? null : JSON.stringify({ bill, printing }),
  };
}

/** Writes both rows of a job (its details row deleted when it has none). */
function writeJob(db: AgentDatabase, row: JobRow, insert: boolean): void {
  if (insert) {
    db.statement(
      `INSERT INTO jobs (${JOB_COLUMNS.join(', ')}) VALUES (${JOB_COLUMNS.map((column) => `@${column}`).join(', ')})`,
    ).run({ ...row, details: undefined });
  } else {
    db.statement(
      'UPDATE jobs SET state = @state, device_id = @device_id, updated_at = @updated_at, job = @job WHERE seq = @seq',
    ).run({
      seq: row.seq,
      state: row.state,
      device_id: row.device_id,
      updated_at: row.updated_at,
      job: row.job,
    });
  }
  if (row.details === null) db.statement('DELETE FROM job_details WHERE seq = ?').run(row.seq);
  else
    db.statement(
      'INSERT INTO job_details (seq, details) VALUES (?, ?) ON CONFLICT (seq) DO UPDATE SET details = excluded.details',
    ).run(row.seq, row.details);
}

/**
 * The jobs table (docs/storage.md). Every change is one transaction, committed (fsync) before anything acts
 * on it; the bill key (source, account, bill id) is UNIQUE, which is the deduplication. Unfinished jobs are
 * kept in memory (the fiscalizer asks for them all the time); finished ones are read when asked for, so
 * memory and start-up do not grow with history.
 */
export class JobStore extends EventEmitter<JobStoreEvents> {
  private readonly unfinished = new Map<string, Job>();
  private lastSeq: number;
  private effect: JobWriteEffect = () => undefined;

  constructor(private readonly db: AgentDatabase) {
    super();
    const rows = db.read(
      () =>
        db
          .statement(
            `${SELECT_JOBS} WHERE j.state IN (${UNFINISHED.map(() => '?').join(', ')}) ORDER BY j.seq`,
          )
          .all(...UNFINISHED) as JobRow[],
    );
    // Every job the agent will act on is validated here, before anything starts.
    for (const row of rows) this.unfinished.set(row.id, deepFreeze(this.fromRow(row)));
    this.lastSeq = Number(db.read(() => db.statement('SELECT max(seq) FROM jobs').pluck().get()) ?? 0);
  }

  /** Work that must commit with a job change (the outbox drafts its reports here). */
  onWrite(effect: JobWriteEffect): void {
    this.effect = effect;
  }

  private fromRow(row: JobRow): Job {
    const fail = (reason: string): never => {
      throw new StoreRecordError(this.db.path, 'jobs', row.seq, reason);
    };
    let rest: Record<string, unknown>;
    let details: Record<string, unknown>;
    try {
      rest = JSON.parse(row.job) as Record<string, unknown>;
      details = row.details === null ? {} : (JSON.parse(row.details) as Record<string, unknown>);
    } catch (error) {
      return fail(`not JSON (${(error as Error).message})`);
    }
    const summary = (
      typeof rest['summary'] === 'object' && rest['summary'] !== null ? rest['summary'] : {}
    ) as Record<string, unknown>;
    const job = {
      ...rest,
      id: row.id,
      key: billKeyString({ source: row.source, account: row.account, billId: row.bill_id }),
      seq: row.seq,
      state: row.state,
      deviceId: row.device_id,
      updatedAt: row.updated_at,
      summary: { source: row.source, account: row.account, billId: row.bill_id, ...summary },
      ...(details['bill'] === undefined ? {} : { bill: details['bill'] }),
      ...(details['printing'] === undefined ? {} : { printing: details['printing'] }),
    };
    try {
      return parseWithSchema(jobSchema, job);
    } catch (error) {
      return fail((error as Error).message);
    }
  }

  private selectOne(where: string, ...params: unknown[]): Job | undefined {
    const row = this.db.read(
      () => this.db.statement(`${SELECT_JOBS} WHERE ${where}`).get(...params) as JobRow | undefined,
    );
    return row === undefined ? undefined : this.fromRow(row);
  }

  private selectMany(sql: string, ...params: unknown[]): Job[] {
    const rows = this.db.read(() => this.db.statement(sql).all(...params) as JobRow[]);
    return rows.map((row) => this.fromRow(row));
  }

  get(id: string): Job | undefined {
    return this.unfinished.get(id) ?? this.selectOne('j.id = ?', id);
  }

  require(id: string): Job {
    const job = this.get(id);
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  /** The job of a bill, found by the UNIQUE (source, account, bill id) key. */
  findByBill(key: BillKey): Job | undefined {
    return this.selectOne(
      'j.source = ? AND j.account = ? AND j.bill_id = ?',
      key.source,
      key.account,
      key.billId,
    );
  }

  nextSeq(): number {
    return this.lastSeq + 1;
  }

  /** Every job, oldest first: reads the whole table (the demo and tests; never the running agent's paths). */
  all(): Job[] {
    return this.selectMany(`${SELECT_JOBS} ORDER BY j.seq`);
  }

  /** The newest `limit` jobs (in one state, if given), oldest first, without their bills: for listings. */
  latest(limit: number, state?: JobState): Job[] {
    const rows = state
      ? this.selectMany(`${SELECT_RECORDS} WHERE j.state = ? ORDER BY j.seq DESC LIMIT ?`, state, limit)
      : this.selectMany(`${SELECT_RECORDS} ORDER BY j.seq DESC LIMIT ?`, limit);
    return rows.reverse();
  }

  /** Jobs in the given states, oldest first. Unfinished states come from memory: the fiscalizer asks often. */
  inState(...states: JobState[]): Job[] {
    const jobs: Job[] = [];
    for (const state of states) {
      if (isTerminal(state)) {
        jobs.push(...this.selectMany(`${SELECT_JOBS} WHERE j.state = ? ORDER BY j.seq`, state));
      } else {
        for (const job of this.unfinished.values()) if (job.state === state) jobs.push(job);
      }
    }
    return jobs.sort((a, b) => a.seq - b.seq);
  }

  /** FAILED jobs that changed at or after `sinceIso` (what draft recovery looks at). */
  failedSince(sinceIso: string): Job[] {
    return this.selectMany(
      `${SELECT_JOBS} WHERE j.state = 'FAILED' AND j.updated_at >= ? ORDER BY j.seq`,
      sinceIso,
    );
  }

  countByState(): Record<JobState, number> {
    const counts = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>;
    const rows = this.db.read(
      () =>
        this.db.statement('SELECT state, n FROM job_counts').all() as Array<{ state: JobState; n: number }>,
    );
    for (const { state, n } of rows) counts[state] = n;
    return counts;
  }

  /** Jobs per receipt kind (kept by triggers: status never counts years of rows). */
  countByKind(): Partial<Record<JobOperation, number>> {
    const rows = this.db.read(
      () =>
        this.db.statement('SELECT kind, n FROM job_kind_counts WHERE n > 0').all() as Array<{
          kind: JobOperation;
          n: number;
        }>,
    );
    return Object.fromEntries(rows.map(({ kind, n }) => [kind, n]));
  }

  /**
   * Inserts a job as it was (the journal import): no effects, no events. Call inside the import's
   * transaction, before a JobStore is constructed on the database.
   */
  static insertImported(db: AgentDatabase, job: Job): void {
    writeJob(db, encodeJob(job), true);
  }

  /**
   * Stores a new job, and its links (a return's sale, an order's ledger), in its own transaction. Refuses a
   * second job for the same bill (callers check first), and a link that would take more than its target
   * holds (`LinkLimitError`): checked and written in the same transaction, so racing requests cannot both pass.
   */
  async create(job: Job, links: readonly JobLinkInput[] = []): Promise<Job> {
    const row = encodeJob(job);
    this.db.write(`job-${job.state}`, () => {
      if (this.findByBill(job.summary))
        throw new KktAgentError('JOB_DUPLICATE', `A job for ${job.key} already exists.`);
      writeJob(this.db, row, true);
      if (links.length > 0) writeLinks(this.db, job.id, links);
      this.effect(job, undefined);
      this.db.afterCommit(() => this.committed(job, undefined));
    });
    return job;
  }

  /**
   * Moves a job to a new state with a patch, committed (fsync) before it returns. `from` names the states
   * the caller decided on; when the job has moved on meanwhile, nothing is written. The check and the
   * write are one synchronous transaction, so two decisions on one job can never both act on a stale state.
   */
  async transition(
    id: string,
    to: JobState,
    patch: JobPatch = {},
    from?: readonly JobState[],
    links?: readonly JobLinkInput[],
  ): Promise<Job> {
    return this.transitionNow(id, to, patch, from, links);
  }

  /**
   * `transition`, synchronously: inside another store write it joins that transaction. `links` replace the
   * job's links (a FAILED bill asked for again); a job leaving FAILED without new links has its order
   * links checked again, since what they draw on may have been taken while it was failed.
   */
  transitionNow(
    id: string,
    to: JobState,
    patch: JobPatch = {},
    from?: readonly JobState[],
    links?: readonly JobLinkInput[],
  ): Job {
    return this.db.write(`job-${to}`, () => {
      const current = this.require(id);
      if (from && !from.includes(current.state)) throw new IllegalTransitionError(id, current.state, to);
      if (!TRANSITIONS[current.state].includes(to)) throw new IllegalTransitionError(id, current.state, to);
      const next: Job = { ...current, ...patch, state: to, updatedAt: new Date().toISOString() };
      writeJob(this.db, encodeJob(next), false);
      if (links) writeLinks(this.db, id, links);
      else if (current.state === 'FAILED' && to !== 'FAILED') recheckLedgerLinks(this.db, id);
      this.effect(next, current.state);
      this.db.afterCommit(() => this.committed(next, current.state));
      return next;
    });
  }

  /** Memory follows the disk: only after the commit. */
  private committed(job: Job, previous: JobState | undefined): void {
    this.lastSeq = Math.max(this.lastSeq, job.seq);
    if (isTerminal(job.state)) this.unfinished.delete(job.id);
    else this.unfinished.set(job.id, deepFreeze(job));
    this.emit('changed', job, previous);
  }

  /**
   * Retention: finished jobs older than `retainMs` lose their details (the bill, the print anchor): the
   * rows of `job_details` are deleted whole. The lasting record (key, state, summary, the fiscal document's
   * number, sign, time and FN) stays for deduplication and the technician, so a bill reported months ago
   * never prints again. Batches of `batchSize`, one transaction each, yielding between them.
   */
  async slimFinished(retainMs: number, now = Date.now(), batchSize = 500): Promise<{ slimmed: number }> {
    const cutoff = new Date(now - retainMs).toISOString();
    let slimmed = 0;
    for (;;) {
      const changed = this.db.write(
        'job-retention',
        () =>
          this.db
            .statement(
              `DELETE FROM job_details WHERE seq IN (
                 SELECT d.seq FROM job_details d JOIN jobs j ON j.seq = d.seq
                 WHERE j.state IN ('REPORTED', 'FAILED') AND j.updated_at < ? LIMIT ?)`,
            )
            .run(cutoff, batchSize).changes,
      );
      slimmed += changed;
      if (changed < batchSize) return { slimmed };
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
