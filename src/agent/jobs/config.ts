import { z } from 'zod';

/** The `journal` section of the config: the schema owns its defaults. */
export const journalConfigSchema = z.strictObject({
  /** Finished jobs keep their full bill this long; after that a slim record still prevents reprints. */
  retainDays: z.number().int().min(1).max(3650).default(30),
});

export type JournalConfig = z.output<typeof journalConfigSchema>;

export const JOURNAL_DEFAULTS: JournalConfig = journalConfigSchema.parse({});
