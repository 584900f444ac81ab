import type { CodesIn } from '../../lib/errors.js';

/**
 * The codes of the store's errors (the database, the data-directory lock, the JSONL journals, lowdb
 * documents), with what each means (docs/errors.md is made from this list).
 */
export const STORE_ERROR_CODES = {
  STORE_NOT_OURS:
    'agent.db is not a kkt-agent database. Move it out of the data directory; the agent creates a new one.',
  STORE_CORRUPT:
    'The database is damaged. Do not delete it: stop the agent, copy the data directory, restore or call support.',
  STORE_VERSION_UNSUPPORTED: 'The database was written by a newer agent. Install that version again.',
  STORE_RECORD_INVALID:
    'The database holds a record this agent did not write. Keep a copy of the data directory and call support.',
  STORE_IMPORT_FAILED:
    'Importing an older JSONL journal failed; nothing was imported. Keep a copy of the data directory and call support.',
  DATA_DIR_LOCKED:
    'Another kkt-agent uses the data directory (its pid is in the message). Stop that one first.',
  JOURNAL_CORRUPT:
    'A JSONL journal is damaged at the line named. Do not delete it; keep a copy and call support.',
  JOURNAL_VERSION_UNSUPPORTED:
    'A JSONL journal has a format version this agent does not read. Update the agent.',
  JOURNAL_CLOSED: 'A write reached a journal that was already closed (the agent is stopping).',
  JOURNAL_INVALID_VALUE: 'A value that cannot be journaled was refused; nothing was written.',
  DOCUMENT_CORRUPT:
    'A JSON document in the data directory (doctor.json, remote config…) is not valid JSON. Restore or remove it.',
  DATA_DIR_GONE:
    'The data directory or agent.db was deleted or replaced while the agent ran; it stopped taking work. Restore the directory from the rescued copy it names (docs/storage.md).',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry {
    store: CodesIn<typeof STORE_ERROR_CODES>;
  }
}
