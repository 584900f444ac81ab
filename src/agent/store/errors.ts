import { KktAgentError } from '../../lib/errors.js';

/**
 * A journal line that cannot be explained by a crash during the last write: the file was damaged
 * (storage fault, manual edit). The agent must not guess which bills it may print; a technician decides.
 */
export class JournalCorruptError extends KktAgentError {
  /** Restarting cannot fix it: the daemon exits with the code systemd does not restart on. */
  readonly needsTechnician = true;
  readonly path: string;
  readonly line: number;

  constructor(path: string, line: number, reason: string, details: Record<string, unknown> = {}) {
    super(
      'JOURNAL_CORRUPT',
      `Journal ${path} is damaged at line ${line}: ${reason}. Do not delete it; keep a copy and call support.`,
      { path, line, reason, ...details },
    );
    this.path = path;
    this.line = line;
  }
}

/** Written by a newer agent; opening it with this version could misread it. */
export class JournalVersionError extends KktAgentError {
  readonly needsTechnician = true;

  constructor(path: string, found: unknown, supported: number) {
    super(
      'JOURNAL_VERSION_UNSUPPORTED',
      `Journal ${path} has format version ${String(found)}; this agent reads version ${supported}. Update the agent.`,
      { path, found, supported },
    );
  }
}

export class JournalClosedError extends KktAgentError {
  constructor(path: string) {
    super('JOURNAL_CLOSED', `Journal ${path} is closed.`, { path });
  }
}

/** A value the journal refuses to store because it could not be read back as the same value. */
export class JournalValueError extends KktAgentError {
  constructor(path: string, key: string, reason: string, cause?: unknown) {
    super(
      'JOURNAL_INVALID_VALUE',
      `Refused to write key ${JSON.stringify(key)} to journal ${path}: ${reason}.`,
      { path, key, reason },
      { cause },
    );
  }
}
