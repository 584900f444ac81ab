import { z } from 'zod';
import { TAXATION_SYSTEM_NAMES } from '../../lib/ffd.js';
import { absolutePathSchema } from '../../lib/pathSchema.js';
import { isValidTimeZone, systemTimeZone } from '../../lib/time.js';
import { atolProtocolReconnectSchema } from '../devices/atolCommon/config.js';
import { atolOperatorSchema } from '../devices/atolCommon/operatorConfig.js';
import { VAT_TYPE_NAMES } from '../domain/vat.js';
import { fiscalizerConfigSchema } from '../fiscalizer.js';
import { intakeConfigSchema, journalConfigSchema, recoveryConfigSchema } from '../jobs/config.js';
import { outboxConfigSchema } from '../outbox/config.js';

/**
 * The agent's configuration, one JSON file validated here (and the same schema validates remote config
 * pushed over MQTT). Every field has a default a shop can live with; errors name the field.
 */

const timeZone = z.string().refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Moscow');
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const ms = (min: number, max: number) => z.number().int().min(min).max(max);

const atolLinkSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('tcp'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(5555),
  }),
  z.strictObject({
    type: z.literal('serial'),
    path: z.string().min(1),
    baudRate: z.number().int().positive().default(115200),
  }),
  z.strictObject({
    type: z.literal('usb'),
    /** The register's USB serial number, when several are attached; the first ATOL register otherwise. */
    serialNumber: z.string().optional(),
    baudRate: z.number().int().positive().default(115200),
  }),
]);

/** A rotated log file (pino-roll). */
export const logFileSchema = z.strictObject({
  /** Written as named; rotated files sit beside it (`<path>.1` … `<path>.<keep>`). */
  path: absolutePathSchema,
  maxSizeMb: z.number().int().min(1).max(1024).default(10),
  keep: z.number().int().min(1).max(100).default(5),
});

export const atolDeviceSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be lower-case letters, digits, _ or -'),
  kind: z.literal('atol'),
  link: atolLinkSchema,
  accessPassword: z.number().int().min(0).max(9999).default(0),
  operatorPassword: z.number().int().min(1).max(99999999).default(30),
  adminPassword: z.number().int().min(1).max(99999999).default(30),
  /** The register's clock zone; defaults to the agent's `timeZone`. */
  timeZone: timeZone.optional(),
  operator: atolOperatorSchema,
  taxationType: z.enum(TAXATION_SYSTEM_NAMES).optional(),
  /**
   * `EB` tax bytes per VAT rate, over what the public sources show (docs/protocol/atol-v3.md §8):
   * `{ "vat22": 13 }`. A rate with no byte here or there is refused before anything is sent.
   */
  taxBytes: z
    .partialRecord(
      z.enum(VAT_TYPE_NAMES),
      z.number().int().min(1, 'must be a byte 1–255').max(255, 'must be a byte 1–255'),
    )
    .optional(),
  commandTimeoutsMs: z
    .record(
      z.string().regex(/^[0-9A-F]{2}( [0-9A-F]{2})?$/, 'must be a command code like "4A" or "A4 30"'),
      ms(100, 600_000),
    )
    .default({}),
  replyTimeoutMs: ms(50, 10_000).default(500),
  reconnect: atolProtocolReconnectSchema,
});

export const routingRuleSchema = z.strictObject({
  source: z.string().optional(),
  account: z.string().optional(),
  currency: z.string().optional(),
  device: z.string(),
});

export const baseConfigShape = {
  /** Where journals and small state files live (systemd: /var/lib/kkt-agent). */
  dataDir: absolutePathSchema.default('/var/lib/kkt-agent').meta({ restartRequired: true }),
  timeZone: timeZone.default(systemTimeZone()),
  log: z
    .strictObject({
      level: logLevel.default('info'),
      /** Per-module levels: `{ "kkt": "debug", "outbox": "warn" }`. */
      modules: z.record(z.string(), logLevel).default({}),
      pretty: z.boolean().optional(),
      file: logFileSchema.optional(),
    })
    .prefault({}),
  control: z
    .strictObject({
      /** Inside the data directory only a `*.sock` name: the agent removes a stale socket there at start. */
      socketPath: absolutePathSchema.optional(),
    })
    .default({})
    .meta({ restartRequired: true }),
  routing: z
    .strictObject({ defaultDevice: z.string().optional(), rules: z.array(routingRuleSchema).default([]) })
    .prefault({}),
  fiscalizer: fiscalizerConfigSchema.prefault({}),
  outbox: outboxConfigSchema.prefault({}),
  journal: journalConfigSchema.prefault({}),
  intake: intakeConfigSchema.prefault({}).meta({ restartRequired: true }),
  recovery: recoveryConfigSchema.prefault({}),
};
