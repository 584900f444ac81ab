import { z } from 'zod';

/** The `journal` section of the config: the schema owns its defaults. */
export const journalConfigSchema = z.strictObject({
  /** Finished jobs keep their full bill this long; after that a slim record still prevents reprints. */
  retainDays: z.number().int().min(1).max(3650).default(30),
  /**
   * How often the data directory and the database file are checked to still be the ones opened (besides
   * before every write): deleted or replaced while running, the agent stops (docs/storage.md).
   */
  dataDirCheckMs: z.number().int().min(100).max(3_600_000).default(2_000),
});

export type JournalConfig = z.output<typeof journalConfigSchema>;

export const JOURNAL_DEFAULTS: JournalConfig = journalConfigSchema.parse({});
