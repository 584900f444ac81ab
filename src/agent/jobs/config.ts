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

/** The `intake` section: how bills are taken in. */
export const intakeConfigSchema = z.strictObject({
  /**
   * Off by default. A sale or purchase whose bill is dated more than this many days before today went
   * without a receipt in time: it is fiscalized as a self-initiated correction receipt of its date instead
   * (docs/fiscalization.md, "Corrections").
   */
  lateCorrectionAfterDays: z.number().int().min(1).max(3650).optional(),
});

export type IntakeConfig = z.output<typeof intakeConfigSchema>;

/**
 * The `recovery` section: how far a rebuild reads a register's fiscal storage back after the store was
 * lost (docs/fiscalization.md, "Rebuilding from the register"). It stops at the first document that is
 * both `depthHours` older than the newest one and at or before the opening of the `shifts`-th shift back,
 * or after `maxDocuments`, whichever comes first.
 */
export const recoveryConfigSchema = z.strictObject({
  depthHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 366)
    .default(48),
  /** 2: back to the opening of the previous shift (the current one and the one before). */
  shifts: z.number().int().min(1).max(1000).default(2),
  maxDocuments: z.number().int().min(10).max(1_000_000).default(10_000),
  /**
   * After a lost store, a device that cannot be read back (SmartX) fiscalizes nothing until a technician
   * confirms it (`kkt-agent recover --confirm <device>`); each bill meanwhile waits BLOCKED for a person.
   */
  holdUnreadable: z.boolean().default(true),
});

export type RecoveryConfig = z.output<typeof recoveryConfigSchema>;

export const RECOVERY_DEFAULTS: RecoveryConfig = recoveryConfigSchema.parse({});
