/**
 * The agent's database schema (docs/storage.md, "Tables"). `application_id` marks the file as ours; the
 * schema version is `user_version`. A later version adds a step to `MIGRATIONS`, never edits one.
 *
 * Every table is STRICT and every JSON column is checked with `json_valid`, so SQLite itself refuses a
 * record of the wrong type from any writer; what the columns cannot say is checked when a row is read
 * (the jobs' and the outbox's zod schemas), with an error naming the table and row.
 */

/** 'KKTA' in ASCII: `PRAGMA application_id` of every kkt-agent database. */
export const APPLICATION_ID = 0x4b4b5441;

/** States as the CHECK constraint lists them; `jobs/job.ts` JOB_STATES must list the same (a test checks). */
export const JOB_STATE_SQL = ['RECEIVED', 'PRINTING', 'FISCALIZED', 'REPORTED', 'FAILED', 'BLOCKED'] as const;

const states = JOB_STATE_SQL.map((state) => `'${state}'`).join(', ');

const VERSION_1 = `
CREATE TABLE jobs (
  -- Arrival order (FIFO per device); the rowid, so the newest job is found without a scan.
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 64),
  -- The deduplication key: one job per bill, ever (slimmed rows keep it).
  source TEXT NOT NULL,
  account TEXT NOT NULL,
  bill_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN (${states})),
  device_id TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  -- The rest of the lasting record (no field repeats a column): what deduplication and the technician need.
  job TEXT NOT NULL CHECK (json_valid(job) AND json_type(job) = 'object'),
  UNIQUE (source, account, bill_id)
) STRICT;
CREATE INDEX jobs_by_state ON jobs (state, seq);

-- What only the print needs (the bill, the anchor), apart from the lasting record: retention deletes these
-- rows whole, so their pages are freed and reused and the jobs table never holds half-empty pages.
CREATE TABLE job_details (
  seq INTEGER PRIMARY KEY,
  details TEXT NOT NULL CHECK (json_valid(details) AND json_type(details) = 'object')
) STRICT;

-- Counts per state kept by triggers, so status never counts years of rows.
CREATE TABLE job_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL) STRICT, WITHOUT ROWID;
INSERT INTO job_counts (state, n) VALUES ${JOB_STATE_SQL.map((state) => `('${state}', 0)`).join(', ')};
CREATE TRIGGER jobs_counted_insert AFTER INSERT ON jobs BEGIN
  UPDATE job_counts SET n = n + 1 WHERE state = NEW.state;
END;
CREATE TRIGGER jobs_counted_update AFTER UPDATE OF state ON jobs WHEN OLD.state <> NEW.state BEGIN
  UPDATE job_counts SET n = n - 1 WHERE state = OLD.state;
  UPDATE job_counts SET n = n + 1 WHERE state = NEW.state;
END;
CREATE TRIGGER jobs_counted_delete AFTER DELETE ON jobs BEGIN
  UPDATE job_counts SET n = n - 1 WHERE state = OLD.state;
END;

CREATE TABLE outbox (
  -- FIFO order within a sink.
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  sink TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  job_id TEXT,
  kind TEXT NOT NULL,
  created_at TEXT NOT NULL,
  delivered_at TEXT,
  last_error TEXT CHECK (last_error IS NULL OR json_valid(last_error)),
  payload TEXT NOT NULL CHECK (json_valid(payload))
) STRICT;
-- The delivery queues: only pending rows are in it.
CREATE INDEX outbox_queue ON outbox (sink, seq) WHERE state = 'pending';
CREATE INDEX outbox_by_job ON outbox (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE state = 'delivered';

-- An event's reports were drafted (even when no sink wanted it): recovery never drafts twice.
CREATE TABLE outbox_drafts (
  event TEXT PRIMARY KEY,
  at TEXT NOT NULL,
  job_id TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX outbox_drafts_by_time ON outbox_drafts (at);

-- JSONL journals imported by the migration (docs/storage.md, "Migration from the JSONL journals").
CREATE TABLE imported_journals (
  file TEXT PRIMARY KEY,
  at TEXT NOT NULL,
  records INTEGER NOT NULL
) STRICT;
`;

/**
 * Issue 18.4: a sink whose draft fails no longer holds the other sinks' reports back; the marker names the
 * sinks still to draft (a JSON array), and the event counts as published only once it is NULL.
 */
const VERSION_2 = `
ALTER TABLE outbox_drafts ADD COLUMN undrafted TEXT
  CHECK (undrafted IS NULL OR (json_valid(undrafted) AND json_type(undrafted) = 'array'));
`;

/** Link kinds as the CHECK constraint lists them; `jobs/links.ts` LINK_KINDS must list the same (a test checks). */
export const LINK_KIND_SQL = [
  'return',
  'correction',
  'advance',
  'advanceReturn',
  'offset',
  'credit',
  'creditPayment',
] as const;

const VERSION_3 = `
-- What ties receipts together (docs/storage.md, "Links"): a return to the sale it returns, a correction to
-- the receipt it corrects, and the ledger of an order (advances, their returns, the offsets of final
-- receipts, credit given and repaid). A link is written in the transaction that creates its job, after the
-- limits were checked in that same transaction.
CREATE TABLE job_links (
  job_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN (${LINK_KIND_SQL.map((kind) => `'${kind}'`).join(', ')})),
  -- A job id (return, correction) or an order key 'source/account/order' (the ledger kinds).
  target TEXT NOT NULL,
  amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
  -- A return's quantities per position of the original: [{"position": 0, "quantityMilli": 1000}, …].
  lines TEXT CHECK (lines IS NULL OR (json_valid(lines) AND json_type(lines) = 'array')),
  PRIMARY KEY (job_id, kind, target)
) STRICT, WITHOUT ROWID;
CREATE INDEX job_links_by_target ON job_links (target, kind);

-- Jobs per receipt kind, kept by triggers (the kind never changes once a job exists).
CREATE TABLE job_kind_counts (kind TEXT PRIMARY KEY, n INTEGER NOT NULL) STRICT, WITHOUT ROWID;
INSERT INTO job_kind_counts (kind, n)
  SELECT coalesce(json_extract(job, '$.operation'), 'sell'), count(*) FROM jobs GROUP BY 1;
CREATE TRIGGER jobs_kind_counted_insert AFTER INSERT ON jobs BEGIN
  INSERT INTO job_kind_counts (kind, n) VALUES (coalesce(json_extract(NEW.job, '$.operation'), 'sell'), 1)
    ON CONFLICT (kind) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER jobs_kind_counted_delete AFTER DELETE ON jobs BEGIN
  UPDATE job_kind_counts SET n = n - 1 WHERE kind = coalesce(json_extract(OLD.job, '$.operation'), 'sell');
END;
`;

/**
 * Version 4: what rebuilding from the registers needs (docs/storage.md, "Rebuilding from the register").
 * A database upgraded from an earlier version was not lost: its origin says so, and nothing is rebuilt.
 */
const VERSION_4 = `
-- Where this store came from. A new one (or one a technician declared lost) is rebuilt from the registers'
-- fiscal storage before any bill is taken; an imported or upgraded one is trusted.
CREATE TABLE store_origin (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  origin TEXT NOT NULL CHECK (origin IN ('new', 'imported', 'upgraded', 'declared-lost')),
  rebuild TEXT NOT NULL CHECK (rebuild IN ('pending', 'done', 'not-needed')),
  at TEXT NOT NULL,
  note TEXT
) STRICT;
INSERT INTO store_origin (id, origin, rebuild, at) VALUES (1, 'upgraded', 'not-needed', strftime('%Y-%m-%dT%H:%M:%fZ'));

-- Per device, how its rebuild ended: read back (with what it covered), or unreadable and waiting for a
-- technician, or confirmed by one.
CREATE TABLE recovery_devices (
  device_id TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('done', 'unreadable', 'confirmed')),
  at TEXT NOT NULL,
  detail TEXT NOT NULL CHECK (json_valid(detail) AND json_type(detail) = 'object')
) STRICT, WITHOUT ROWID;

-- Per device, the FN document up to which the store has accounted for everything: a start that finds the
-- FN further on reads the documents in between for receipts of ours the store does not know.
CREATE TABLE fn_watermarks (
  device_id TEXT PRIMARY KEY,
  fn_serial TEXT NOT NULL,
  document_number INTEGER NOT NULL CHECK (document_number >= 0),
  at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Receipts of ours found on a register that the store did not know: a job with the marker takes one
-- (job_id) instead of printing again.
CREATE TABLE recovered_receipts (
  fn_serial TEXT NOT NULL,
  document_number INTEGER NOT NULL,
  device_id TEXT NOT NULL,
  marker TEXT NOT NULL,
  found_at TEXT NOT NULL,
  receipt TEXT NOT NULL CHECK (json_valid(receipt) AND json_type(receipt) = 'object'),
  job_id TEXT,
  PRIMARY KEY (fn_serial, document_number)
) STRICT, WITHOUT ROWID;
CREATE INDEX recovered_by_marker ON recovered_receipts (marker);
CREATE INDEX recovered_by_time ON recovered_receipts (found_at);
`;

/**
 * Version 5, failing bills (issue 18.2): a cloud's bill that could not be taken keeps its backoff across a
 * restart, so a bill that keeps failing is not asked for again by every start (docs/bridge.md, "One bad
 * bill"). A row goes when the bill is taken or the cloud no longer lists it.
 */
const VERSION_5 = `
CREATE TABLE failing_bills (
  -- The connector's name, 'bridge:120'.
  connector TEXT NOT NULL,
  bill_id TEXT NOT NULL,
  -- The last failure's code and message.
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  since TEXT NOT NULL,
  failures INTEGER NOT NULL CHECK (failures >= 1),
  next_try_at TEXT NOT NULL,
  PRIMARY KEY (connector, bill_id)
) STRICT, WITHOUT ROWID;
`;

/**
 * Version 6, the register of a watermark (issue 19): another register at a device's address blocks it.
 */
const VERSION_6 = `
-- The register a device's watermark was read on (its factory serial): a start that finds another register
-- at the device's address (swapped, or this card from another box) applies nothing of the old one's
-- watermark and blocks the device for a technician. NULL: not known yet (written by an older version).
ALTER TABLE fn_watermarks ADD COLUMN register_serial TEXT;
`;

/**
 * Version 7, counts kept by triggers: outbox rows per sink and state, links per kind. The state document and
 * `status` read them at every change, and counting with a GROUP BY read every row of the outbox, payloads
 * included (on a box with a month of delivered reports, tens of MiB per state document: docs/storage.md).
 */
const VERSION_7 = `
CREATE TABLE outbox_counts (
  sink TEXT NOT NULL,
  state TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (sink, state)
) STRICT, WITHOUT ROWID;
INSERT INTO outbox_counts (sink, state, n) SELECT sink, state, count(*) FROM outbox GROUP BY sink, state;
CREATE TRIGGER outbox_counted_insert AFTER INSERT ON outbox BEGIN
  INSERT INTO outbox_counts (sink, state, n) VALUES (NEW.sink, NEW.state, 1)
    ON CONFLICT (sink, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER outbox_counted_update AFTER UPDATE OF sink, state ON outbox BEGIN
  UPDATE outbox_counts SET n = n - 1 WHERE sink = OLD.sink AND state = OLD.state;
  INSERT INTO outbox_counts (sink, state, n) VALUES (NEW.sink, NEW.state, 1)
    ON CONFLICT (sink, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER outbox_counted_delete AFTER DELETE ON outbox BEGIN
  UPDATE outbox_counts SET n = n - 1 WHERE sink = OLD.sink AND state = OLD.state;
END;

-- Links per kind, the same way: the state document reads them at every change, and links are never pruned.
CREATE TABLE job_link_counts (kind TEXT PRIMARY KEY, n INTEGER NOT NULL) STRICT, WITHOUT ROWID;
INSERT INTO job_link_counts (kind, n) SELECT kind, count(*) FROM job_links GROUP BY kind;
CREATE TRIGGER job_links_counted_insert AFTER INSERT ON job_links BEGIN
  INSERT INTO job_link_counts (kind, n) VALUES (NEW.kind, 1) ON CONFLICT (kind) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER job_links_counted_update AFTER UPDATE OF kind ON job_links BEGIN
  UPDATE job_link_counts SET n = n - 1 WHERE kind = OLD.kind;
  INSERT INTO job_link_counts (kind, n) VALUES (NEW.kind, 1) ON CONFLICT (kind) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER job_links_counted_delete AFTER DELETE ON job_links BEGIN
  UPDATE job_link_counts SET n = n - 1 WHERE kind = OLD.kind;
END;
`;

/** Index i brings a database from version i to i + 1. */
export const MIGRATIONS: readonly string[] = [
  VERSION_1,
  VERSION_2,
  VERSION_3,
  VERSION_4,
  VERSION_5,
  VERSION_6,
  VERSION_7,
];

/** Run after the migrations when the database was created empty: a new store is rebuilt from the registers. */
export const NEW_STORE_SQL = "UPDATE store_origin SET origin = 'new', rebuild = 'pending' WHERE id = 1";

export const SCHEMA_VERSION = MIGRATIONS.length;

/** The tables a database of ours has; an `application_id` of ours without them is damage. */
export const TABLES = [
  'jobs',
  'job_details',
  'job_counts',
  'outbox',
  'outbox_drafts',
  'imported_journals',
  'job_links',
  'job_kind_counts',
  'store_origin',
  'recovery_devices',
  'fn_watermarks',
  'recovered_receipts',
  'failing_bills',
  'outbox_counts',
  'job_link_counts',
] as const;
