export { JournalClosedError, JournalCorruptError, JournalValueError, JournalVersionError } from './errors.js';
export {
  type JournalOptions,
  type JournalRecovery,
  type JournalStats,
  JsonlJournal,
} from './journal.js';
export type { TornTail } from './journalFormat.js';
export { DocumentCorruptError, DurableJsonFile, openDurableDb } from './lowdbAdapter.js';
export { nodeStoreFs, type StoreFileHandle, type StoreFileSystem } from './storeFs.js';
