import { z } from 'zod';
import { urlSchema } from '../../lib/urlSchema.js';

/**
 * The `mqtt` section: how the agent reaches its broker. The whole section is local-only: a remote config
 * can never change the connection, the device id or the signing rule (docs/mqtt.md, "Remote config").
 */

const ms = (min: number, max: number) => z.number().int().min(min).max(max);
const secret = z.string().min(1).max(4096);
const filePath = z.string().min(1).max(4096);

/** One topic level: no separators, no wildcards, no NUL. */
export const topicLevelSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^/+#]+$/, 'must not contain "/", "+" or "#"')
  .refine((level) => !level.includes(String.fromCharCode(0)), 'must not contain NUL');

const topicPrefixSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^+#]+$/, 'must not contain "+" or "#"')
  .refine((prefix) => !prefix.includes(String.fromCharCode(0)), 'must not contain NUL')
  .refine(
    (prefix) => !prefix.startsWith('/') && !prefix.endsWith('/') && !prefix.includes('//'),
    'must not start or end with "/" nor hold an empty level',
  );

const brokerUrl = urlSchema({
  protocols: ['mqtt', 'mqtts', 'ws', 'wss'],
  credentialsGoIn: 'username`/`password',
  allowQuery: true,
});

export const mqttTlsSchema = z
  .strictObject({
    /** PEM file of the CA that signed the broker's certificate (default: the system's CAs). */
    caFile: filePath.optional(),
    /** Client certificate and its key (PEM), for brokers that authenticate clients by certificate. */
    certFile: filePath.optional(),
    keyFile: filePath.optional(),
    rejectUnauthorized: z.boolean().default(true),
    /** The name the broker's certificate is checked against, when the URL's host differs. */
    servername: z.string().min(1).max(253).optional(),
  })
  .refine((tls) => (tls.certFile === undefined) === (tls.keyFile === undefined), {
    message: 'give certFile and keyFile together',
    path: ['keyFile'],
  });

export const mqttConfigSchema = z
  .strictObject({
    /** `mqtt://host:1883`, `mqtts://host:8883`, `ws(s)://…`. */
    url: brokerUrl,
    /** The topic level naming this box: `<topicPrefix>/<deviceId>/…`. Default: the host name. */
    deviceId: topicLevelSchema.optional(),
    topicPrefix: topicPrefixSchema.default('kkt'),
    /** Default `kkt-agent-<deviceId>`. */
    clientId: z.string().min(1).max(128).optional(),
    /** `auto`: MQTT 5, falling back to 3.1.1 when the broker refuses version 5. */
    protocol: z.enum(['auto', '5', '3.1.1']).default('auto'),
    username: z.string().min(1).max(256).optional(),
    password: secret.optional(),
    /** A file holding the password (trailing newline ignored); instead of `password`. */
    passwordFile: filePath.optional(),
    tls: mqttTlsSchema.optional(),
    keepaliveSeconds: z.number().int().min(5).max(3600).default(30),
    connectTimeoutMs: ms(500, 120_000).default(10_000),
    /** How long the broker keeps the session (subscriptions, queued QoS 1 commands) while the agent is away. */
    sessionExpirySeconds: z.number().int().min(0).max(4_294_967_295).default(86_400),
    reconnect: z
      .strictObject({
        initialDelayMs: ms(10, 60_000).default(1000),
        maxDelayMs: ms(100, 3_600_000).default(60_000),
      })
      .prefault({}),
    /** A QoS 1 publish not acknowledged within this is treated as failed (and retried by its owner). */
    publishTimeoutMs: ms(100, 300_000).default(10_000),
    /** Commands and desired configs larger than this are refused unread. */
    maxPayloadBytes: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(1024 * 1024),
    /** How long a command id is remembered: a redelivery within this never runs twice. */
    commandTtlHours: z.number().int().min(1).max(720).default(24),
    /** Publish `event/receipt` for each fiscalized receipt (through the outbox). */
    receipts: z.boolean().default(true),
    /**
     * The `source` a bill pushed inline (`cmd/fiscalize` with `bill`) may carry. Default only `mqtt`: naming
     * another connector's source lets the cloud claim that connector's bills.
     */
    inlineBillSources: z.array(z.string().min(1).max(32)).min(1).default(['mqtt']),
    /** Commands and desired configs must carry an HMAC-SHA256 signature (docs/mqtt.md, "Signing"). */
    requireSigned: z.boolean().default(false),
    signingKey: secret.optional(),
    signingKeyFile: filePath.optional(),
  })
  .superRefine((mqtt, ctx) => {
    if (mqtt.password !== undefined && mqtt.passwordFile !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['passwordFile'],
        message: 'give password or passwordFile, not both',
      });
    }
    if (mqtt.signingKey !== undefined && mqtt.signingKeyFile !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['signingKeyFile'],
        message: 'give signingKey or signingKeyFile, not both',
      });
    }
    if (mqtt.requireSigned && mqtt.signingKey === undefined && mqtt.signingKeyFile === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['requireSigned'],
        message: 'requireSigned needs signingKey or signingKeyFile',
      });
    }
    if (mqtt.reconnect.maxDelayMs < mqtt.reconnect.initialDelayMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['reconnect', 'maxDelayMs'],
        message: 'must not be smaller than initialDelayMs',
      });
    }
  });

export type MqttConfig = z.output<typeof mqttConfigSchema>;
export type MqttConfigInput = z.input<typeof mqttConfigSchema>;
