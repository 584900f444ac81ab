import { dirname } from 'node:path';
import { StorageReadError, StorageWriteError } from '../../lib/durableFile.js';
import { errorMessage } from '../../lib/errors.js';
import { JournalClosedError, JournalCorruptError, JournalValueError } from './errors.js';
import {
  encodeBatch,
  encodeDelete,
  encodeSet,
  HEADER_LINE,
  type JournalScan,
  scanJournal,
  type TornTail,
} from './journalFormat.js';
import { nodeStoreFs, type StoreFileHandle, type StoreFileSystem, writeFully } from './storeFs.js';

/**
 * Keyed, append-only JSONL journal. Every change is one line, written with one positional write and
 * fdatasync'd before the promise resolves; only then does the in-memory map change. Changes run one at a
 * time in call order, so the order on disk is the order of calls. Format and crash analysis: docs/storage.md.
 */

export interface JournalOptions<T> {
  /** Checks and types each value on open and on every write (a value that cannot be read back is refused). */
  validate?: (value: unknown) => T;
  /** fsync after every change (default true). `false` is for tests and benchmarks only. */
  fsync?: boolean;
  /** File-system layer; tests inject failures here. */
  fs?: StoreFileSystem;
}

export interface JournalStats {
  /** Lines appended (a batch is one line). */
  appends: number;
  /** fsync/fdatasync calls on files and directories. */
  fsyncs: number;
  /** Bytes written to disk: appends, compactions and headers. */
  bytesWritten: number;
  compactions: number;
}

/** What `open` found and repaired; log it when anything is not `none`/`null`/`false`. */
export interface JournalRecovery {
  /** The journal did not exist or held no complete header; a fresh one was written. */
  created: boolean;
  /** A crash cut the last write short; those bytes were truncated away. */
  tornTail: TornTail | null;
  /** A crash interrupted compaction: its leftover file was deleted (main file valid) or promoted (main missing). */
  compactFile: 'none' | 'deleted' | 'promoted';
}

/** `json` is the value exactly as written, kept so compaction rewrites the input, not the validated output. */
type Mutation<T> = { kind: 'set'; key: string; value: T; json: string } | { kind: 'delete'; key: string };

/** Frozen so a caller cannot change the in-memory state without a write. */
function deepFreeze<V>(value: V): V {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

export class JsonlJournal<T> {
  readonly path: string;
  readonly compactPath: string;
  readonly recovery: JournalRecovery;

  private readonly directory: string;
  private readonly fs: StoreFileSystem;
  private readonly fsyncEnabled: boolean;
  private readonly validate: (value: unknown) => T;
  private readonly map: Map<string, T>;
  /** The input text of each value, kept only when a validator may have changed it (compaction writes the input). */
  private readonly encoded: Map<string, string>;
  private readonly keepsInput: boolean;
  private readonly counters: JournalStats = { appends: 0, fsyncs: 0, bytesWritten: 0, compactions: 0 };
  private handle: StoreFileHandle;
  /** Bytes of committed lines; the next append goes here, a failed append is truncated back to it. */
  private length: number;
  private lines: number;
  private records: number;
  private queue: Promise<unknown> = Promise.resolve();
  private closing = false;
  /** A rename is not yet known to be durable: sync the directory before the next append. */
  private directorySyncPending = false;
  /** A failed write could not be rolled back; the file tail is unknown until the journal is reopened. */
  private unusableCause: unknown;

  private constructor(
    path: string,
    options: JournalOptions<T>,
    handle: StoreFileHandle,
    scan: JournalScan,
    map: Map<string, T>,
    encoded: Map<string, string>,
    recovery: JournalRecovery,
  ) {
    this.path = path;
    this.compactPath = `${path}.compact`;
    this.directory = dirname(path);
    this.fs = options.fs ?? nodeStoreFs;
    this.fsyncEnabled = options.fsync ?? true;
    this.validate = options.validate ?? ((value: unknown) => value as T);
    this.keepsInput = options.validate !== undefined;
    this.handle = handle;
    this.length = scan.validLength;
    this.lines = scan.lineCount;
    this.records = scan.recordCount;
    this.map = map;
    this.encoded = encoded;
    this.recovery = recovery;
  }

  /**
   * Opens (or creates) the journal: finishes or discards an interrupted compaction, loads the latest value
   * per key, truncates a torn last write. Throws `JournalCorruptError` for damage a crash cannot explain.
   */
  static async open<T>(path: string, options: JournalOptions<T> = {}): Promise<JsonlJournal<T>> {
    const fs = options.fs ?? nodeStoreFs;
    const fsyncEnabled = options.fsync ?? true;
    const directory = dirname(path);
    const compactPath = `${path}.compact`;
    let fsyncs = 0;
    const syncDirectory = async () => {
      if (!fsyncEnabled) return;
      await fs.syncDirectory(directory);
      fsyncs += 1;
    };

    const compactFile = await JsonlJournal.settleCompaction(fs, path, compactPath, syncDirectory);
    let handle: StoreFileHandle;
    let buffer: Buffer;
    try {
      handle = await fs.openReadWrite(path);
    } catch (error) {
      throw new StorageReadError(path, error);
    }
    try {
      try {
        buffer = await handle.readAll();
      } catch (error) {
        throw new StorageReadError(path, error);
      }
      const scan = scanJournal(buffer, path);
      const validate = options.validate ?? ((value: unknown) => value as T);
      const map = new Map<string, T>();
      const encoded = new Map<string, string>();
      for (const [key, { line, value }] of scan.latest) {
        try {
          map.set(key, deepFreeze(validate(value)));
          if (options.validate) encoded.set(key, JSON.stringify(value));
        } catch (error) {
          throw new JournalCorruptError(path, line, `the value of ${JSON.stringify(key)} is not valid`, {
            key,
            cause: errorMessage(error),
          });
        }
      }

      let bytesWritten = 0;
      const created = !scan.hasHeader;
      try {
        if (scan.tornTail !== null) {
          await handle.truncate(scan.validLength);
          if (fsyncEnabled) {
            await handle.datasync();
            fsyncs += 1;
          }
        }
        if (created) {
          // A fresh file: the header is its first committed line, and its directory entry must be durable
          // before any record written into it can be.
          const header = Buffer.from(`${HEADER_LINE}\n`, 'utf8');
          await writeFully(handle, header, 0);
          if (fsyncEnabled) {
            await handle.datasync();
            fsyncs += 1;
          }
          await syncDirectory();
          scan.validLength = header.length;
          bytesWritten += header.length;
        }
      } catch (error) {
        throw new StorageWriteError(path, 'repair', error);
      }

      const journal = new JsonlJournal<T>(path, options, handle, scan, map, encoded, {
        created,
        tornTail: scan.tornTail,
        compactFile,
      });
      journal.counters.fsyncs = fsyncs;
      journal.counters.bytesWritten = bytesWritten;
      return journal;
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Compaction renames `<path>.compact` over `<path>` only after the compact file is complete and fsync'd,
   * and rename is atomic. So a leftover compact file means the rename never happened and `<path>` still
   * holds everything: delete it. Only if `<path>` is missing (never by our own steps) is it the best copy.
   */
  private static async settleCompaction(
    fs: StoreFileSystem,
    path: string,
    compactPath: string,
    syncDirectory: () => Promise<void>,
  ): Promise<JournalRecovery['compactFile']> {
    try {
      if (!(await fs.exists(compactPath))) return 'none';
      if (await fs.exists(path)) {
        await fs.remove(compactPath);
        await syncDirectory();
        return 'deleted';
      }
      await fs.rename(compactPath, path);
      await syncDirectory();
      return 'promoted';
    } catch (error) {
      throw new StorageWriteError(compactPath, 'clean up the interrupted compaction', error);
    }
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): T | undefined {
    return this.map.get(key);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  entries(): IterableIterator<[string, T]> {
    return this.map.entries();
  }

  /** Record lines in the file (header excluded; a batch is one line). */
  get lineCount(): number {
    return this.lines;
  }

  /** Share of records in the file that no longer matter (overwritten or deleted); compact when it is high. */
  get staleRatio(): number {
    return this.records === 0 ? 0 : (this.records - this.map.size) / this.records;
  }

  get stats(): JournalStats {
    return { ...this.counters };
  }

  /** Durably stores `value` under `key`. Resolves after fsync; the in-memory map changes only then. */
  set(key: string, value: T): Promise<void> {
    let mutation: Mutation<T>;
    let line: string;
    try {
      ({ mutation, line } = this.encodeSet(key, value));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.enqueue(() => this.append(line, [mutation], `store ${JSON.stringify(key)} in`));
  }

  /** Durably stores several values as one line with one fsync: after a crash, all or none of them are there. */
  setMany(entries: Iterable<readonly [string, T]>): Promise<void> {
    const mutations: Mutation<T>[] = [];
    const lines: string[] = [];
    try {
      for (const [key, value] of entries) {
        const { mutation, line } = this.encodeSet(key, value);
        mutations.push(mutation);
        lines.push(line);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (lines.length === 0) return this.enqueue(async () => this.assertWritable());
    return this.enqueue(() => this.append(encodeBatch(lines), mutations, `store ${lines.length} records in`));
  }

  /** Durably deletes `key`. Resolves `false` (and writes nothing) when the key is absent at its turn. */
  delete(key: string): Promise<boolean> {
    return this.enqueue(async () => {
      this.assertWritable();
      if (!this.map.has(key)) return false;
      await this.append(encodeDelete(key), [{ kind: 'delete', key }], `delete ${JSON.stringify(key)} from`);
      return true;
    });
  }

  /** Durably deletes several keys as one line with one fsync. Resolves how many existed. */
  deleteMany(keys: Iterable<string>): Promise<number> {
    const wanted = [...new Set(keys)];
    return this.enqueue(async () => {
      this.assertWritable();
      const present = wanted.filter((key) => this.map.has(key));
      if (present.length === 0) return 0;
      const mutations: Mutation<T>[] = present.map((key) => ({ kind: 'delete', key }));
      await this.append(
        encodeBatch(present.map(encodeDelete)),
        mutations,
        `delete ${present.length} records from`,
      );
      return present.length;
    });
  }

  /**
   * Rewrites the journal with only the live entries: write `<path>.compact`, fsync it, fsync the directory,
   * rename it over `<path>`, fsync the directory. Runs in the write queue, so no change interleaves.
   */
  compact(): Promise<void> {
    return this.enqueue(() => this.compactNow());
  }

  /** Waits for queued changes, then closes the file. Later calls reject with `JournalClosedError`. */
  async close(): Promise<void> {
    if (this.closing) return this.queue.then(() => undefined);
    this.closing = true;
    const done = this.queue.then(() => this.handle.close());
    this.queue = done.catch(() => undefined);
    await done;
  }

  private enqueue<R>(operation: () => Promise<R>): Promise<R> {
    if (this.closing) return Promise.reject(new JournalClosedError(this.path));
    const run = this.queue.then(operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private assertWritable(): void {
    if (this.unusableCause !== undefined) {
      throw new StorageWriteError(this.path, 'write to', this.unusableCause, {
        unusable: true,
        hint: 'an earlier failed write could not be rolled back; restart the agent to recover the journal',
      });
    }
  }

  /** Serialises and round-trips the value so memory holds exactly what a reopen would load. */
  private encodeSet(key: string, value: T): { mutation: Mutation<T>; line: string } {
    if (typeof key !== 'string') {
      throw new JournalValueError(this.path, String(key), 'the key is not a string');
    }
    if (value === undefined || value === null) {
      throw new JournalValueError(this.path, key, 'null/undefined cannot be stored (use delete)');
    }
    let valueJson: string | undefined;
    try {
      valueJson = JSON.stringify(value);
    } catch (error) {
      throw new JournalValueError(
        this.path,
        key,
        `the value is not JSON-serialisable (${errorMessage(error)})`,
        error,
      );
    }
    if (valueJson === undefined) {
      throw new JournalValueError(this.path, key, 'the value is not JSON-serialisable');
    }
    let stored: T;
    try {
      stored = deepFreeze(this.validate(JSON.parse(valueJson)));
    } catch (error) {
      throw new JournalValueError(
        this.path,
        key,
        `the value fails validation (${errorMessage(error)})`,
        error,
      );
    }
    return {
      mutation: { kind: 'set', key, value: stored, json: valueJson },
      line: encodeSet(key, valueJson),
    };
  }

  private async syncFile(handle: StoreFileHandle, full: boolean): Promise<void> {
    if (!this.fsyncEnabled) return;
    await (full ? handle.sync() : handle.datasync());
    this.counters.fsyncs += 1;
  }

  private async syncDirectory(): Promise<void> {
    if (!this.fsyncEnabled) return;
    await this.fs.syncDirectory(this.directory);
    this.counters.fsyncs += 1;
  }

  private async append(line: string, mutations: Mutation<T>[], action: string): Promise<void> {
    this.assertWritable();
    if (this.directorySyncPending) {
      try {
        await this.syncDirectory();
      } catch (error) {
        throw new StorageWriteError(this.path, action, error, { stage: 'directory fsync after compaction' });
      }
      this.directorySyncPending = false;
    }
    const bytes = Buffer.from(`${line}\n`, 'utf8');
    const start = this.length;
    try {
      await writeFully(this.handle, bytes, start);
      await this.syncFile(this.handle, false);
    } catch (error) {
      await this.rollback(start, error);
      throw new StorageWriteError(this.path, action, error);
    }
    this.length = start + bytes.length;
    this.lines += 1;
    this.records += mutations.length;
    this.counters.appends += 1;
    this.counters.bytesWritten += bytes.length;
    for (const mutation of mutations) {
      if (mutation.kind === 'delete') {
        this.map.delete(mutation.key);
        this.encoded.delete(mutation.key);
      } else {
        this.map.set(mutation.key, mutation.value);
        // Without a validator the value is the input and re-serializes to it: no second copy in memory.
        if (this.keepsInput) this.encoded.set(mutation.key, mutation.json);
      }
    }
  }

  /** Cuts the file back to the last committed line so no half line stays in front of later appends. */
  private async rollback(length: number, cause: unknown): Promise<void> {
    try {
      await this.handle.truncate(length);
    } catch {
      this.unusableCause = cause;
      return;
    }
    // Best effort: if this fsync fails too, the next append overwrites the same bytes and its fdatasync
    // makes the new length durable; a power cut before that leaves at worst a torn tail or the failed line.
    await this.syncFile(this.handle, false).catch(() => undefined);
  }

  private async compactNow(): Promise<void> {
    this.assertWritable();
    const records = this.keepsInput
      ? [...this.encoded]
      : [...this.map].map(([key, value]) => [key, JSON.stringify(value)] as const);
    const body = [HEADER_LINE, ...records.map(([key, json]) => encodeSet(key, json))];
    const bytes = Buffer.from(`${body.join('\n')}\n`, 'utf8');
    let compactHandle: StoreFileHandle | undefined;
    try {
      compactHandle = await this.fs.openTruncated(this.compactPath);
      await writeFully(compactHandle, bytes, 0);
      await this.syncFile(compactHandle, true);
      await this.syncDirectory();
      await this.fs.rename(this.compactPath, this.path);
    } catch (error) {
      await compactHandle?.close().catch(() => undefined);
      await this.fs.remove(this.compactPath).catch(() => undefined);
      throw new StorageWriteError(this.compactPath, 'compact the journal into', error);
    }
    // The rename happened: `<path>` is now the compact file's inode, which compactHandle still points to.
    // Appends must go there, whatever happens next.
    const oldHandle = this.handle;
    this.handle = compactHandle;
    this.length = bytes.length;
    this.lines = this.map.size;
    this.records = this.map.size;
    this.counters.bytesWritten += bytes.length;
    this.counters.compactions += 1;
    await oldHandle.close().catch(() => undefined);
    try {
      await this.syncDirectory();
    } catch (error) {
      // Until the rename is durable, an append would land in a file a power cut could swap back out.
      this.directorySyncPending = true;
      throw new StorageWriteError(this.path, 'make durable the compaction of', error);
    }
  }
}
