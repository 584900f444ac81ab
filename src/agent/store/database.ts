import { closeSync, openSync, readSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StorageReadError, StorageWriteError } from '../../lib/durableFile.js';
import { crashPoint } from '../crashPoints.js';
import { lockHolder } from './dataDirLock.js';
import { DataDirWatch } from './dataDirWatch.js';
import { APPLICATION_ID, MIGRATIONS, NEW_STORE_SQL, SCHEMA_VERSION, TABLES } from './schema.js';
import {
  type DataDirGoneError,
  DataDirLockedError,
  StoreCorruptError,
  StoreNotOursError,
  StoreVersionError,
} from './storeErrors.js';
import { type WriteFailure, WriteHealth } from './writeHealth.js';

/**
 * The agent's SQLite database (better-sqlite3, synchronous): jobs and outbox in one file, so a state change
 * and the reports it creates commit together. WAL, one connection holding an exclusive lock, one
 * transaction per state change, fsync'd at commit. Pragmas and the durability argument: docs/storage.md.
 */

export interface AgentDatabaseOptions {
  /** fsync at commit (default true). `false` is for tests and benchmarks only. */
  fsync?: boolean;
  /** Checkpoint the WAL into the database after this many commits (and at open and close). */
  checkpointEveryCommits?: number;
}

export interface WriteOptions {
  /**
   * Default true: the commit is fsync'd before `write` returns. `false` commits without the fsync (the next
   * durable commit or checkpoint carries it to disk): only for a change whose loss in a power cut is already
   * a case the agent recovers from (a delivered report sent again with its stable id).
   */
  durable?: boolean;
}

export interface DatabaseStats {
  commits: number;
  /** Commits made with synchronous=FULL: one fsync of the WAL each. */
  durableCommits: number;
  /** Checkpoints that copied frames: two fsyncs each (the WAL, then the database file). */
  checkpoints: number;
  /** durableCommits + 2 × checkpoints: the fsyncs SQLite makes for us (docs/storage.md, "fsyncs"). */
  fsyncs: number;
  checkpointFailures: number;
}

export interface StorageFigures {
  path: string;
  databaseBytes: number;
  walBytes: number;
  /** Free space for this user on the file system that holds the database. */
  freeDiskBytes: number;
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const DEFAULT_CHECKPOINT_EVERY = 256;
/** A checkpointed WAL larger than this is truncated back to it (a huge bill can grow it once). */
const WAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024;
/**
 * SQLite's page cache, in KiB (a negative cache_size). better-sqlite3 builds SQLite with 16,000 KiB, which a
 * box with years of history fills at start-up and then keeps: 13 MiB of RSS at 5 years, and most of the RSS
 * growth while serving. What the agent reads (unfinished jobs, the outbox, recent rows, the indexes' upper
 * pages) fits in 1 MiB (docs/storage.md, "Memory").
 */
const PAGE_CACHE_KIB = 1024;

type Header = 'missing' | 'empty' | 'sqlite' | 'other';

function readHeader(path: string): Header {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return 'missing';
    throw new StorageWriteError(path, 'open', error);
  }
  try {
    const bytes = Buffer.alloc(SQLITE_MAGIC.length);
    let read: number;
    try {
      read = readSync(fd, bytes, 0, bytes.length, 0);
    } catch (error) {
      // A directory or an unreadable device where the database should be: name it, never a bare EISDIR.
      throw new StorageReadError(path, error);
    }
    if (read === 0) return 'empty';
    return read === bytes.length && bytes.equals(SQLITE_MAGIC) ? 'sqlite' : 'other';
  } finally {
    closeSync(fd);
  }
}

function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** SQLite's errors in the words of the store: damage, not ours, busy, or a failed write. */
export function storeErrorFor(error: unknown, path: string, action: string): unknown {
  const code = sqliteCode(error);
  if (code === undefined) return error;
  if (code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT_') || code === 'SQLITE_NOTADB')
    return new StoreCorruptError(path, (error as Error).message, error);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return new DataDirLockedError(dirname(path), lockHolder(path));
  if (
    code === 'SQLITE_FULL' ||
    code.startsWith('SQLITE_IOERR') ||
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_READONLY') ||
    code === 'SQLITE_PERM'
  )
    return new StorageWriteError(path, action, error, { sqlite: code });
  return error;
}

export class AgentDatabase {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly fsyncEnabled: boolean;
  private readonly checkpointEvery: number;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly counters: Omit<DatabaseStats, 'fsyncs'> = {
    commits: 0,
    durableCommits: 0,
    checkpoints: 0,
    checkpointFailures: 0,
  };
  private synchronous: 'FULL' | 'NORMAL' | 'OFF' | undefined;
  private commitsSinceCheckpoint = 0;
  /** Work to run once the outermost transaction has committed (in-memory state follows the disk). */
  private afterCommitQueue: Array<() => void> | undefined;
  private savepoints = 0;
  /** Whether commits are failing right now (`status`, the state document). */
  private readonly health: WriteHealth;
  /** Whether the directory and the file are still the ones opened; set once open. */
  private watch: DataDirWatch | undefined;
  private goneError: DataDirGoneError | undefined;
  private readonly goneListeners: Array<(error: DataDirGoneError) => void> = [];

  private constructor(path: string, db: Database.Database, options: AgentDatabaseOptions) {
    this.path = path;
    this.health = new WriteHealth(path);
    this.db = db;
    this.fsyncEnabled = options.fsync ?? true;
    this.checkpointEvery = options.checkpointEveryCommits ?? DEFAULT_CHECKPOINT_EVERY;
  }

  /**
   * Opens (or creates) the database. Throws `StoreNotOursError` for another program's file,
   * `StoreCorruptError` for damage, `StoreVersionError` for a newer schema, `DataDirLockedError` when another
   * process has it open. A torn WAL frame from a crash is not damage: SQLite ignores it (docs/storage.md).
   */
  static open(path: string, options: AgentDatabaseOptions = {}): AgentDatabase {
    const header = readHeader(path);
    if (header === 'other') throw new StoreNotOursError(path, 'it is not an SQLite database');
    let db: Database.Database;
    try {
      db = new Database(path, { timeout: 0 });
    } catch (error) {
      throw storeErrorFor(error, path, 'open');
    }
    try {
      // Exclusive before WAL is first touched: no -shm file (no shared memory to wear the SD card), and no
      // second connection from any process.
      db.pragma('locking_mode = EXCLUSIVE');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new StoreCorruptError(path, `journal mode stayed ${String(mode)}`);
      db.pragma('wal_autocheckpoint = 0');
      db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
      db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
      const store = new AgentDatabase(path, db, options);
      store.ensureSchema(header);
      store.checkpoint();
      store.watch = new DataDirWatch(dirname(path), path);
      return store;
    } catch (error) {
      db.close();
      throw storeErrorFor(error, path, 'open');
    }
  }

  private ensureSchema(header: Header): void {
    const applicationId = Number(this.db.pragma('application_id', { simple: true }));
    const version = Number(this.db.pragma('user_version', { simple: true }));
    const tables = this.db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .pluck()
      .all() as string[];
    if (applicationId === 0 && tables.length === 0) {
      this.migrate(0);
      return;
    }
    if (applicationId !== APPLICATION_ID) {
      const what = tables.length > 0 ? `tables ${tables.slice(0, 5).join(', ')}` : 'no tables';
      throw new StoreNotOursError(
        this.path,
        `an SQLite database of another program (application id ${applicationId}, ${what})`,
      );
    }
    if (header === 'empty') throw new StoreCorruptError(this.path, 'the file is empty but marked as ours');
    if (version > SCHEMA_VERSION) throw new StoreVersionError(this.path, version, SCHEMA_VERSION);
    if (version < SCHEMA_VERSION) this.migrate(version);
    const present = new Set(
      this.db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all() as string[],
    );
    const missing = TABLES.filter((table) => !present.has(table));
    if (missing.length > 0) throw new StoreCorruptError(this.path, `table ${missing.join(', ')} is missing`);
  }

  /**
   * Brings the schema to the current version in one transaction. A database created empty is marked new
   * in the same transaction, so no crash can leave a new store that does not know it is one.
   */
  private migrate(from: number): void {
    this.write('schema', () => {
      for (let version = from; version < SCHEMA_VERSION; version++) this.db.exec(MIGRATIONS[version]!);
      if (from === 0) this.db.exec(NEW_STORE_SQL);
      this.db.pragma(`application_id = ${APPLICATION_ID}`);
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    });
  }

  /** A prepared statement, compiled once. */
  statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs a read, translating SQLite's errors (damage, I/O) into the store's. */
  read<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw storeErrorFor(error, this.path, 'read');
    }
  }

  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  /**
   * Runs `work` in one transaction and commits it (fsync'd unless `durable: false`). Inside another
   * `write` it becomes a savepoint of that transaction: the outer one decides durability and commit. Crash
   * points `store:<name>:before` and `:after` surround the commit (the kill-point matrix uses them). A
   * failed commit throws and leaves nothing behind: callbacks from `afterCommit` are dropped.
   */
  write<T>(name: string, work: () => T, options: WriteOptions = {}): T {
    if (this.db.inTransaction) return this.nested(work);
    // Never into a file nobody will read again: a receipt's PRINTING record is a write, so no receipt is
    // printed once the directory is gone (docs/storage.md, "The data directory deleted while running").
    const gone = this.checkDataDir();
    if (gone) throw gone;
    try {
      const result = this.commit(name, work, options);
      this.health.succeeded();
      return result;
    } catch (error) {
      if (error instanceof StorageWriteError) this.health.failed(error);
      throw error;
    }
  }

  /**
   * Whether the data directory or the database file was deleted or replaced since open (two stat calls).
   * Once found, it stays found, and every write throws it; listeners hear of it once.
   */
  checkDataDir(): DataDirGoneError | undefined {
    if (this.goneError || !this.watch || !this.db.open) return this.goneError;
    const gone = this.watch.check();
    if (gone) {
      this.goneError = gone;
      for (const listener of this.goneListeners) listener(gone);
    }
    return gone;
  }

  /**
   * Writes a compact copy of the database as this connection sees it (WAL included) to `path`, which must
   * not exist: what is left of a database whose file was deleted under the agent (`VACUUM INTO`).
   */
  copyTo(path: string): void {
    try {
      this.db.prepare('VACUUM INTO ?').run(path);
    } catch (error) {
      throw storeErrorFor(error, path, 'copy the database to');
    }
  }

  /** Set once the data directory or the database file was found deleted or replaced. */
  get dataDirGone(): DataDirGoneError | undefined {
    return this.goneError;
  }

  /** Hears of it once; at once when it was already found. */
  onDataDirGone(listener: (error: DataDirGoneError) => void): void {
    this.goneListeners.push(listener);
    if (this.goneError) listener(this.goneError);
  }

  /** Set while commits are failing (a full disk), since the first failure after the last success. */
  get writeFailure(): WriteFailure | undefined {
    return this.health.failure;
  }

  private commit<T>(name: string, work: () => T, options: WriteOptions): T {
    crashPoint(`store:${name}:before`);
    this.setSynchronous(options.durable ?? true);
    const queue: Array<() => void> = [];
    this.afterCommitQueue = queue;
    let result: T;
    try {
      this.statement('BEGIN IMMEDIATE').run();
      result = work();
      this.statement('COMMIT').run();
    } catch (error) {
      this.afterCommitQueue = undefined;
      if (this.db.inTransaction) {
        try {
          this.statement('ROLLBACK').run();
        } catch {
          // SQLite already rolled back after the I/O error.
        }
      }
      throw storeErrorFor(error, this.path, `write (${name}) to`);
    }
    this.afterCommitQueue = undefined;
    this.counters.commits += 1;
    if (this.synchronous === 'FULL') this.counters.durableCommits += 1;
    crashPoint(`store:${name}:after`);
    let failure: unknown;
    for (const callback of queue) {
      try {
        callback();
      } catch (error) {
        failure ??= error;
      }
    }
    if (++this.commitsSinceCheckpoint >= this.checkpointEvery) this.checkpoint();
    if (failure !== undefined) throw failure;
    return result;
  }

  private nested<T>(work: () => T): T {
    const name = `nested_${++this.savepoints}`;
    const queue = this.afterCommitQueue;
    const queued = queue?.length ?? 0;
    this.db.exec(`SAVEPOINT ${name}`);
    try {
      const result = work();
      this.db.exec(`RELEASE ${name}`);
      return result;
    } catch (error) {
      this.db.exec(`ROLLBACK TO ${name}`);
      this.db.exec(`RELEASE ${name}`);
      queue?.splice(queued);
      throw storeErrorFor(error, this.path, 'write to');
    } finally {
      this.savepoints -= 1;
    }
  }

  /** Runs `callback` once the current transaction has committed; at once outside a transaction. */
  afterCommit(callback: () => void): void {
    if (this.afterCommitQueue === undefined) callback();
    else this.afterCommitQueue.push(callback);
  }

  private setSynchronous(durable: boolean): void {
    const wanted = !this.fsyncEnabled ? 'OFF' : durable ? 'FULL' : 'NORMAL';
    if (wanted === this.synchronous) return;
    this.db.pragma(`synchronous = ${wanted}`);
    this.synchronous = wanted;
  }

  /**
   * Copies the WAL into the database file (the agent is the only connection, so it always completes). A
   * failure (disk full) loses nothing: the WAL keeps the commits and the next checkpoint tries again.
   */
  checkpoint(): void {
    this.commitsSinceCheckpoint = 0;
    try {
      const [result] = this.db.pragma('wal_checkpoint(PASSIVE)') as Array<{ checkpointed: number }>;
      if (this.fsyncEnabled && (result?.checkpointed ?? 0) > 0) this.counters.checkpoints += 1;
    } catch {
      this.counters.checkpointFailures += 1;
    }
  }

  get stats(): DatabaseStats {
    return { ...this.counters, fsyncs: this.counters.durableCommits + 2 * this.counters.checkpoints };
  }

  /** Sizes for `status` and the state document; cheap (two stats and a statfs). */
  storageFigures(): StorageFigures {
    const sizeOf = (path: string) => {
      try {
        return statSync(path).size;
      } catch {
        return 0;
      }
    };
    let freeDiskBytes = 0;
    try {
      const fs = statfsSync(dirname(this.path));
      freeDiskBytes = fs.bavail * fs.bsize;
    } catch {
      // Reported as 0: unknown.
    }
    return {
      path: this.path,
      databaseBytes: sizeOf(this.path),
      walBytes: sizeOf(`${this.path}-wal`),
      freeDiskBytes,
    };
  }

  get open(): boolean {
    return this.db.open;
  }

  /** Checkpoints and closes; the WAL file is removed. */
  close(): void {
    if (!this.db.open) return;
    try {
      this.db.close();
    } catch (error) {
      throw storeErrorFor(error, this.path, 'close');
    }
  }
}
