import { z } from 'zod';
import { absolutePathSchema } from '../../../lib/pathSchema.js';
import { urlSchema } from '../../../lib/urlSchema.js';

/**
 * The shop's local module of Честный ЗНАК (ЛМ ЧЗ), asked before a marked sale whose source made no
 * permissive-mode check (docs/marking.md, "Permissive mode"; the API in
 * docs/protocol/chestny-znak-local-module.md).
 */
export const localModuleSchema = z.strictObject({
  /** Ask the module before each marked sale without a permit. */
  enabled: z.boolean().default(true),
  /** The module's address; it listens on 5995 by default. */
  url: urlSchema({ protocols: ['http'], credentialsGoIn: 'credentialsFile' }).default(
    'http://127.0.0.1:5995',
  ),
  /** `1`: `GET /api/v1/cis/outCheck?cis=…`; `2`: `POST /api/v2/cis/outCheck` with `cis_list` (module 2.x). */
  apiVersion: z.union([z.literal(1), z.literal(2)]).default(1),
  /**
   * A JSON file `{ "username": …, "password": … }` with the module's Basic credentials (set when it was
   * installed); it should be mode 0600, the agent warns otherwise.
   */
  credentialsFile: absolutePathSchema,
  /** One HTTP exchange with the module (status or check), connecting included. */
  timeoutMs: z.number().int().min(100).max(60_000).default(3000),
  /** A module whose last sync with Честный ЗНАК is older than this counts as unavailable (it blocks itself after 72 h). */
  maxSyncAgeHours: z.number().int().min(1).max(240).default(72),
  /**
   * What a sale does when the module cannot vouch for a code (unreachable, not ready, stale, answering with
   * an error): `refuse` the bill (the default), or `sellWithoutPermit` (the register still checks the code;
   * the receipt has no 1260, and Честный ЗНАК records a sale without a check).
   */
  whenUnavailable: z.enum(['refuse', 'sellWithoutPermit']).default('refuse'),
});

export type LocalModuleConfig = z.output<typeof localModuleSchema>;
