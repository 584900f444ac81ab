import { KktAgentError } from '../../lib/errors.js';

/**
 * What can be wrong with the agent's database file, each with what a technician does about it. None of
 * these heals by restarting: `needsTechnician` tells the daemon to exit with the code systemd does not
 * restart on (docs/storage.md, "When the database is refused").
 */

/** The file exists but is not the agent's database (another program's file, or not SQLite at all). */
export class StoreNotOursError extends KktAgentError {
  readonly needsTechnician = true;

  constructor(path: string, reason: string) {
    super(
      'STORE_NOT_OURS',
      `${path} is not a kkt-agent database (${reason}). Move it out of the data directory (or point ` +
        'dataDir elsewhere) and start the agent again; it creates a new one.',
      { path, reason },
    );
  }
}

/** SQLite found damage it cannot explain by a crash (a torn WAL frame is not damage; see docs/storage.md). */
export class StoreCorruptError extends KktAgentError {
  readonly needsTechnician = true;

  constructor(path: string, reason: string, cause?: unknown) {
    super(
      'STORE_CORRUPT',
      `The database ${path} is damaged (${reason}). Do not delete it: stop the agent, copy the data ` +
        'directory, and restore it from a backup or call support (docs/storage.md, "A damaged database").',
      { path, reason },
      { cause },
    );
  }
}

/** Written by a newer agent: reading it with this version could misread it. */
export class StoreVersionError extends KktAgentError {
  readonly needsTechnician = true;

  constructor(path: string, found: number, supported: number) {
    super(
      'STORE_VERSION_UNSUPPORTED',
      `The database ${path} has schema version ${found}; this agent reads up to version ${supported}. ` +
        'Install the newer agent again.',
      { path, found, supported },
    );
  }
}

/** A stored row whose value this agent cannot use: named by table and row so it can be looked at. */
export class StoreRecordError extends KktAgentError {
  readonly needsTechnician = true;

  constructor(path: string, table: string, row: number | string, reason: string) {
    super(
      'STORE_RECORD_INVALID',
      `The database ${path} holds an invalid record in ${table}, row ${row}: ${reason}. It was not ` +
        'written by this agent; keep a copy of the data directory and call support.',
      { path, table, row, reason },
    );
  }
}

/** Another process holds the data directory: two agents would print every bill twice. */
export class DataDirLockedError extends KktAgentError {
  readonly needsTechnician = false;

  constructor(dataDir: string, holderPid: number | undefined) {
    super(
      'DATA_DIR_LOCKED',
      `The data directory ${dataDir} is in use by another kkt-agent ` +
        `(${holderPid === undefined ? 'its pid is unknown' : `pid ${holderPid}`}). Stop that one first; ` +
        'two agents on one data directory would print every bill twice.',
      { dataDir, holderPid },
    );
  }
}

/**
 * The data directory or the database file was deleted or replaced while the agent ran: what it writes
 * would go into a file nobody will read again, and a restart on an empty directory would print every
 * listed bill again. The agent stops; the next start refuses until a person has looked (docs/storage.md,
 * "The data directory deleted while running").
 */
export class DataDirGoneError extends KktAgentError {
  readonly needsTechnician = true;

  constructor(
    dataDir: string,
    what: string,
    options: { detectedAt?: string; marker?: string; rescued?: string } = {},
  ) {
    const since = options.detectedAt ? ` (detected at ${options.detectedAt})` : '';
    const copy = options.rescued
      ? `put back the old data directory if it still exists, else the copy of the database the agent ` +
        `saved (${options.rescued}) as agent.db`
      : 'put back the old data directory if it still exists';
    const then = options.marker
      ? ` Bills the old database knew would print again on an empty one. Compare the register's FN with ` +
        `the clouds, ${copy}, then remove ${options.marker} to start.`
      : ' The agent stops taking work and exits; it will not start again until a person has looked.';
    super('DATA_DIR_GONE', `The data directory ${dataDir}: ${what} while the agent ran${since}.${then}`, {
      dataDir,
      what,
      ...(options.detectedAt ? { detectedAt: options.detectedAt } : {}),
      ...(options.rescued ? { rescued: options.rescued } : {}),
    });
  }
}

/** The journals could not be imported as they are: nothing was imported and they are left untouched. */
export class JournalImportError extends KktAgentError {
  readonly needsTechnician = true;

  constructor(path: string, reason: string, details: Record<string, unknown> = {}) {
    super(
      'STORE_IMPORT_FAILED',
      `Could not import ${path} into the database: ${reason}. Nothing was imported and the journal is ` +
        'untouched; keep a copy of the data directory and call support.',
      { path, reason, ...details },
    );
  }
}

/** True for a store error that restarting cannot fix. */
export function needsTechnician(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { needsTechnician?: unknown }).needsTechnician === true
  );
}
