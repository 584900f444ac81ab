import { readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { StorageWriteError } from '../../lib/durableFile.js';
import { refuseIfDataDirWasGone } from './dataDirWatch.js';
import { DataDirLockedError } from './storeErrors.js';

/**
 * One agent per data directory (docs/storage.md, "One agent per data directory"). The lock is an exclusive
 * SQLite transaction held on `<dataDir>/agent.lock` for the life of the process: a POSIX record lock the
 * kernel drops when the process dies, however it dies, so a stale lock cannot exist and a restart after
 * SIGKILL or a power cut simply takes it. The holder's pid comes from /proc/locks (the kernel's own record),
 * not from a pid file a crash could leave behind.
 */

export const LOCK_FILE = 'agent.lock';

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

/** Pids holding a POSIX lock on `path`, from /proc/locks (Linux); empty when it cannot be read. */
export function lockHolders(path: string): number[] {
  let inode: number;
  let locks: string;
  try {
    inode = statSync(path).ino;
    locks = readFileSync('/proc/locks', 'utf8');
  } catch {
    return [];
  }
  const holders = new Set<number>();
  // "1: POSIX  ADVISORY  WRITE 25839 fe:00:2171948 1073741824 1073742335"
  for (const line of locks.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const device = fields[5];
    const pid = Number(fields[4]);
    if (fields[1] === 'POSIX' && device?.endsWith(`:${inode}`) && Number.isInteger(pid) && pid > 0)
      holders.add(pid);
  }
  return [...holders];
}

/** The other process holding `path`, when the kernel names one. */
export function lockHolder(path: string): number | undefined {
  return lockHolders(path).find((pid) => pid !== process.pid) ?? lockHolders(path)[0];
}

/**
 * Takes the data directory or throws `DataDirLockedError` naming the holder's pid. Must run before anything
 * opens a journal or the database in that directory.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: 0 });
  } catch (error) {
    throw new StorageWriteError(path, 'create the lock file', error);
  }
  try {
    // The rollback journal in memory: the lock file never holds data, only the lock, so no -journal file.
    // (OFF would say so better, but better-sqlite3 runs SQLite in defensive mode, which refuses it.)
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY')
      throw new DataDirLockedError(dataDir, lockHolder(path));
    throw new StorageWriteError(path, 'lock', error);
  }
  return {
    path,
    release() {
      if (!db.open) return;
      try {
        db.exec('ROLLBACK');
      } finally {
        db.close();
      }
    },
  };
}

/**
 * What the daemon and every standalone command that opens the store do first: make the directory, take its
 * lock, and stop with `DataDirGoneError` while an earlier run's DATA_DIR_GONE marker is there (a person must
 * look before anything works on this directory again; docs/storage.md).
 */
export async function claimDataDir(dataDir: string): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true, mode: 0o750 });
  const lock = lockDataDir(dataDir);
  try {
    refuseIfDataDirWasGone(dataDir);
  } catch (error) {
    lock.release();
    throw error;
  }
  return lock;
}
