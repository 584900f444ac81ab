import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DEFAULT_DISCOVERY_TIMEOUT_MS } from '../../drivers/intent/discovery.js';
import { DEFAULT_AUTH_TIMEOUT_MS, DEFAULT_SALE_TIMEOUT_MS } from '../../drivers/intent/terminal.js';
import { KktAgentError } from '../../lib/errors.js';
import { parseWithSchema } from '../../lib/json.js';
import { isInsideOrEqual } from '../../lib/pathSchema.js';
import { findControlCharacter } from '../../lib/printableText.js';
import { bridgeAccountSchema } from '../connectors/bridge/config.js';
import { moyskladAccountSchema } from '../connectors/moysklad/config.js';
import { oxAccountSchema } from '../connectors/oxsystem/config.js';
import { atolWebDeviceSchema } from '../devices/atolWeb/config.js';
import { nonfiscalDeviceSchema } from '../devices/nonfiscal/config.js';
import { isoDateSchema, vatRateTableSchema } from '../domain/vatRules.js';
import { mqttConfigSchema } from '../mqtt/config.js';
import { schedulesSchema } from '../schedules/schema.js';
import { stateConfigSchema } from '../state/config.js';
import { atolDeviceSchema, baseConfigShape } from './schema.js';

export const intentDeviceSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be lower-case letters, digits, _ or -'),
  kind: z.literal('intent'),
  /** `http://<ip>:37015`; omit to find the terminal by SSDP (search target `ikassa-smartx`). */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  pin: z.string().min(1).max(32).optional(),
  /** The cashier name the terminal requires on every sale (code 435 otherwise). */
  cashier: z
    .string()
    .min(1)
    .max(64)
    .refine((name) => findControlCharacter(name) === undefined, 'must not contain control characters')
    .default('Кассир'),
  printCheque: z.boolean().default(true),
  /** Card payments wait for the customer's card: keep this long. */
  saleTimeoutMs: z.number().int().min(1000).max(900_000).default(DEFAULT_SALE_TIMEOUT_MS),
  authTimeoutMs: z.number().int().min(100).max(120_000).default(DEFAULT_AUTH_TIMEOUT_MS),
  /**
   * How long the SSDP search waits for the terminal (the M-SEARCH is resent every second). The driver's
   * default: the one public client had to raise its wait from 5 s to 60 s after a visit on site
   * (docs/intent.md, "Discovery").
   */
  discoveryTimeoutMs: z.number().int().min(100).max(120_000).default(DEFAULT_DISCOVERY_TIMEOUT_MS),
});

/** VAT rules for Russian registers (docs/money.md, "VAT by settlement date"). */
export const vatConfigSchema = z.strictObject({
  /** Replaces the built-in rate table (a law change ahead of an agent update); absent: the built-in one. */
  table: vatRateTableSchema.optional(),
  /** Rates the table retired (20 %, 20/120 from 2026) stay accepted up to and including this date. */
  allowRetiredRatesUntil: isoDateSchema.optional(),
});

export const deviceSchema = z.discriminatedUnion('kind', [
  atolDeviceSchema,
  atolWebDeviceSchema,
  intentDeviceSchema,
  nonfiscalDeviceSchema,
]);

export const configSchema = z
  .strictObject({
    /**
     * The config's version. A remote config (MQTT `config/desired`) replaces this file, except its local-only
     * fields, while its version is higher than this one (docs/mqtt.md, "Remote config").
     */
    version: z.number().int().min(0).default(0),
    /** Editors read `$schema` (`kkt-agent config schema -o kkt-agent.schema.json`); `$comment` is for people. */
    $schema: z.string().optional(),
    $comment: z.union([z.string(), z.array(z.string())]).optional(),
    ...baseConfigShape,
    /** The broker connection; absent: no MQTT. Local-only: remote config never changes it. */
    mqtt: mqttConfigSchema.optional().meta({ restartRequired: true }),
    /** Z report, shift-limit guard, alerts and compaction (node-cron, in `timeZone`). */
    schedules: schedulesSchema,
    /** The state document's schedule and `POST /state`. */
    state: stateConfigSchema.prefault({}),
    vat: vatConfigSchema.default({}).meta({ restartRequired: true }),
    devices: z
      .array(deviceSchema)
      .min(1, 'configure at least one fiscal device')
      .meta({ restartRequired: true }),
    connectors: z
      .strictObject({
        bridge: z.array(bridgeAccountSchema).default([]),
        moysklad: z.array(moyskladAccountSchema).default([]),
        oxsystem: z.array(oxAccountSchema).default([]),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    checkPathsAgainstDataDir(config, ctx);
    const ids = new Set<string>();
    config.devices.forEach((device, index) => {
      if (ids.has(device.id))
        ctx.addIssue({
          code: 'custom',
          path: ['devices', index, 'id'],
          message: `duplicate device id "${device.id}"`,
        });
      ids.add(device.id);
    });
    const known = (id: string | undefined) => id === undefined || ids.has(id);
    if (!known(config.routing.defaultDevice)) {
      ctx.addIssue({
        code: 'custom',
        path: ['routing', 'defaultDevice'],
        message: `no device "${config.routing.defaultDevice}"`,
      });
    }
    config.routing.rules.forEach((rule, index) => {
      if (!known(rule.device))
        ctx.addIssue({
          code: 'custom',
          path: ['routing', 'rules', index, 'device'],
          message: `no device "${rule.device}"`,
        });
    });
    for (const [kind, accounts] of Object.entries(config.connectors) as Array<
      [string, Array<{ id: string; device?: string }>]
    >) {
      const seen = new Set<string>();
      accounts.forEach((account, index) => {
        if (seen.has(account.id)) {
          ctx.addIssue({
            code: 'custom',
            path: ['connectors', kind, index, 'id'],
            message: `duplicate account "${account.id}"`,
          });
        }
        seen.add(account.id);
        if (!known(account.device)) {
          ctx.addIssue({
            code: 'custom',
            path: ['connectors', kind, index, 'device'],
            message: `no device "${account.device}"`,
          });
        }
      });
    }
  });

/**
 * The control socket and the log file must never land on the data directory's own files: the agent
 * replaces a stale socket at start and appends to its log, and either would destroy a journal.
 */
function checkPathsAgainstDataDir(
  config: { dataDir: string; control: { socketPath?: string }; log: { file?: { path: string } } },
  ctx: z.RefinementCtx,
): void {
  const { dataDir } = config;
  const socketPath = config.control.socketPath;
  if (socketPath !== undefined && isInsideOrEqual(socketPath, dataDir) && !socketPath.endsWith('.sock')) {
    ctx.addIssue({
      code: 'custom',
      path: ['control', 'socketPath'],
      message: `inside the data directory (${dataDir}) only a "*.sock" name is allowed: the data directory's files are the agent's journals`,
    });
  }
  const logPath = config.log.file?.path;
  if (logPath !== undefined && isInsideOrEqual(logPath, dataDir) && !logPath.endsWith('.log')) {
    ctx.addIssue({
      code: 'custom',
      path: ['log', 'file', 'path'],
      message: `inside the data directory (${dataDir}) only a "*.log" name is allowed: the data directory's files are the agent's journals`,
    });
  }
  if (logPath !== undefined && socketPath !== undefined && logPath === socketPath) {
    ctx.addIssue({
      code: 'custom',
      path: ['control', 'socketPath'],
      message: 'must not be the log file',
    });
  }
}

export type AgentConfig = z.output<typeof configSchema>;
export type AgentConfigInput = z.input<typeof configSchema>;
export type DeviceConfig = AgentConfig['devices'][number];

export class ConfigError extends KktAgentError {}

/** Validates a parsed config; the error names the field (`devices[0].link.port: …`). */
export function parseConfig(value: unknown, origin = 'config'): AgentConfig {
  try {
    return parseWithSchema(configSchema, value);
  } catch (error) {
    const e = error as KktAgentError;
    throw new ConfigError('CONFIG_INVALID', `${origin} is invalid: ${e.message}`, e.details);
  }
}

export async function loadConfigFile(path: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      'CONFIG_UNREADABLE',
      `Cannot read the config file ${path}: ${(error as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('CONFIG_INVALID', `${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(raw, path);
}

/** The JSON Schema editors use to complete and check config files (`kkt-agent config schema`). */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
}
