import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageReadError, StorageWriteError } from '../../lib/durableFile.js';
import { AgentDatabase } from './database.js';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import {
  DataDirLockedError,
  JournalImportError,
  needsTechnician,
  StoreCorruptError,
  StoreNotOursError,
  StoreVersionError,
} from './storeErrors.js';
import { readStoreOrigin, writeStoreOrigin } from './storeOrigin.js';

let dir: string;
let path: string;
const open: AgentDatabase[] = [];

function openDb(options: Parameters<typeof AgentDatabase.open>[1] = { fsync: false }): AgentDatabase {
  const db = AgentDatabase.open(path, options);
  open.push(db);
  return db;
}

const count = (db: AgentDatabase, table = 'imported_journals') =>
  Number(db.statement(`SELECT count(*) FROM ${table}`).pluck().get());

const insert = (db: AgentDatabase, file: string) =>
  db.statement("INSERT INTO imported_journals (file, at, records) VALUES (?, 'now', 0)").run(file);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-db-'));
  path = join(dir, 'agent.db');
});

afterEach(async () => {
  for (const db of open.splice(0)) db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('AgentDatabase.open', () => {
  it("keeps SQLite's page cache at 1 MiB, not better-sqlite3's 16 MB a box with years of history fills", () => {
    const db = openDb();
    // Negative: KiB. 16,000 KiB of cache was 13 MiB of RSS at 5 years (docs/BENCHMARKS.md).
    expect(db.statement('PRAGMA cache_size').pluck().get()).toBe(-1024);
  });

  it('creates the schema once, marked as ours, and opens it again', () => {
    const db = openDb();
    db.write('test', () => insert(db, 'a'));
    db.close();
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
    expect(count(openDb())).toBe(1);
  });

  it('knows a store created empty is new (to be rebuilt from the registers), and keeps knowing it', () => {
    const db = openDb();
    expect(readStoreOrigin(db)).toMatchObject({ origin: 'new', rebuild: 'pending' });
    writeStoreOrigin(db, { origin: 'new', rebuild: 'done', at: '2026-11-22T10:00:00.000Z' });
    db.close();
    expect(readStoreOrigin(openDb())).toMatchObject({ origin: 'new', rebuild: 'done' });
  });

  it('trusts a store upgraded from the first schema: nothing to rebuild, its rows kept', () => {
    const raw = new Database(path);
    raw.pragma('journal_mode = WAL');
    raw.exec(MIGRATIONS[0]!);
    raw.pragma(`application_id = ${APPLICATION_ID}`);
    raw.pragma('user_version = 1');
    raw.exec("INSERT INTO imported_journals (file, at, records) VALUES ('jobs.jsonl', 'then', 3)");
    raw.close();
    const db = openDb();
    expect(readStoreOrigin(db)).toMatchObject({ origin: 'upgraded', rebuild: 'not-needed' });
    expect(count(db)).toBe(1);
    expect(count(db, 'recovered_receipts')).toBe(0);
  });

  it('refuses a file that is not SQLite, and leaves it as it was', async () => {
    await writeFile(path, 'a shopping list\n');
    expect(() => openDb()).toThrow(StoreNotOursError);
    expect(await readFile(path, 'utf8')).toBe('a shopping list\n');
  });

  it('refuses another program’s SQLite database', () => {
    const foreign = new Database(path);
    foreign.exec('CREATE TABLE songs (title TEXT)');
    foreign.close();
    expect(() => openDb()).toThrow(
      /not a kkt-agent database \(an SQLite database of another program.*tables songs/,
    );
  });

  it('takes an empty file (a crash right after it was created) as a new store', async () => {
    await writeFile(path, '');
    const db = openDb();
    db.write('test', () => insert(db, 'a'));
    expect(count(db)).toBe(1);
  });

  it('names a foreign database with no tables by its application id', () => {
    const raw = new Database(path);
    raw.pragma('application_id = 7');
    raw.close();
    expect(() => openDb()).toThrow(/application id 7, no tables/);
  });

  it('a path it cannot read (a directory) is a typed storage error naming the path, not a bare EISDIR', async () => {
    await mkdir(path);
    expect(() => openDb()).toThrow(StorageReadError);
    expect(() => openDb()).toThrow(`Could not read ${path}`);
  });

  it('refuses a database of a newer schema', () => {
    openDb().close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openDb()).toThrow(StoreVersionError);
  });

  it('upgrades a store of schema 5 in place: its watermarks are kept, their register not known yet', () => {
    const old = new Database(path);
    for (const migration of MIGRATIONS.slice(0, 5)) old.exec(migration);
    old.pragma(`application_id = ${APPLICATION_ID}`);
    old.pragma('user_version = 5');
    old
      .prepare(
        "INSERT INTO fn_watermarks (device_id, fn_serial, document_number, at) VALUES ('kkt', 'F1', 42, 'then')",
      )
      .run();
    old.close();
    const db = openDb();
    expect(Number(db.statement('PRAGMA user_version').pluck().get())).toBe(SCHEMA_VERSION);
    expect(db.statement('SELECT * FROM fn_watermarks').all()).toEqual([
      { device_id: 'kkt', fn_serial: 'F1', document_number: 42, at: 'then', register_serial: null },
    ]);
    expect(readStoreOrigin(db)).toMatchObject({ origin: 'upgraded' });
  });

  it('upgrades a store of schema 6 in place: its outbox rows and links counted, then kept counted', () => {
    const old = new Database(path);
    for (const migration of MIGRATIONS.slice(0, 6)) old.exec(migration);
    old.pragma(`application_id = ${APPLICATION_ID}`);
    old.pragma('user_version = 6');
    const row = old.prepare(
      "INSERT INTO outbox (id, sink, state, kind, created_at, payload) VALUES (?, ?, ?, 'receipt', 'then', '{}')",
    );
    for (const [id, sink, state] of [
      ['r1', 'bridge:1', 'delivered'],
      ['r2', 'bridge:1', 'delivered'],
      ['r3', 'bridge:1', 'pending'],
      ['r4', 'mqtt', 'dead'],
    ])
      row.run(id, sink, state);
    const link = old.prepare(
      "INSERT INTO job_links (job_id, kind, target, amount_minor) VALUES (?, ?, 'sale-1', 100)",
    );
    for (const [jobId, kind] of [
      ['j1', 'return'],
      ['j2', 'return'],
      ['j3', 'correction'],
    ])
      link.run(jobId, kind);
    old.close();
    const db = openDb();
    const counts = () =>
      db.statement('SELECT sink, state, n FROM outbox_counts WHERE n > 0 ORDER BY sink, state').all();
    expect(counts()).toEqual([
      { sink: 'bridge:1', state: 'delivered', n: 2 },
      { sink: 'bridge:1', state: 'pending', n: 1 },
      { sink: 'mqtt', state: 'dead', n: 1 },
    ]);
    db.write('test', () => {
      db.statement("UPDATE outbox SET state = 'delivered' WHERE id = 'r3'").run();
      db.statement("DELETE FROM outbox WHERE id = 'r1'").run();
      db.statement(
        "INSERT INTO outbox (id, sink, state, kind, created_at, payload) VALUES ('r5', 'mqtt', 'pending', 'receipt', 'now', '{}')",
      ).run();
    });
    expect(counts()).toEqual([
      { sink: 'bridge:1', state: 'delivered', n: 2 },
      { sink: 'mqtt', state: 'dead', n: 1 },
      { sink: 'mqtt', state: 'pending', n: 1 },
    ]);
    const linkCounts = () =>
      db.statement('SELECT kind, n FROM job_link_counts WHERE n > 0 ORDER BY kind').all();
    expect(linkCounts()).toEqual([
      { kind: 'correction', n: 1 },
      { kind: 'return', n: 2 },
    ]);
    db.write('test', () => {
      db.statement("DELETE FROM job_links WHERE job_id = 'j1'").run();
      db.statement(
        "INSERT INTO job_links (job_id, kind, target, amount_minor) VALUES ('j4', 'advance', 'o/1', 5)",
      ).run();
    });
    expect(linkCounts()).toEqual([
      { kind: 'advance', n: 1 },
      { kind: 'correction', n: 1 },
      { kind: 'return', n: 1 },
    ]);
  });

  it('upgrades a store of schema 1 in place: its drafts are kept, and a failed sink can now be named', () => {
    // What an agent of schema 1 left behind: its tables and one draft marker.
    const old = new Database(path);
    old.exec(MIGRATIONS[0]!);
    old.pragma(`application_id = ${APPLICATION_ID}`);
    old.pragma('user_version = 1');
    old
      .prepare("INSERT INTO outbox_drafts (event, at, job_id) VALUES ('job.fiscalized:j1', 'then', 'j1')")
      .run();
    old.close();
    const db = openDb();
    expect(Number(db.statement('PRAGMA user_version').pluck().get())).toBe(SCHEMA_VERSION);
    expect(db.statement('SELECT event, undrafted FROM outbox_drafts').all()).toEqual([
      { event: 'job.fiscalized:j1', undrafted: null },
    ]);
    db.statement('UPDATE outbox_drafts SET undrafted = \'["flaky"]\'').run();
    expect(() => db.statement("UPDATE outbox_drafts SET undrafted = 'flaky'").run()).toThrow(/CHECK/);
  });

  it('upgrades a store of schema 4 in place: its rows and origin kept, failing bills now kept per connector', () => {
    const old = new Database(path);
    for (const migration of MIGRATIONS.slice(0, 4)) old.exec(migration);
    old.pragma(`application_id = ${APPLICATION_ID}`);
    old.pragma('user_version = 4');
    old.exec("INSERT INTO imported_journals (file, at, records) VALUES ('jobs.jsonl', 'then', 3)");
    old.close();
    const db = openDb();
    expect(Number(db.statement('PRAGMA user_version').pluck().get())).toBe(SCHEMA_VERSION);
    expect(count(db)).toBe(1);
    expect(readStoreOrigin(db)).toMatchObject({ origin: 'upgraded', rebuild: 'not-needed' });
    expect(count(db, 'failing_bills')).toBe(0);
    const insertBill = db.statement(
      `INSERT INTO failing_bills (connector, bill_id, code, message, since, failures, next_try_at)
       VALUES ('bridge:120', ?, 'BRIDGE_HTTP_STATUS', 'HTTP 500', 'then', ?, 'later')`,
    );
    insertBill.run('7001', 1);
    expect(() => insertBill.run('7001', 2)).toThrow(/UNIQUE/);
    expect(() => insertBill.run('7002', 0)).toThrow(/CHECK/);
    expect(() => insertBill.run('7003', 'many')).toThrow(/cannot store TEXT value in INTEGER column/);
  });

  it('refuses a database of ours with a table missing', () => {
    openDb().close();
    const raw = new Database(path);
    raw.exec('DROP TABLE outbox_drafts');
    raw.close();
    expect(() => openDb()).toThrow(StoreCorruptError);
  });

  it('is held by one connection only: a second open fails as DATA_DIR_LOCKED', () => {
    openDb();
    expect(() => AgentDatabase.open(path, { fsync: false })).toThrow(DataDirLockedError);
  });
});

describe('AgentDatabase.write', () => {
  it('commits a transaction, counting one fsync per durable commit and two per checkpoint', () => {
    const db = openDb({ fsync: true, checkpointEveryCommits: 4 });
    const before = db.stats;
    for (let i = 0; i < 3; i++) db.write('test', () => insert(db, `durable-${i}`));
    db.write('test', () => insert(db, 'not-durable'), { durable: false });
    const after = db.stats;
    expect(after.commits - before.commits).toBe(4);
    expect(after.durableCommits - before.durableCommits).toBe(3);
    // The fourth commit triggered a checkpoint that copied frames.
    expect(after.checkpoints - before.checkpoints).toBe(1);
    expect(after.fsyncs - before.fsyncs).toBe(3 + 2);
  });

  it('counts no fsyncs with fsync off (benchmarks of the agent’s own overhead)', () => {
    const db = openDb({ fsync: false, checkpointEveryCommits: 1 });
    db.write('test', () => insert(db, 'x'));
    expect(db.stats).toMatchObject({ commits: 2, durableCommits: 0, fsyncs: 0 }); // the schema, then ours
  });

  it('rolls a failed transaction back whole and drops its after-commit work', () => {
    const db = openDb();
    let ran = false;
    expect(() =>
      db.write('test', () => {
        insert(db, 'first');
        db.afterCommit(() => {
          ran = true;
        });
        throw new Error('refused half-way');
      }),
    ).toThrow('refused half-way');
    expect(count(db)).toBe(0);
    expect(ran).toBe(false);
    expect(db.stats.commits).toBe(1); // the schema only
  });

  it('runs after-commit work at once outside a transaction', () => {
    const db = openDb();
    const ran: string[] = [];
    db.afterCommit(() => ran.push('now'));
    expect(ran).toEqual(['now']);
  });

  it('runs after-commit work only once the outermost transaction commits', () => {
    const db = openDb();
    const order: string[] = [];
    db.write('outer', () => {
      db.write('inner', () => {
        insert(db, 'inner');
        db.afterCommit(() => order.push('inner committed'));
      });
      order.push('outer body done');
    });
    expect(order).toEqual(['outer body done', 'inner committed']);
  });

  it('a nested write that fails rolls back only itself when the outer one goes on', () => {
    const db = openDb();
    const after: string[] = [];
    db.write('outer', () => {
      insert(db, 'kept');
      try {
        db.write('inner', () => {
          insert(db, 'dropped');
          db.afterCommit(() => after.push('dropped'));
          throw new Error('inner refused');
        });
      } catch {
        // the outer transaction carries on
      }
      db.afterCommit(() => after.push('kept'));
    });
    const files = db.statement('SELECT file FROM imported_journals').pluck().all();
    expect(files).toEqual(['kept']);
    expect(after).toEqual(['kept']);
  });

  it('a full disk is a failed write: typed, nothing changed, and the next write after space returns succeeds', () => {
    const db = openDb();
    db.write('test', () => insert(db, 'before'));
    const pages = Number(db.statement('PRAGMA page_count').pluck().get());
    db.statement(`PRAGMA max_page_count = ${pages}`).get();
    let error: unknown;
    try {
      db.write('test', () => insert(db, 'x'.repeat(64 * 1024)));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StorageWriteError);
    expect((error as StorageWriteError).message).toContain('disk full');
    expect(db.statement('SELECT file FROM imported_journals').pluck().all()).toEqual(['before']);
    // Issue 18.11: the failure is visible until a write succeeds again.
    expect(db.writeFailure).toMatchObject({
      path: db.path,
      failures: 1,
      lastError: { code: 'STORAGE_WRITE_FAILED' },
    });
    db.statement('PRAGMA max_page_count = 1073741823').get();
    db.write('test', () => insert(db, 'after'));
    expect(count(db)).toBe(2);
    expect(db.writeFailure).toBeUndefined();
  });
});

describe('AgentDatabase.storageFigures', () => {
  it('reports the file, its WAL and the free disk', () => {
    const db = openDb({ fsync: false, checkpointEveryCommits: 1_000 });
    db.write('test', () => insert(db, 'a'));
    const figures = db.storageFigures();
    expect(figures.path).toBe(path);
    expect(figures.databaseBytes).toBeGreaterThan(0);
    expect(figures.walBytes).toBeGreaterThan(0);
    expect(figures.freeDiskBytes).toBeGreaterThan(0);
  });

  it('reports 0 for files gone (a WAL after a clean close), and is closed after close', () => {
    const db = AgentDatabase.open(path, { fsync: false });
    expect(db.open).toBe(true);
    expect(db.inTransaction).toBe(false);
    db.close();
    expect(db.open).toBe(false);
    expect(db.storageFigures().walBytes).toBe(0);
  });
});

describe('needsTechnician', () => {
  it('is true only for store errors a restart cannot fix', () => {
    expect(
      needsTechnician(new JournalImportError('/var/lib/kkt-agent/jobs.jsonl', 'line 3 is not JSON')),
    ).toBe(true);
    expect(needsTechnician(new Error('EIO'))).toBe(false);
    expect(needsTechnician(null)).toBe(false);
    expect(needsTechnician('STORE_CORRUPT')).toBe(false);
  });
});
