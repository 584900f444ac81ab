import cron from 'node-cron';
import { z } from 'zod';

const cronExpression = z
  .string()
  .refine((expression) => cron.validate(expression), 'must be a cron expression, e.g. "0 23 * * *"');

/** The agent's schedules. Times are in the agent's `timeZone`. `null` switches a schedule off. */
export const schedulesSchema = z
  .strictObject({
    /** Daily Z report (closes the shift). */
    zReport: cronExpression.nullable().default('55 23 * * *'),
    /** Closes a shift this many minutes before its 24 h limit, whatever `zReport` says. 0 = off. */
    closeBeforeExpiryMinutes: z.number().int().min(0).max(600).default(20),
    /** How often the shift age, OFD backlog and FN validity are checked. */
    checks: cronExpression.default('*/5 * * * *'),
    /** Store retention (the name is kept for existing configs): slims old jobs, deletes old reports. */
    compaction: cronExpression.nullable().default('30 3 * * *'),
    /** Alert when the oldest document not sent to the OFD is this old; the register blocks at 30 days. */
    ofdAlertDays: z.number().int().min(1).max(29).default(3),
    /** Warn this many days before the FN expires. */
    fnExpiryWarnDays: z.number().int().min(1).max(365).default(30),
  })
  .prefault({});

export type SchedulesConfig = z.output<typeof schedulesSchema>;
