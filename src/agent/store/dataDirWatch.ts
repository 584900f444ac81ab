import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDirGoneError } from './storeErrors.js';

/**
 * Whether the data directory and the database file are still the ones the agent opened (docs/storage.md,
 * "The data directory deleted while running"). SQLite keeps writing into an open file that was deleted
 * (its link count 0) or renamed away, and nothing fails: receipts would be journaled where nobody reads
 * them. Identity is the device and inode number: the path answering ENOENT, or another inode, means the
 * file or directory the agent holds is no longer the one at that path.
 */

/** Left in the data directory when it was found gone; the next start refuses while it is there. */
export const GONE_MARKER = 'DATA_DIR_GONE';

interface Identity {
  dev: number;
  ino: number;
}

function identityOf(path: string): Identity | 'missing' {
  try {
    const stats = statSync(path);
    return { dev: stats.dev, ino: stats.ino };
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT' || (error as { code?: string }).code === 'ENOTDIR')
      return 'missing';
    throw error;
  }
}

export class DataDirWatch {
  private readonly dirIdentity: Identity;
  private readonly fileIdentity: Identity;

  /** Takes the identities of the open directory and file; call right after opening the database. */
  constructor(
    readonly dataDir: string,
    readonly filePath: string,
  ) {
    const dir = identityOf(dataDir);
    const file = identityOf(filePath);
    if (dir === 'missing' || file === 'missing') throw new DataDirGoneError(dataDir, 'gone while opening');
    this.dirIdentity = dir;
    this.fileIdentity = file;
  }

  /** What happened to the directory or the file, or undefined while both are the ones opened. Two stat calls. */
  check(): DataDirGoneError | undefined {
    const what = this.change();
    return what === undefined ? undefined : new DataDirGoneError(this.dataDir, what);
  }

  private change(): string | undefined {
    let dir: Identity | 'missing';
    let file: Identity | 'missing';
    try {
      dir = identityOf(this.dataDir);
      file = identityOf(this.filePath);
    } catch {
      // EACCES, EIO: the check cannot tell; the write itself will say what is wrong.
      return undefined;
    }
    if (dir === 'missing') return 'the directory was deleted';
    if (!same(dir, this.dirIdentity)) return 'the directory was replaced by another one';
    if (file === 'missing') return `the database ${this.filePath} was deleted`;
    if (!same(file, this.fileIdentity)) return `the database ${this.filePath} was replaced by another file`;
    return undefined;
  }
}

function same(a: Identity, b: Identity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * Leaves the marker in (a new, empty) data directory, so that systemd's restart comes up into a clear
 * error instead of an empty database that would print every listed bill again. Best effort: returns the
 * marker's path, or undefined when it could not be written (the directory's parent is gone too).
 */
export function leaveGoneMarker(
  dataDir: string,
  error: DataDirGoneError,
  at: Date,
  rescued: string | undefined,
): string | undefined {
  const path = join(dataDir, GONE_MARKER);
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o750 });
    const record = {
      detectedAt: at.toISOString(),
      what: error.details['what'],
      pid: process.pid,
      ...(rescued ? { rescued } : {}),
    };
    writeFileSync(path, `${JSON.stringify(record)}\n`, { mode: 0o640 });
    return path;
  } catch {
    return undefined;
  }
}

/** At start: the marker of an earlier run stops this one with the error a technician needs. */
export function refuseIfDataDirWasGone(dataDir: string): void {
  const path = join(dataDir, GONE_MARKER);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return;
  }
  let record: { detectedAt?: unknown; what?: unknown; rescued?: unknown } = {};
  try {
    record = JSON.parse(text) as typeof record;
  } catch {
    // A damaged marker still stops the start.
  }
  const what = typeof record.what === 'string' ? record.what : 'it was deleted or replaced';
  const detectedAt = typeof record.detectedAt === 'string' ? record.detectedAt : undefined;
  const rescued = typeof record.rescued === 'string' ? record.rescued : undefined;
  throw new DataDirGoneError(dataDir, what, {
    ...(detectedAt ? { detectedAt } : {}),
    ...(rescued ? { rescued } : {}),
    marker: path,
  });
}
