import type { Logger } from 'pino';
import { z } from 'zod';
import { type ErrorCode, errorMessage, KktAgentError, ValidationError } from '../../lib/errors.js';
import { parseWithSchema } from '../../lib/json.js';
import type { AgentConfig } from '../config/config.js';
import {
  changedPaths,
  combineConfigs,
  configHash,
  pathStartsWith,
  planChange,
  RemoteConfigFile,
  type StartupConfig,
  stripLocalOnly,
} from './configStore.js';
import type { LiveApplier } from './liveConfig.js';

/** `…/config/reported` (retained): the answer to the last desired config, and what is in effect. */
export interface ConfigReported {
  /** The desired version this report answers; null when it could not be read. */
  version: number | null;
  status: 'applied' | 'restarting' | 'rejected' | 'ignored';
  /** The version in effect now. */
  appliedVersion: number;
  /** When the version in effect took effect in this process. */
  appliedAt: string;
  source: 'file' | 'remote';
  /** True when the desired config was accepted and stored, and the agent restarts to apply it. */
  restartRequired: boolean;
  error: { code: string; message: string; field?: string } | null;
  /** Changed fields (names only, never values). */
  changed?: string[];
  /** Local-only fields the desired config carried; the file's values are kept. */
  ignoredFields?: string[];
}

const desiredSchema = z.strictObject({
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  config: z.record(z.string(), z.unknown()),
});

/** Keys whose values are secrets: never echoed in reported errors or logs. */
const SECRET_KEY = /pass(word)?|token|secret|pin|key|auth|credential/i;

function collectSecrets(value: unknown, underSecret = false, into: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) collectSecrets(item, underSecret, into);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value))
      collectSecrets(inner, underSecret || SECRET_KEY.test(key), into);
  } else if (underSecret && (typeof value === 'string' || typeof value === 'number')) {
    const text = String(value);
    if (text.length >= 3) into.push(text);
  }
  return into;
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length))
    out = out.split(secret).join('[redacted]');
  return out;
}

function describeError(error: unknown, secrets: readonly string[]): NonNullable<ConfigReported['error']> {
  if (error instanceof KktAgentError) {
    const field =
      error instanceof ValidationError
        ? error.field
        : typeof error.details['field'] === 'string'
          ? error.details['field']
          : undefined;
    const message = redact(error.message, secrets);
    return field === undefined
      ? { code: error.code, message }
      : { code: error.code, message, field: redact(field, secrets) };
  }
  return { code: 'UNEXPECTED' satisfies ErrorCode, message: redact(errorMessage(error), secrets) };
}

export interface RemoteConfigOptions {
  startup: StartupConfig;
  appliers: readonly LiveApplier[];
  logger: Logger;
  store?: RemoteConfigFile;
}

export interface DesiredOutcome {
  reported: ConfigReported;
  /** The caller publishes `reported`, then restarts the agent. */
  restart: boolean;
}

/**
 * Remote config: validates a desired config with the file's schema, stores it durably, applies it live
 * when every changed field has a live applier, and otherwise asks for a restart. An invalid, stale or
 * unreadable desired config changes nothing and is reported with its error (secrets never echoed).
 */
export class RemoteConfigManager {
  private current: AgentConfig;
  private source: 'file' | 'remote';
  private appliedVersion: number;
  private appliedAt = new Date().toISOString();
  private appliedHash: string | undefined;
  private last: ConfigReported;
  private restarting = false;
  private readonly store: RemoteConfigFile;

  constructor(private readonly options: RemoteConfigOptions) {
    const { startup } = options;
    this.current = startup.config;
    this.source = startup.source;
    this.appliedVersion = startup.version;
    this.appliedHash = startup.remoteHash;
    this.store = options.store ?? new RemoteConfigFile(startup.fileConfig.dataDir);
    this.last = this.report(startup.version, 'applied', null);
  }

  get config(): AgentConfig {
    return this.current;
  }

  get reported(): ConfigReported {
    return this.last;
  }

  describe() {
    return {
      version: this.appliedVersion,
      source: this.source,
      appliedAt: this.appliedAt,
      lastDesired: { version: this.last.version, status: this.last.status, error: this.last.error },
    };
  }

  private report(
    version: number | null,
    status: ConfigReported['status'],
    error: ConfigReported['error'],
    extra: Partial<ConfigReported> = {},
  ): ConfigReported {
    return {
      version,
      status,
      appliedVersion: this.appliedVersion,
      appliedAt: this.appliedAt,
      source: this.source,
      restartRequired: false,
      error,
      ...extra,
    };
  }

  /** Records a desired config refused before it could be read (size, signature). */
  reject(error: unknown, version: number | null = null): ConfigReported {
    this.last = this.report(version, 'rejected', describeError(error, []));
    this.options.logger.warn({ event: 'config.remote.rejected', version, code: this.last.error?.code });
    return this.last;
  }

  async handleDesired(text: string): Promise<DesiredOutcome> {
    const { logger } = this.options;
    if (this.restarting) return { reported: this.last, restart: false };
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return {
        reported: this.reject(new KktAgentError('JSON_MALFORMED', 'The desired config is not valid JSON.')),
        restart: false,
      };
    }
    const secrets = collectSecrets(raw);
    const readVersion = (raw as { version?: unknown } | null)?.version;
    const version = typeof readVersion === 'number' && Number.isSafeInteger(readVersion) ? readVersion : null;
    let desired: z.output<typeof desiredSchema>;
    try {
      desired = parseWithSchema(desiredSchema, raw);
    } catch (error) {
      this.last = this.report(version, 'rejected', describeError(error, secrets));
      logger.warn({
        event: 'config.remote.rejected',
        version,
        code: this.last.error?.code,
        field: this.last.error?.field,
      });
      return { reported: this.last, restart: false };
    }
    const hash = configHash(stripLocalOnly(desired.config).config);
    if (desired.version === this.appliedVersion && hash === this.appliedHash) {
      // The retained desired config, delivered again at every (re)connect: already in effect.
      this.last = this.report(desired.version, 'applied', null);
      return { reported: this.last, restart: false };
    }
    if (desired.version <= this.appliedVersion) {
      this.last = this.report(desired.version, 'ignored', {
        code: 'CONFIG_VERSION_NOT_NEWER' satisfies ErrorCode,
        message: `Version ${desired.version} is not above the version in effect (${this.appliedVersion}); nothing changed.`,
        field: 'version',
      });
      logger.warn({ event: 'config.remote.ignored', version: desired.version, applied: this.appliedVersion });
      return { reported: this.last, restart: false };
    }
    let candidate: AgentConfig;
    let ignoredFields: string[];
    try {
      ({ config: candidate, ignoredFields } = combineConfigs(
        desired.config,
        this.options.startup.fileConfig,
        desired.version,
      ));
    } catch (error) {
      this.last = this.report(desired.version, 'rejected', describeError(error, secrets));
      logger.warn({
        event: 'config.remote.rejected',
        version: desired.version,
        code: this.last.error?.code,
        field: this.last.error?.field,
      });
      return { reported: this.last, restart: false };
    }
    try {
      await this.store.write({
        version: desired.version,
        receivedAt: new Date().toISOString(),
        config: stripLocalOnly(desired.config).config,
        hash,
      });
    } catch (error) {
      this.last = this.report(desired.version, 'rejected', describeError(error, secrets));
      logger.error({
        event: 'config.remote.store-failed',
        version: desired.version,
        code: this.last.error?.code,
      });
      return { reported: this.last, restart: false };
    }
    const changed = changedPaths(this.current, candidate);
    const livePaths = this.options.appliers.flatMap((applier) => applier.paths);
    const plan = planChange(changed, livePaths);
    const changedNames = changed.map((path) => path.join('.'));
    const extra = {
      changed: changedNames,
      ...(ignoredFields.length > 0 ? { ignoredFields } : {}),
    };
    if (!plan.restart) {
      try {
        for (const applier of this.options.appliers) {
          if (changed.some((path) => applier.paths.some((prefix) => pathStartsWith(path, prefix)))) {
            await applier.apply(candidate);
          }
        }
      } catch (error) {
        // Stored already: a restart applies it from scratch.
        logger.error({
          event: 'config.remote.live-apply-failed',
          version: desired.version,
          reason: errorMessage(error),
        });
        plan.restart = true;
      }
    }
    if (plan.restart) {
      this.restarting = true;
      this.last = this.report(desired.version, 'restarting', null, { ...extra, restartRequired: true });
      logger.info({
        event: 'config.remote.restart-required',
        version: desired.version,
        fields: plan.restartFields,
      });
      return { reported: this.last, restart: true };
    }
    this.current = candidate;
    this.source = 'remote';
    this.appliedVersion = desired.version;
    this.appliedAt = new Date().toISOString();
    this.appliedHash = hash;
    this.last = this.report(desired.version, 'applied', null, extra);
    logger.info({ event: 'config.remote.applied', version: desired.version, fields: changedNames });
    return { reported: this.last, restart: false };
  }
}
