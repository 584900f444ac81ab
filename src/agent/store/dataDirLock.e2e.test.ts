import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, lockDataDir, lockHolders } from './dataDirLock.js';
import { DataDirLockedError } from './storeErrors.js';

const betterSqlite = fileURLToPath(
  new URL('../../../node_modules/better-sqlite3/lib/index.js', import.meta.url),
);
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-lock-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Another process holding the lock the way the agent does; resolves once it holds it. */
async function holderProcess() {
  const script = `
    const Database = require(${JSON.stringify(betterSqlite)});
    const db = new Database(${JSON.stringify(join(dir, LOCK_FILE))}, { timeout: 0 });
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
    console.log('locked');
    setInterval(() => undefined, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  await once(lines, 'line');
  return child;
}

describe('lockDataDir', () => {
  it('refuses a second holder in the same process, and is free again once released', async () => {
    const lock = lockDataDir(dir);
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    lock.release();
    // Released twice (a stop after a failed start) is harmless.
    lock.release();
    lockDataDir(dir).release();
  });

  it('names no holder of a path that does not exist', () => {
    expect(lockHolders(join(dir, 'missing.lock'))).toEqual([]);
  });

  it('names the pid of the process that holds it', async () => {
    const holder = await holderProcess();
    try {
      let error: unknown;
      try {
        lockDataDir(dir);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(DataDirLockedError);
      expect((error as DataDirLockedError).details['holderPid']).toBe(holder.pid);
      expect((error as Error).message).toContain(`pid ${holder.pid}`);
    } finally {
      holder.kill('SIGKILL');
      await once(holder, 'exit');
    }
  });

  it('is taken over at once when its holder died (the kernel drops the lock with the process)', async () => {
    const holder = await holderProcess();
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    lockDataDir(dir).release();
  });

  it('does not trust leftovers: a lock file with stale content is taken', async () => {
    await writeFile(join(dir, LOCK_FILE), '');
    lockDataDir(dir).release();
  });
});
