import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
import { httpExchange } from '../../../drivers/http/exchange.js';
import { readFileIfExists } from '../../../lib/durableFile.js';
import {
  LocalModuleAnswerError,
  type LocalModuleCheck,
  type LocalModuleFailure,
  type LocalModuleStatus,
  parseCheck,
  parseStatus,
} from './answers.js';
import type { LocalModuleConfig } from './config.js';
import { LocalModuleError } from './localModuleError.js';

/**
 * HTTP client of the shop's local module of Честный ЗНАК (ЛМ ЧЗ): its status and one code's check, with
 * HTTP Basic credentials read from a 0600 file (docs/protocol/chestny-znak-local-module.md).
 */

/** Status and checks are a few hundred bytes; a module answering megabytes is not one. */
const MAX_ANSWER_BYTES = 256 * 1024;

/** The module refused the credentials: a configuration fault, never an offline case. */
export class LocalModuleAuthError extends LocalModuleError {
  constructor(statusCode: number) {
    super(
      'MARKING_LM_AUTH_FAILED',
      `The local module of Честный ЗНАК refused the agent's credentials (HTTP ${statusCode}): check localModule.credentialsFile against the login set when the module was installed.`,
      false,
      { statusCode },
    );
  }
}

/** The credentials file cannot be used. */
export class LocalModuleCredentialsError extends LocalModuleError {
  constructor(path: string, reason: string) {
    super(
      'MARKING_LM_CREDENTIALS',
      `The local module's credentials file ${path} cannot be used: ${reason}.`,
      false,
      { path },
    );
  }
}

const credentialsSchema = z.strictObject({
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(256),
});

/** What one request to the module came to. Errors that are nobody's network (credentials, answers) throw. */
export type LocalModuleReply<T> =
  | { kind: 'answered'; value: T }
  /** `httpStatus` when the module answered (a 5xx), absent when it could not be reached or said nothing. */
  | { kind: 'unavailable'; reason: string; httpStatus?: number };

export type LocalModuleClientOptions = Pick<
  LocalModuleConfig,
  'url' | 'apiVersion' | 'credentialsFile' | 'timeoutMs'
> & { logger: Logger };

export class LocalModuleClient {
  private warnedOpen = false;

  constructor(private readonly options: LocalModuleClientOptions) {}

  /** `GET /api/v{n}/status`: whether the module can check codes now. */
  async status(): Promise<LocalModuleReply<LocalModuleStatus>> {
    const reply = await this.request('its status', 'GET', this.path('status'));
    return reply.kind === 'answered' ? { kind: 'answered', value: parseStatus(reply.value) } : reply;
  }

  /**
   * One code's check: v1 `GET cis/outCheck?cis=…`, v2 `POST cis/outCheck` with `{ "cis_list": [{ "cis": … }] }`.
   * `cis` is the code's identification part (AI 01 and 21 of a GS1 code), as the public clients send it.
   */
  async check(cis: string): Promise<LocalModuleReply<LocalModuleCheck | LocalModuleFailure>> {
    const reply =
      this.options.apiVersion === 1
        ? await this.request(
            'the check',
            'GET',
            `${this.path('cis/outCheck')}?cis=${encodeURIComponent(cis)}`,
          )
        : await this.request(
            'the check',
            'POST',
            this.path('cis/outCheck'),
            JSON.stringify({ cis_list: [{ cis }] }),
          );
    return reply.kind === 'answered'
      ? { kind: 'answered', value: parseCheck(reply.value, this.options.apiVersion) }
      : reply;
  }

  private path(endpoint: string): string {
    return `/api/v${this.options.apiVersion}/${endpoint}`;
  }

  private async request(
    what: string,
    method: 'GET' | 'POST',
    path: string,
    jsonBody?: string,
  ): Promise<LocalModuleReply<unknown>> {
    const { username, password } = await this.credentials();
    // Under the configured URL's own path, if it has one (a module behind a reverse proxy).
    const base = this.options.url.endsWith('/') ? this.options.url : `${this.options.url}/`;
    const url = new URL(path.slice(1), base);
    const outcome = await httpExchange({
      url,
      method,
      headers: {
        Authorization: `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`,
        Accept: 'application/json',
      },
      jsonBody,
      timeoutMs: this.options.timeoutMs,
      connectTimeoutMs: this.options.timeoutMs,
      maxAnswerBytes: MAX_ANSWER_BYTES,
    });
    if (outcome.kind === 'notSent') return { kind: 'unavailable', reason: `unreachable (${outcome.reason})` };
    if (outcome.kind === 'noAnswer') return { kind: 'unavailable', reason: `no answer (${outcome.detail})` };
    const { statusCode, bodyText } = outcome;
    if (statusCode === 401 || statusCode === 403) throw new LocalModuleAuthError(statusCode);
    if (statusCode >= 500) {
      return {
        kind: 'unavailable',
        reason: `HTTP ${statusCode}${describeBody(bodyText)}`,
        httpStatus: statusCode,
      };
    }
    if (statusCode !== 200) {
      // 404 and the like: the address or apiVersion is wrong, which no offline rule excuses.
      throw new LocalModuleAnswerError(
        what,
        'HTTP status',
        `${statusCode} for ${method} ${url.pathname}${describeBody(bodyText)} (is localModule.apiVersion right?)`,
      );
    }
    try {
      return { kind: 'answered', value: JSON.parse(bodyText) as unknown };
    } catch {
      throw new LocalModuleAnswerError(what, '(the answer)', 'not JSON');
    }
  }

  /** Read at each use: a technician may fix the file without restarting the agent. */
  private async credentials(): Promise<z.output<typeof credentialsSchema>> {
    const path = this.options.credentialsFile;
    let text: string | undefined;
    try {
      text = await readFileIfExists(path);
    } catch (error) {
      throw new LocalModuleCredentialsError(path, `it cannot be read (${(error as Error).message})`);
    }
    if (text === undefined) throw new LocalModuleCredentialsError(path, 'it does not exist');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new LocalModuleCredentialsError(path, 'it is not JSON');
    }
    const parsed = credentialsSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || '(root)';
      throw new LocalModuleCredentialsError(path, `field ${field}: ${issue?.message ?? 'invalid'}`);
    }
    if (!this.warnedOpen && ((await stat(path)).mode & 0o077) !== 0) {
      this.warnedOpen = true;
      this.options.logger.warn({
        event: 'local-module.credentials-too-open',
        path,
        hint: 'chmod 600 it: it holds the local module password',
      });
    }
    return parsed.data;
  }
}

/** The module's own `description`, when its error answer has one (never the whole body: it may be HTML). */
function describeBody(bodyText: string): string {
  try {
    const body = JSON.parse(bodyText) as { description?: unknown };
    return typeof body.description === 'string' ? `: ${body.description.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}
