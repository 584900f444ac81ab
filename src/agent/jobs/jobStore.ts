import { EventEmitter } from 'node:events';
import { KktAgentError } from '../../lib/errors.js';
import { crashPoint } from '../crashPoints.js';
import { JsonlJournal } from '../store/journal.js';
import { isTerminal, JOB_STATES, type Job, type JobState } from './job.js';

/** Which state may follow which. A reconcile may send PRINTING back to RECEIVED (nothing was printed). */
const TRANSITIONS: Record<JobState, readonly JobState[]> = {
  RECEIVED: ['PRINTING', 'FAILED', 'BLOCKED', 'RECEIVED'],
  PRINTING: ['FISCALIZED', 'FAILED', 'BLOCKED', 'RECEIVED'],
  FISCALIZED: ['REPORTED'],
  REPORTED: [],
  FAILED: ['RECEIVED', 'FAILED'],
  BLOCKED: ['FISCALIZED', 'RECEIVED', 'FAILED'],
};

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

/**
 * The journal of jobs, with the indexes the agent needs in memory: by bill key (deduplication), by state.
 * Every change is one fsync'd journal line, written before anything acts on it.
 */
export class JobStore extends EventEmitter<JobStoreEvents> {
  private readonly byKey = new Map<string, string>();
  private lastSeq = 0;
  private serial: Promise<unknown> = Promise.resolve();
  private readonly byState = new Map<JobState, Set<string>>(
    JOB_STATES.map((state) => [state, new Set<string>()]),
  );

  private constructor(private readonly journal: JsonlJournal<Job>) {
    super();
    for (const [, job] of journal.entries()) this.index(job);
  }

  static async open(path: string, options: { fsync?: boolean } = {}): Promise<JobStore> {
    const journal = await JsonlJournal.open<Job>(path, { fsync: options.fsync ?? true });
    return new JobStore(journal);
  }

  get recovery() {
    return this.journal.recovery;
  }

  get stats() {
    return this.journal.stats;
  }

  /** Set while writes to the job journal are failing (full disk); see `WriteHealth`. */
  get writeFailure() {
    return this.journal.writeFailure;
  }

  private index(job: Job, previous?: JobState): void {
    this.byKey.set(job.key, job.id);
    this.lastSeq = Math.max(this.lastSeq, job.seq);
    if (previous !== undefined) this.byState.get(previous)?.delete(job.id);
    this.byState.get(job.state)!.add(job.id);
  }

  get(id: string): Job | undefined {
    return this.journal.get(id);
  }

  require(id: string): Job {
    const job = this.get(id);
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  findByKey(key: string): Job | undefined {
    const id = this.byKey.get(key);
    return id === undefined ? undefined : this.get(id);
  }

  nextSeq(): number {
    return this.lastSeq + 1;
  }

  all(): Job[] {
    return [...this.journal.entries()].map(([, job]) => job).sort((a, b) => a.seq - b.seq);
  }

  /** Jobs in the given states, oldest first. Reads only those states' jobs: the fiscalizer asks often. */
  inState(...states: JobState[]): Job[] {
    const jobs: Job[] = [];
    for (const state of states) for (const id of this.byState.get(state)!) jobs.push(this.journal.get(id)!);
    return jobs.sort((a, b) => a.seq - b.seq);
  }

  countByState(): Record<JobState, number> {
    return Object.fromEntries(JOB_STATES.map((state) => [state, this.byState.get(state)!.size])) as Record<
      JobState,
      number
    >;
  }

  /** Journals a new job. Refuses a second job for the same bill key (callers check first). */
  /**
   * Changes run one at a time and check the state they find when their turn comes, so two decisions on
   * one job (a CLI and an MQTT resolve, a resubmit and a compaction) can never both act on a stale state.
   */
  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.serial.then(work);
    this.serial = run.catch(() => undefined);
    return run;
  }

  create(job: Job): Promise<Job> {
    return this.serialized(async () => {
      if (this.byKey.has(job.key))
        throw new KktAgentError('JOB_DUPLICATE', `A job for ${job.key} already exists.`);
      await this.write(job);
      this.index(job);
      this.emit('changed', job, undefined);
      return job;
    });
  }

  /**
   * Moves a job to a new state with a patch, journaled (fsync) before it returns. `from` names the states
   * the caller decided on; when the job has moved on meanwhile, nothing is written.
   */
  transition(
    id: string,
    to: JobState,
    patch: Partial<Omit<Job, 'id' | 'key' | 'seq' | 'state'>> = {},
    from?: readonly JobState[],
  ): Promise<Job> {
    return this.serialized(async () => {
      const current = this.require(id);
      if (from && !from.includes(current.state)) throw new IllegalTransitionError(id, current.state, to);
      if (!TRANSITIONS[current.state].includes(to)) throw new IllegalTransitionError(id, current.state, to);
      const next: Job = { ...current, ...patch, state: to, updatedAt: new Date().toISOString() };
      await this.write(next);
      this.index(next, current.state);
      this.emit('changed', next, current.state);
      return next;
    });
  }

  private async write(job: Job): Promise<void> {
    crashPoint(`journal:${job.state}:before`);
    await this.journal.set(job.id, job);
    crashPoint(`journal:${job.state}:after`);
  }

  /**
   * Rewrites the journal without history. Terminal jobs older than `retainMs` are dropped, except that a
   * slim record is kept for deduplication so a bill reported months ago still never prints again.
   */
  compact(retainMs: number, now = Date.now()): Promise<{ slimmed: number }> {
    return this.serialized(async () => {
      const slim: Array<[string, Job]> = [];
      for (const [id, job] of this.journal.entries()) {
        if (isTerminal(job.state) && job.bill && now - Date.parse(job.updatedAt) > retainMs) {
          const { bill: _bill, ...rest } = job;
          slim.push([id, rest]);
        }
      }
      if (slim.length > 0) await this.journal.setMany(slim);
      await this.journal.compact();
      return { slimmed: slim.length };
    });
  }

  get staleRatio(): number {
    return this.journal.staleRatio;
  }

  close(): Promise<void> {
    return this.journal.close();
  }
}
