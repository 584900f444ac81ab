import { z } from 'zod';
import { TAXATION_SYSTEM_NAMES } from '../../../lib/ffd.js';
import { isValidTimeZone } from '../../../lib/time.js';
import { urlSchema } from '../../../lib/urlSchema.js';
import { atolReconnectSchema } from '../atolCommon/config.js';
import { atolOperatorSchema } from '../atolCommon/operatorConfig.js';
import { localModuleSchema } from '../localModule/config.js';

const ms = (min: number, max: number) => z.number().int().min(min).max(max);

/**
 * An ATOL register behind ATOL driver 10's web server (platform 5.0 registers, and registers whose OFD
 * traffic the driver relays): see docs/atol-backends.md.
 */
export const atolWebDeviceSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be lower-case letters, digits, _ or -'),
  kind: z.literal('atol-web'),
  /** The web server's base URL (the driver's default listens on 16732 on loopback). */
  url: urlSchema({ protocols: ['http', 'https'], credentialsGoIn: 'auth' }).default('http://127.0.0.1:16732'),
  /** HTTP Basic credentials, when the web server is set up to require them. */
  auth: z.strictObject({ username: z.string().min(1).max(128), password: z.string().max(256) }).optional(),
  /** The register's `deviceID` in the web server, when it drives several registers. */
  deviceId: z.string().min(1).max(64).optional(),
  /** How often a running request is polled. */
  pollIntervalMs: ms(10, 10_000).default(500),
  /** One HTTP exchange, connecting included. */
  requestTimeoutMs: ms(100, 120_000).default(10_000),
  /** From submitting a task to its final status (a Z report prints for a while). */
  taskTimeoutMs: ms(1000, 900_000).default(120_000),
  /** How long the register's check of one marking code waits for ОИСМ before the bill is refused (docs/marking.md). */
  markingCheckTimeoutMs: ms(1000, 120_000).default(20_000),
  /**
   * The shop's local module of Честный ЗНАК (ЛМ ЧЗ): asked for the permissive mode's permit (tag 1260) before
   * a marked sale whose source made no check (docs/marking.md, "Permissive mode"). Absent: not asked.
   */
  localModule: localModuleSchema.optional(),
  /** The register clock's zone; defaults to the agent's `timeZone`. */
  timeZone: z.string().refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Moscow').optional(),
  operator: atolOperatorSchema,
  taxationType: z.enum(TAXATION_SYSTEM_NAMES).optional(),
  /** Probing the server again after it became unreachable. */
  reconnect: atolReconnectSchema,
});

export type AtolWebDeviceConfig = z.output<typeof atolWebDeviceSchema>;
export type AtolWebDeviceInput = z.input<typeof atolWebDeviceSchema>;
