import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { fsErrorCode, fsyncDirectory, StorageReadError, StorageWriteError } from '../lib/durableFile.js';
import { errorMessage } from '../lib/errors.js';
import { parseWithSchema } from '../lib/json.js';
import { crashPoint } from './crashPoints.js';
import type { Job } from './jobs/job.js';
import { jobSchema } from './jobs/jobSchema.js';
import { JobStore } from './jobs/jobStore.js';
import { Outbox, outboxEntrySchema } from './outbox/outbox.js';
import type { OutboxEntry } from './outbox/sink.js';
import type { AgentDatabase } from './store/database.js';
import { JournalCorruptError } from './store/errors.js';
import { scanJournal } from './store/journalFormat.js';
import { JournalImportError } from './store/storeErrors.js';
import { markImported } from './store/storeOrigin.js';

/**
 * Migration from the JSONL journals of agents before the database (docs/storage.md, "Migration"). On the
 * first start over such a data directory, `jobs.jsonl` and `outbox.jsonl` are read with the old format's
 * reader (read-only), every record validated, and imported in ONE transaction together with a row per file
 * in `imported_journals`; the counts per state are checked inside that transaction before it commits. Only
 * then are the files renamed to `*.migrated` (kept beside, never deleted). A kill before the commit leaves
 * the database as it was and the journals in place: the next start imports again from scratch. A kill
 * after the commit leaves the rows and the journals: the next start sees `imported_journals` and only
 * finishes the renames, so nothing is imported twice.
 */

export const JOURNAL_FILES = { jobs: 'jobs.jsonl', outbox: 'outbox.jsonl' } as const;
export const MIGRATED_SUFFIX = '.migrated';

const markerSchema = z.object({
  marker: z.literal(true),
  event: z.string().min(1),
  at: z.string(),
  jobId: z.string().optional(),
});

interface JournalRecords<T> {
  file: string;
  path: string;
  records: Array<{ line: number; key: string; value: T }>;
}

export interface ImportResult {
  jobs: Record<string, number>;
  outbox: Record<string, number>;
  markers: number;
}

async function readJournal(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if (fsErrorCode(error) === 'ENOENT') return undefined;
    throw new StorageReadError(path, error);
  }
}

/** Every live record of a journal, validated; a record of the wrong shape names its file and line. */
function validated<T>(
  path: string,
  buffer: Buffer,
  parse: (key: string, value: unknown) => T,
): Array<{ line: number; key: string; value: T }> {
  const scan = scanJournal(buffer, path);
  const records: Array<{ line: number; key: string; value: T }> = [];
  for (const [key, { line, value }] of scan.latest) {
    try {
      records.push({ line, key, value: parse(key, value) });
    } catch (error) {
      throw new JournalCorruptError(
        path,
        line,
        `the value of ${JSON.stringify(key)} is not valid (${errorMessage(error)})`,
        {
          key,
        },
      );
    }
  }
  return records.sort((a, b) => a.line - b.line);
}

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return counts;
}

function tableCounts(db: AgentDatabase, sql: string): Record<string, number> {
  const rows = db.statement(sql).all() as Array<{ k: string; n: number }>;
  return Object.fromEntries(rows.map((row) => [row.k, row.n]));
}

function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const keys = new Set([...Object.keys(after), ...Object.keys(before)]);
  return Object.fromEntries(
    [...keys].map((key) => [key, (after[key] ?? 0) - (before[key] ?? 0)]).filter(([, n]) => n !== 0),
  );
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => (a[key] ?? 0) === (b[key] ?? 0));
}

async function markMigrated(dataDir: string, files: readonly string[]): Promise<void> {
  for (const file of files) {
    const path = join(dataDir, file);
    try {
      await rename(path, `${path}${MIGRATED_SUFFIX}`);
    } catch (error) {
      if (fsErrorCode(error) !== 'ENOENT')
        throw new StorageWriteError(path, 'rename the imported journal', error);
    }
  }
  try {
    await fsyncDirectory(dataDir);
  } catch (error) {
    throw new StorageWriteError(dataDir, 'make durable the rename of the imported journals in', error);
  }
}

/** Imports the JSONL journals found in `dataDir`, once. Returns what was imported, or undefined. */
export async function importJournals(
  db: AgentDatabase,
  dataDir: string,
  logger: Logger,
): Promise<ImportResult | undefined> {
  const present: Array<{ file: string; path: string; buffer: Buffer }> = [];
  for (const file of Object.values(JOURNAL_FILES)) {
    const path = join(dataDir, file);
    const buffer = await readJournal(path);
    if (buffer !== undefined) present.push({ file, path, buffer });
  }
  if (present.length === 0) return undefined;

  const imported = db.read(
    () => db.statement('SELECT file FROM imported_journals').pluck().all() as string[],
  );
  const pending = present.filter(({ file }) => !imported.includes(file));
  if (pending.length === 0) {
    // The import committed, then the process stopped before the renames: finish them, import nothing.
    await markMigrated(
      dataDir,
      present.map(({ file }) => file),
    );
    logger.info({ event: 'store.journals-renamed', files: present.map(({ file }) => file) });
    return undefined;
  }

  const jobs: JournalRecords<Job> = {
    file: JOURNAL_FILES.jobs,
    path: join(dataDir, JOURNAL_FILES.jobs),
    records: [],
  };
  const entries: JournalRecords<OutboxEntry> = {
    file: JOURNAL_FILES.outbox,
    path: join(dataDir, JOURNAL_FILES.outbox),
    records: [],
  };
  const markers: Array<z.output<typeof markerSchema>> = [];
  for (const { file, path, buffer } of pending) {
    if (file === JOURNAL_FILES.jobs) {
      jobs.records = validated(path, buffer, (key, value) => {
        const job = parseWithSchema(jobSchema, value);
        if (job.id !== key) throw new Error(`its id ${job.id} is not its key`);
        return job;
      });
    } else {
      const records = validated(path, buffer, (key, value) =>
        key.startsWith('draft:')
          ? ({ kind: 'marker', marker: parseWithSchema(markerSchema, value) } as const)
          : ({ kind: 'entry', entry: parseWithSchema(outboxEntrySchema, value) as OutboxEntry } as const),
      );
      for (const { line, key, value } of records) {
        if (value.kind === 'marker') markers.push(value.marker);
        else entries.records.push({ line, key, value: value.entry });
      }
    }
  }

  const expectedJobs = countBy(jobs.records, (r) => r.value.state);
  const expectedOutbox = countBy(entries.records, (r) => r.value.state);
  const jobCountsSql = 'SELECT state AS k, count(*) AS n FROM jobs GROUP BY state';
  const outboxCountsSql = 'SELECT state AS k, count(*) AS n FROM outbox GROUP BY state';
  const now = new Date().toISOString();
  db.write('journal-import', () => {
    const jobsBefore = tableCounts(db, jobCountsSql);
    const outboxBefore = tableCounts(db, outboxCountsSql);
    const markersBefore = Number(db.statement('SELECT count(*) FROM outbox_drafts').pluck().get());
    for (const { line, value } of jobs.records) {
      try {
        JobStore.insertImported(db, value);
      } catch (error) {
        throw new JournalImportError(jobs.path, `line ${line}: ${errorMessage(error)}`, { line });
      }
    }
    for (const { line, value } of entries.records) {
      try {
        Outbox.insertImported(db, value);
      } catch (error) {
        throw new JournalImportError(entries.path, `line ${line}: ${errorMessage(error)}`, { line });
      }
    }
    for (const marker of markers) Outbox.insertImportedMarker(db, marker);
    // The older agent's history is this store's: it is not new, and nothing is rebuilt from the register.
    markImported(db, now);
    const record = db.statement('INSERT INTO imported_journals (file, at, records) VALUES (?, ?, ?)');
    for (const { file } of pending) {
      const records =
        file === JOURNAL_FILES.jobs ? jobs.records.length : entries.records.length + markers.length;
      record.run(file, now, records);
    }
    crashPoint('store:journal-import:inserted');
    // The check the import stands on: per state, the database gained exactly what the journals hold.
    const jobsGained = difference(tableCounts(db, jobCountsSql), jobsBefore);
    const outboxGained = difference(tableCounts(db, outboxCountsSql), outboxBefore);
    const markersGained =
      Number(db.statement('SELECT count(*) FROM outbox_drafts').pluck().get()) - markersBefore;
    if (
      !sameCounts(jobsGained, expectedJobs) ||
      !sameCounts(outboxGained, expectedOutbox) ||
      markersGained !== markers.length
    ) {
      throw new JournalImportError(
        pending.map(({ path }) => path).join(', '),
        'the counts per state do not match',
        {
          expected: { jobs: expectedJobs, outbox: expectedOutbox, markers: markers.length },
          imported: { jobs: jobsGained, outbox: outboxGained, markers: markersGained },
        },
      );
    }
  });
  await markMigrated(
    dataDir,
    present.map(({ file }) => file),
  );
  const result: ImportResult = { jobs: expectedJobs, outbox: expectedOutbox, markers: markers.length };
  logger.info({ event: 'store.journals-imported', files: pending.map(({ file }) => file), ...result });
  return result;
}
