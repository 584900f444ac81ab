import { appendFile, cp, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobStore } from './jobs/jobStore.js';
import { importJournals, JOURNAL_FILES, MIGRATED_SUFFIX } from './journalImport.js';
import { Outbox } from './outbox/outbox.js';
import { AgentDatabase } from './store/database.js';
import { readStoreOrigin } from './store/storeOrigin.js';

/**
 * The migration from the JSONL journals, on a data directory the agent before the database made
 * (test/fixtures/journals-0.1.0: how it was made is in its make.mjs; expected.json holds that agent's counts).
 */

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/journals-0.1.0/', import.meta.url));
const expected = JSON.parse(await readFile(join(FIXTURE, 'expected.json'), 'utf8')) as {
  jobs: Record<string, number>;
  withoutBill: number;
  outbox: Record<string, number>;
  markers: number;
  examples: Record<string, string>;
};
const logger = pino({ level: 'silent' });

let dir: string;
let db: AgentDatabase | undefined;

function openDb(): AgentDatabase {
  db = AgentDatabase.open(join(dir, 'agent.db'), { fsync: false });
  return db;
}

function closeDb(): void {
  db?.close();
  db = undefined;
}

const nonZero = (counts: Record<string, number>) =>
  Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));

function outboxCounts(store: AgentDatabase): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of new Outbox(store, logger).entries())
    counts[entry.state] = (counts[entry.state] ?? 0) + 1;
  return counts;
}

const markerCount = (store: AgentDatabase) =>
  Number(store.statement('SELECT count(*) FROM outbox_drafts').pluck().get());

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-import-'));
  await cp(join(FIXTURE, 'data'), dir, { recursive: true });
});

afterEach(async () => {
  closeDb();
  await rm(dir, { recursive: true, force: true });
});

describe('importJournals', () => {
  it('imports a data directory made by the 0.1.0 agent: every job and report, counts per state checked', async () => {
    const originals = {
      jobs: await readFile(join(dir, JOURNAL_FILES.jobs)),
      outbox: await readFile(join(dir, JOURNAL_FILES.outbox)),
    };
    const store = openDb();
    expect(readStoreOrigin(store)).toMatchObject({ origin: 'new', rebuild: 'pending' });
    const result = await importJournals(store, dir, logger);
    expect(result).toEqual({ jobs: expected.jobs, outbox: expected.outbox, markers: expected.markers });
    // The older agent's history is the store's: not new, nothing to rebuild from the register.
    expect(readStoreOrigin(store)).toMatchObject({ origin: 'imported', rebuild: 'not-needed' });

    const jobs = new JobStore(store);
    expect(jobs.countByState()).toEqual(expected.jobs);
    expect(jobs.all().filter((job) => job.bill === undefined)).toHaveLength(expected.withoutBill);
    expect(jobs.get(expected.examples['blocked']!)?.state).toBe('BLOCKED');
    expect(jobs.get(expected.examples['printing']!)?.printing?.lastDocumentNumberBefore).toBeTypeOf('number');
    expect(jobs.inState('RECEIVED').map((job) => job.id)).toEqual([expected.examples['received']]);
    expect(nonZero(outboxCounts(store))).toEqual(nonZero(expected.outbox));
    expect(markerCount(store)).toBe(expected.markers);
    // A reported job's deduplication holds across the import: its bill key finds it.
    const reported = jobs.latest(1, 'REPORTED')[0]!;
    expect(jobs.findByBill(reported.summary)?.id).toBe(reported.id);

    // Kept beside, byte for byte, under their new names; the old names are gone.
    const names = await readdir(dir);
    expect(names).not.toContain(JOURNAL_FILES.jobs);
    expect(names).not.toContain(JOURNAL_FILES.outbox);
    expect(await readFile(join(dir, `${JOURNAL_FILES.jobs}${MIGRATED_SUFFIX}`))).toEqual(originals.jobs);
    expect(await readFile(join(dir, `${JOURNAL_FILES.outbox}${MIGRATED_SUFFIX}`))).toEqual(originals.outbox);
  });

  it('does not import again on the next start', async () => {
    await importJournals(openDb(), dir, logger);
    closeDb();
    const store = openDb();
    expect(await importJournals(store, dir, logger)).toBeUndefined();
    expect(new JobStore(store).countByState()).toEqual(expected.jobs);
  });

  it('after a stop between the commit and the renames, only finishes the renames', async () => {
    await importJournals(openDb(), dir, logger);
    closeDb();
    // As if the process stopped right after the commit: the journals are still under their old names.
    for (const file of Object.values(JOURNAL_FILES))
      await rename(join(dir, `${file}${MIGRATED_SUFFIX}`), join(dir, file));
    const store = openDb();
    expect(await importJournals(store, dir, logger)).toBeUndefined();
    expect(new JobStore(store).countByState()).toEqual(expected.jobs);
    expect(markerCount(store)).toBe(expected.markers);
    expect(await readdir(dir)).not.toContain(JOURNAL_FILES.jobs);
  });

  it('drops a torn last line (never acknowledged) and imports the rest', async () => {
    const path = join(dir, JOURNAL_FILES.jobs);
    await appendFile(path, '{"k":"torn","v":{"id":"torn","sta');
    const result = await importJournals(openDb(), dir, logger);
    expect(result?.jobs).toEqual(expected.jobs);
  });

  it('refuses a record with a wrong value, naming file and line, and imports nothing', async () => {
    const path = join(dir, JOURNAL_FILES.jobs);
    const lines = (await readFile(path, 'utf8')).split('\n');
    const record = JSON.parse(lines[3]!) as { k: string; v: Record<string, unknown> };
    record.v['attempts'] = 'twice';
    lines[3] = JSON.stringify(record);
    await writeFile(path, lines.join('\n'));
    const store = openDb();
    await expect(importJournals(store, dir, logger)).rejects.toMatchObject({
      code: 'JOURNAL_CORRUPT',
      message: expect.stringContaining(`${path} is damaged at line 4`),
    });
    expect(Number(store.statement('SELECT count(*) FROM jobs').pluck().get())).toBe(0);
    expect(readStoreOrigin(store).origin).toBe('new');
    expect(await readdir(dir)).toContain(JOURNAL_FILES.jobs);
  });

  it('refuses a bill the database already has a job for, and imports nothing', async () => {
    const store = openDb();
    const first = (await readFile(join(dir, JOURNAL_FILES.jobs), 'utf8')).split('\n')[1]!;
    const job = (JSON.parse(first) as { v: Parameters<JobStore['create']>[0] }).v;
    await new JobStore(store).create({ ...job, id: 'other-job', seq: 999, state: 'RECEIVED' });
    await expect(importJournals(store, dir, logger)).rejects.toMatchObject({ code: 'STORE_IMPORT_FAILED' });
    expect(Number(store.statement('SELECT count(*) FROM jobs').pluck().get())).toBe(1);
    expect(markerCount(store)).toBe(0);
    expect(await readdir(dir)).toContain(JOURNAL_FILES.outbox);
  });
});
