import { join } from 'node:path';
import { z } from 'zod';
import { isValidTimeZone } from '../../../lib/time.js';
import { CURRENCY_CODES } from '../../domain/money.js';

/**
 * A non-fiscal "register": prints plain-text receipts into files. It fiscalizes nothing; it exists so that
 * bill sources with no lawful fiscal device here (OX System's Uzbek sales, see docs/oxsystem.md) still get
 * one receipt per bill, exactly once, with the same journal and outbox guarantees.
 */
export const nonfiscalDeviceSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be lower-case letters, digits, _ or -'),
  kind: z.literal('nonfiscal'),
  /** Where receipt files go (one per receipt); default `<dataDir>/nonfiscal/<id>`. */
  directory: z.string().min(1).optional(),
  /** Currencies it accepts; default all the agent knows. */
  currencies: z
    .array(z.enum(CURRENCY_CODES))
    .min(1)
    .default([...CURRENCY_CODES]),
  /** Lines printed at the top (shop name, address). */
  header: z.array(z.string().min(1).max(80)).max(10).default([]),
  /** Characters per line of the receipt text. */
  lineWidth: z.number().int().min(24).max(80).default(42),
  /** The zone of the receipt's time; default the agent's `timeZone`. */
  timeZone: z.string().refine(isValidTimeZone, 'must be an IANA time zone').optional(),
});

export type NonfiscalDeviceConfig = z.output<typeof nonfiscalDeviceSchema>;
export type NonfiscalDeviceInput = z.input<typeof nonfiscalDeviceSchema>;

/** The receipt directory a config means, given the agent's data directory. */
export function nonfiscalDirectory(
  config: Pick<NonfiscalDeviceConfig, 'id' | 'directory'>,
  dataDir: string,
): string {
  return config.directory ?? join(dataDir, 'nonfiscal', config.id);
}
