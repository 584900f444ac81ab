import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageWriteError } from '../../lib/durableFile.js';
import { JsonlJournal } from './journal.js';
import { nodeStoreFs, type StoreFileHandle, type StoreFileSystem } from './storeFs.js';

/**
 * Write failures injected through the file-system layer. A failing `write` behaves like Linux on a full
 * disk: the first call stores part of the data and returns a short count, the next one fails with ENOSPC.
 */

type Fault = 'ENOSPC' | 'EIO';

interface Faults {
  write?: Fault;
  datasync?: Fault;
  truncate?: Fault;
  syncDirectory?: Fault;
  rename?: Fault;
}

function fsError(code: Fault): Error {
  return Object.assign(new Error(`${code}: injected`), { code });
}

function faultyFs(faults: Faults): StoreFileSystem {
  const wrap = (handle: StoreFileHandle): StoreFileHandle => {
    let partialWritten = false;
    return {
      readAll: () => handle.readAll(),
      async write(data, offset, length, position) {
        if (faults.write === undefined) return handle.write(data, offset, length, position);
        if (!partialWritten && length > 1) {
          partialWritten = true;
          return handle.write(data, offset, Math.floor(length / 2), position);
        }
        partialWritten = false;
        throw fsError(faults.write);
      },
      async datasync() {
        if (faults.datasync) throw fsError(faults.datasync);
        return handle.datasync();
      },
      sync: () => handle.sync(),
      async truncate(length) {
        if (faults.truncate) throw fsError(faults.truncate);
        return handle.truncate(length);
      },
      close: () => handle.close(),
    };
  };
  return {
    openReadWrite: async (path) => wrap(await nodeStoreFs.openReadWrite(path)),
    openTruncated: async (path) => wrap(await nodeStoreFs.openTruncated(path)),
    exists: (path) => nodeStoreFs.exists(path),
    async rename(from, to) {
      if (faults.rename) throw fsError(faults.rename);
      return nodeStoreFs.rename(from, to);
    },
    remove: (path) => nodeStoreFs.remove(path),
    async syncDirectory(directory) {
      if (faults.syncDirectory) throw fsError(faults.syncDirectory);
      return nodeStoreFs.syncDirectory(directory);
    },
  };
}

type Job = { state: string };

let dir: string;
let path: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-journal-fail-'));
  path = join(dir, 'jobs.jsonl');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function openWith(faults: Faults): Promise<JsonlJournal<Job>> {
  const journal = await JsonlJournal.open<Job>(path, { fs: faultyFs(faults) });
  await journal.set('bill-1', { state: 'RECEIVED' });
  await journal.set('bill-2', { state: 'RECEIVED' });
  return journal;
}

describe('JsonlJournal on a full disk', () => {
  it('throws STORAGE_WRITE_FAILED saying "disk full", keeps memory and file as they were', async () => {
    const faults: Faults = {};
    const journal = await openWith(faults);
    const fileBefore = await readFile(path);
    const statsBefore = journal.stats;

    faults.write = 'ENOSPC';
    const failure = journal.set('bill-1', { state: 'PRINTING' });
    await expect(failure).rejects.toBeInstanceOf(StorageWriteError);
    await expect(failure).rejects.toMatchObject({
      code: 'STORAGE_WRITE_FAILED',
      message: expect.stringContaining('disk full'),
      details: expect.objectContaining({ errno: 'ENOSPC' }),
    });
    await expect(journal.set('bill-3', { state: 'RECEIVED' })).rejects.toMatchObject({
      code: 'STORAGE_WRITE_FAILED',
    });
    await expect(journal.delete('bill-2')).rejects.toMatchObject({ code: 'STORAGE_WRITE_FAILED' });

    expect(journal.get('bill-1')).toEqual({ state: 'RECEIVED' });
    expect(journal.has('bill-2')).toBe(true);
    expect(journal.has('bill-3')).toBe(false);
    expect(journal.stats.appends).toBe(statsBefore.appends);
    expect(journal.lineCount).toBe(2);
    expect(await readFile(path)).toEqual(fileBefore);

    // Space returns: the same journal keeps working.
    faults.write = undefined;
    await journal.set('bill-1', { state: 'PRINTING' });
    await journal.set('bill-3', { state: 'RECEIVED' });
    await journal.close();

    const reopened = await JsonlJournal.open<Job>(path);
    expect(reopened.recovery.tornTail).toBeNull();
    expect(Object.fromEntries(reopened.entries())).toEqual({
      'bill-1': { state: 'PRINTING' },
      'bill-2': { state: 'RECEIVED' },
      'bill-3': { state: 'RECEIVED' },
    });
    await reopened.close();
  });

  it('rolls back a fully written line whose fsync failed', async () => {
    const faults: Faults = {};
    const journal = await openWith(faults);
    const fileBefore = await readFile(path);

    faults.datasync = 'EIO';
    await expect(journal.set('bill-3', { state: 'PRINTING' })).rejects.toMatchObject({
      code: 'STORAGE_WRITE_FAILED',
      message: expect.stringContaining('I/O error'),
    });
    expect(journal.has('bill-3')).toBe(false);
    expect(await readFile(path)).toEqual(fileBefore);

    faults.datasync = undefined;
    await journal.set('bill-3', { state: 'PRINTING' });
    await journal.close();
    const reopened = await JsonlJournal.open<Job>(path);
    expect(reopened.get('bill-3')).toEqual({ state: 'PRINTING' });
    await reopened.close();
  });

  it('fails a batch as a whole', async () => {
    const faults: Faults = {};
    const journal = await openWith(faults);
    faults.write = 'ENOSPC';
    await expect(
      journal.setMany([
        ['bill-1', { state: 'DONE' }],
        ['bill-9', { state: 'RECEIVED' }],
      ]),
    ).rejects.toMatchObject({ code: 'STORAGE_WRITE_FAILED' });
    expect(journal.get('bill-1')).toEqual({ state: 'RECEIVED' });
    expect(journal.has('bill-9')).toBe(false);
    await journal.close();
  });

  it('refuses further writes when the rollback fails too, and a reopen recovers', async () => {
    const faults: Faults = {};
    const journal = await openWith(faults);
    faults.write = 'ENOSPC';
    faults.truncate = 'EIO';
    await expect(journal.set('bill-3', { state: 'PRINTING' })).rejects.toMatchObject({
      code: 'STORAGE_WRITE_FAILED',
    });

    faults.write = undefined;
    faults.truncate = undefined;
    await expect(journal.set('bill-4', { state: 'RECEIVED' })).rejects.toMatchObject({
      code: 'STORAGE_WRITE_FAILED',
      details: expect.objectContaining({ unusable: true }),
    });
    expect(journal.has('bill-4')).toBe(false);
    await journal.close();

    // The half line is still in the file; reopening treats it as the torn tail it is.
    const reopened = await JsonlJournal.open<Job>(path);
    expect(reopened.recovery.tornTail).toMatchObject({ reason: 'unterminated' });
    expect(Object.fromEntries(reopened.entries())).toEqual({
      'bill-1': { state: 'RECEIVED' },
      'bill-2': { state: 'RECEIVED' },
    });
    await reopened.set('bill-4', { state: 'RECEIVED' });
    await reopened.close();
  });

  it('leaves the journal as it was when compaction runs out of space', async () => {
    const faults: Faults = {};
    const journal = await openWith(faults);
    await journal.set('bill-1', { state: 'DONE' });
    const fileBefore = await readFile(path);

    faults.write = 'ENOSPC';
    await expect(journal.compact()).rejects.toMatchObject({
      code: 'STORAGE_WRITE_FAILED',
      message: expect.stringContaining('disk full'),
    });
    expect(await readFile(path)).toEqual(fileBefore);
    await expect(readFile(`${path}.compact`)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(journal.stats.compactions).toBe(0);

    faults.write = undefined;
    await journal.set('bill-3', { state: 'RECEIVED' });
    await journal.close();
    const reopened = await JsonlJournal.open<Job>(path);
    expect(reopened.size).toBe(3);
    await reopened.close();
  });

  it('leaves the journal as it was when the rename fails', async () => {
    const faults: Faults = {};
    const journal = await openWith(faults);
    const fileBefore = await readFile(path);
    faults.rename = 'EIO';
    await expect(journal.compact()).rejects.toMatchObject({ code: 'STORAGE_WRITE_FAILED' });
    expect(await readFile(path)).toEqual(fileBefore);
    faults.rename = undefined;
    await journal.set('bill-3', { state: 'RECEIVED' });
    await journal.close();
    const reopened = await JsonlJournal.open<Job>(path);
    expect(reopened.size).toBe(3);
    await reopened.close();
  });

  it('makes the compaction rename durable before the next append if the directory fsync failed', async () => {
    const faults: Faults = {};
    const journal = await openWith(faults);
    await journal.set('bill-1', { state: 'DONE' });

    // The first directory fsync (before the rename) passes, the second (after it) fails.
    let directorySyncs = 0;
    const base = faultyFs(faults);
    const counting: StoreFileSystem = {
      ...base,
      async syncDirectory(directory) {
        directorySyncs += 1;
        if (directorySyncs === 2) throw fsError('EIO');
        return base.syncDirectory(directory);
      },
    };
    await journal.close();
    const compacting = await JsonlJournal.open<Job>(path, { fs: counting });
    await expect(compacting.compact()).rejects.toMatchObject({ code: 'STORAGE_WRITE_FAILED' });
    expect(Object.fromEntries(compacting.entries())).toEqual({
      'bill-1': { state: 'DONE' },
      'bill-2': { state: 'RECEIVED' },
    });

    const fsyncsBefore = compacting.stats.fsyncs;
    await compacting.set('bill-3', { state: 'RECEIVED' });
    expect(compacting.stats.fsyncs - fsyncsBefore).toBe(2);
    expect(directorySyncs).toBe(3);
    const fsyncsAfter = compacting.stats.fsyncs;
    await compacting.set('bill-4', { state: 'RECEIVED' });
    expect(compacting.stats.fsyncs - fsyncsAfter).toBe(1);
    await compacting.close();

    const reopened = await JsonlJournal.open<Job>(path);
    expect(reopened.size).toBe(4);
    expect(reopened.lineCount).toBe(4);
    await reopened.close();
  });
});
