import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { KktAgentError } from './errors.js';

/**
 * Durable writes of small whole files (config, registries, ids): unique temp file in the same directory,
 * fsync, rename over the target, fsync the directory. A power cut leaves either the old or the new file,
 * never an empty or half-written one (as far as the storage honours fsync; see docs/storage.md).
 */

/** Errno codes translated into words a technician on site acts on. */
const FS_ERROR_MEANING: Record<string, string> = {
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota exceeded',
  EIO: 'I/O error (the SD card or disk may be failing)',
  EROFS: 'file system is read-only (the kernel may have remounted it after storage errors)',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'directory does not exist',
  EISDIR: 'target is a directory',
  EMFILE: 'too many open files',
  // SQLite's result codes for the same conditions (better-sqlite3 puts them in `code`).
  SQLITE_FULL: 'disk full',
  SQLITE_IOERR: 'I/O error (the SD card or disk may be failing)',
  SQLITE_READONLY: 'file system or file is read-only',
  SQLITE_CANTOPEN: 'the file cannot be opened',
  SQLITE_PERM: 'permission denied',
};

export function fsErrorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

export function describeFsError(error: unknown): string {
  const code = fsErrorCode(error);
  // SQLite's extended codes (SQLITE_IOERR_FSYNC…) mean what their primary code means.
  if (code !== undefined)
    return FS_ERROR_MEANING[code] ?? FS_ERROR_MEANING[code.split('_', 2).join('_')] ?? code;
  return error instanceof Error ? error.message : String(error);
}

/** A write that did not reach the disk. Nothing was changed (in memory or, as far as we can tell, on disk). */
export class StorageWriteError extends KktAgentError {
  readonly path: string;
  readonly errno: string | undefined;

  constructor(path: string, action: string, cause: unknown, details: Record<string, unknown> = {}) {
    const meaning = describeFsError(cause);
    super(
      'STORAGE_WRITE_FAILED',
      `Could not ${action} ${path}: ${meaning}. Free space or check the storage, then retry.`,
      { path, action, errno: fsErrorCode(cause), meaning, ...details },
      { cause },
    );
    this.path = path;
    this.errno = fsErrorCode(cause);
  }
}

/** A file that exists but could not be read. */
export class StorageReadError extends KktAgentError {
  readonly path: string;

  constructor(path: string, cause: unknown) {
    const meaning = describeFsError(cause);
    super(
      'STORAGE_READ_FAILED',
      `Could not read ${path}: ${meaning}.`,
      { path, errno: fsErrorCode(cause), meaning },
      { cause },
    );
    this.path = path;
  }
}

/** fsync a directory so that file creations, renames and deletions in it survive a power cut. */
export async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Temp names are `.<name>.<pid>.<12 hex>.tmp`: unique per write, and recognisable for clean-up. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

function isTempNameFor(path: string, name: string): boolean {
  const prefix = `.${basename(path)}.`;
  return name.startsWith(prefix) && /^\d+\.[0-9a-f]{12}\.tmp$/.test(name.slice(prefix.length));
}

export interface WriteFileDurableOptions {
  /** File mode of a newly created file; default 0o600 (documents may hold tokens). */
  mode?: number;
}

/**
 * Replaces `path` with `data` atomically and durably. Throws `StorageWriteError` on failure; the temp file
 * is removed and the old content of `path` stays in place.
 */
export async function writeFileDurable(
  path: string,
  data: string | Uint8Array,
  options: WriteFileDurableOptions = {},
): Promise<void> {
  const tempPath = tempPathFor(path);
  let renamed = false;
  try {
    // 'wx': a unique name that already exists is someone else's file, never ours to overwrite.
    const handle = await open(tempPath, 'wx', options.mode ?? 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tempPath, path);
    renamed = true;
    await fsyncDirectory(dirname(path));
  } catch (error) {
    if (!renamed) await rm(tempPath, { force: true }).catch(() => undefined);
    throw new StorageWriteError(path, renamed ? 'make durable the rename of' : 'write', error);
  }
}

/** Reads a UTF-8 file; `undefined` when it does not exist. Other failures throw `StorageReadError`. */
export async function readFileIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (fsErrorCode(error) === 'ENOENT') return undefined;
    throw new StorageReadError(path, error);
  }
}

/**
 * Deletes temp files that a crash left behind next to `path` (writeFileDurable's own naming only).
 * Call once at start-up, before the first write; returns the names removed.
 */
export async function removeStaleTempFiles(path: string): Promise<string[]> {
  const directory = dirname(path);
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if (fsErrorCode(error) === 'ENOENT') return [];
    throw new StorageReadError(directory, error);
  }
  const stale = names.filter((name) => isTempNameFor(path, name));
  for (const name of stale) await rm(join(directory, name), { force: true });
  return stale;
}
