import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import {
  readFileIfExists,
  removeStaleTempFiles,
  StorageWriteError,
  writeFileDurable,
} from '../../lib/durableFile.js';
import type { MadeDocument } from './device.js';
import { EmulatorStateError } from './errors.js';
import type { JournalEntry } from './journalEntry.js';
import { type DeviceState, deviceStateSchema, type StoredDocument, storedDocumentSchema } from './state.js';

/**
 * Where the emulated register keeps what a real one keeps in flash and in its FN:
 * - `stateFile`: the state (counters, shift, open receipt …) as JSON, replaced durably after every change;
 * - `<stateFile>.documents.jsonl`: the FN archive, one stored document per line, appended and fsync'd
 *   before the state that counts it (so the state never names a document the archive lacks);
 * - `journalFile`: a human-readable JSONL line per fiscal document, for people and tests.
 */
export interface StoreOptions {
  stateFile?: string;
  journalFile?: string;
  /** False: the state file is neither read nor written (benchmarks). The journal is still written. */
  persist: boolean;
}

export interface LoadedState {
  state: DeviceState | undefined;
  documents: StoredDocument[];
}

export const archivePathFor = (stateFile: string) => `${stateFile}.documents.jsonl`;

/** A JSONL file opened for appending; every append is fsync'd before it resolves. */
class AppendOnlyFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async open(path: string): Promise<AppendOnlyFile> {
    try {
      return new AppendOnlyFile(path, await open(path, 'a', 0o600));
    } catch (error) {
      throw new StorageWriteError(path, 'open for appending', error);
    }
  }

  async appendLines(values: readonly unknown[]): Promise<void> {
    if (values.length === 0) return;
    try {
      await this.handle.appendFile(values.map((value) => `${JSON.stringify(value)}\n`).join(''));
      await this.handle.datasync();
    } catch (error) {
      throw new StorageWriteError(this.path, 'append to', error);
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

export class DeviceStore {
  private queue: Promise<unknown> = Promise.resolve();
  private pendingStateWrite = false;

  private constructor(
    private readonly options: StoreOptions,
    private readonly archive: AppendOnlyFile | undefined,
    private readonly journal: AppendOnlyFile | undefined,
  ) {}

  /** Reads what an earlier run saved and opens the files for writing. */
  static async open(options: StoreOptions): Promise<{ store: DeviceStore; loaded: LoadedState }> {
    const stateFile = options.persist ? options.stateFile : undefined;
    const loaded: LoadedState = { state: undefined, documents: [] };
    let archive: AppendOnlyFile | undefined;
    if (stateFile) {
      await removeStaleTempFiles(stateFile);
      loaded.state = await readState(stateFile);
      if (loaded.state)
        loaded.documents = await readArchive(archivePathFor(stateFile), loaded.state.lastDocumentNumber);
      archive = await AppendOnlyFile.open(archivePathFor(stateFile));
    }
    const journal = options.journalFile ? await AppendOnlyFile.open(options.journalFile) : undefined;
    return { store: new DeviceStore({ ...options, stateFile }, archive, journal), loaded };
  }

  /** Saves one command's effects: documents first, then the journal lines, then the state. Serialised. */
  commit(documents: readonly MadeDocument[], stateJson: string | undefined): Promise<void> {
    return this.enqueue(async () => {
      await this.archive?.appendLines(documents.map((d) => d.document));
      await this.journal?.appendLines(documents.map((d): JournalEntry => d.journal));
      if (stateJson !== undefined && this.options.stateFile)
        await writeFileDurable(this.options.stateFile, stateJson);
    });
  }

  /** Saves the state after a change outside a command; back-to-back requests collapse into one write. */
  saveState(currentJson: () => string): Promise<void> {
    if (!this.options.stateFile || this.pendingStateWrite) return this.queue.then(() => undefined);
    this.pendingStateWrite = true;
    return this.enqueue(async () => {
      this.pendingStateWrite = false;
      await writeFileDurable(this.options.stateFile!, currentJson());
    });
  }

  /** Waits for queued writes and closes the files. */
  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.archive?.close();
    await this.journal?.close();
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

async function readState(path: string): Promise<DeviceState | undefined> {
  const text = await readFileIfExists(path);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new EmulatorStateError(path, `not JSON (${(error as Error).message})`);
  }
  const parsed = deviceStateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EmulatorStateError(path, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Reads the FN archive. A line torn by a crash is skipped; a document the state does not count (written
 * just before a crash that lost the state) is ignored, and a number written twice keeps its last line.
 */
async function readArchive(path: string, lastDocumentNumber: number): Promise<StoredDocument[]> {
  const text = await readFileIfExists(path);
  if (text === undefined) return [];
  const byNumber = new Map<number, StoredDocument>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      continue;
    }
    const parsed = storedDocumentSchema.safeParse(json);
    if (parsed.success && parsed.data.number <= lastDocumentNumber)
      byNumber.set(parsed.data.number, parsed.data);
  }
  return [...byNumber.values()].sort((a, b) => a.number - b.number);
}
