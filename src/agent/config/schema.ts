import { z } from 'zod';
import { TAXATION_SYSTEM_NAMES } from '../../lib/ffd.js';
import { absolutePathSchema } from '../../lib/pathSchema.js';
import { isValidTimeZone, systemTimeZone } from '../../lib/time.js';
import { atolOperatorSchema } from '../devices/atolCommon/operatorConfig.js';
import { VAT_TYPE_NAMES } from '../domain/vat.js';

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
  reconnect: z
    .strictObject({
      initialDelayMs: ms(50, 60_000).default(500),
      maxDelayMs: ms(100, 600_000).default(30_000),
      /** A register silent on an open link (TCP connected, port present) is reopened after this many timeouts in a row. */
      reopenAfterTimeouts: z.number().int().min(1).max(100).default(3),
    })
    .default({ initialDelayMs: 500, maxDelayMs: 30_000, reopenAfterTimeouts: 3 }),
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
      file: z
        .strictObject({
          /** Written as named; rotated files sit beside it (`<path>.1` … `<path>.<keep>`). */
          path: absolutePathSchema,
          maxSizeMb: z.number().int().min(1).max(1024).default(10),
          keep: z.number().int().min(1).max(100).default(5),
        })
        .optional(),
    })
    .default({ level: 'info', modules: {} }),
  control: z
    .strictObject({
      /** Inside the data directory only a `*.sock` name: the agent removes a stale socket there at start. */
      socketPath: absolutePathSchema.optional(),
    })
    .default({})
    .meta({ restartRequired: true }),
  routing: z
    .strictObject({ defaultDevice: z.string().optional(), rules: z.array(routingRuleSchema).default([]) })
    .default({ rules: [] }),
  fiscalizer: z
    .strictObject({
      retryDelayMs: ms(10, 600_000).default(2000),
      maxRetryDelayMs: ms(100, 3_600_000).default(60_000),
      maxAttempts: z.number().int().min(1).max(10_000).default(50),
      /** How long SIGTERM waits for a receipt being printed before the agent exits anyway. */
      stopTimeoutMs: ms(1000, 600_000).default(60_000),
    })
    .default({ retryDelayMs: 2000, maxRetryDelayMs: 60_000, maxAttempts: 50, stopTimeoutMs: 60_000 }),
  outbox: z
    .strictObject({
      initialBackoffMs: ms(10, 600_000).default(1000),
      maxBackoffMs: ms(100, 86_400_000).default(300_000),
      retainDeliveredDays: z.number().int().min(1).max(3650).default(7),
      /** A receipt fiscalized but not reported for longer than this is an alert (`status`, state document). */
      unreportedAlertMs: ms(1000, 30 * 86_400_000).default(3_600_000),
    })
    .default({
      initialBackoffMs: 1000,
      maxBackoffMs: 300_000,
      retainDeliveredDays: 7,
      unreportedAlertMs: 3_600_000,
    }),
  journal: z
    .strictObject({
      /** Finished jobs keep their full bill this long; after that a slim record still prevents reprints. */
      retainDays: z.number().int().min(1).max(3650).default(30),
    })
    .default({ retainDays: 30 }),
};
