import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import type { z } from 'zod';
import { jitteredBackoffMs } from '../../../lib/backoff.js';
import { type KktAgentError, ValidationError } from '../../../lib/errors.js';
import { JsonMalformedError, parseJsonLossless, parseWithSchema } from '../../../lib/json.js';
import { type AnswerHeaders, type ExchangeAnswer, exchange } from '../http/exchange.js';
import {
  apiErrorFrom,
  type MoyskladApiError,
  type MoyskladApiErrorItem,
  MoyskladMalformedResponseError,
  MoyskladRateLimitError,
  MoyskladResponseTooLargeError,
  MoyskladTimeoutError,
  MoyskladUnavailableError,
  MoyskladUnreachableError,
} from './errors.js';
import type { RateLimiter } from './rateLimiter.js';
import {
  attachAnswerSchema,
  counterpartyListSchema,
  customerOrderListSchema,
  errorBodySchema,
  normalizeBaseUrl,
  retailStoreListSchema,
  retailStoreSchema,
  type WireRetailStore,
} from './wire.js';

/**
 * HTTP client of MoySklad's POS API (posap 1.0). Every request waits for a slot of the shared rate limiter
 * (≤ 100 per 5 s, ≤ 4 in flight); 429 and codes 1049/1073 are waited out as the server asks
 * (`X-Lognex-Retry-After`, else `X-Lognex-Reset`, else backoff) and retried with the same body, so the same
 * syncId; network errors, timeouts, 5xx and 1074 are retried with backoff. Other errors come back typed
 * from the `errors[]` body. Answers are read up to a byte cap and parsed losslessly.
 */

/** The only `Accept` value posap takes besides none at all (error 1062). */
export const ACCEPT = 'application/json;charset=utf-8';
export const CONTENT_TYPE = 'application/json;charset=utf-8';

export type MoyskladAuth =
  | { kind: 'token'; token: string; cashierUid: string }
  | { kind: 'basic'; login: string; password: string };

export interface MoyskladClientOptions {
  /** Named in errors and logs. */
  account: string;
  baseUrl: string;
  /** Read before every request, so a re-pairing takes effect without a restart. */
  auth: () => MoyskladAuth | undefined;
  limiter: RateLimiter;
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  maxRateLimitWaits: number;
  maxResponseBytes: number;
  logger?: Logger;
}

export interface MoyskladAnswer {
  status: number;
  /** Parsed losslessly; undefined for an empty body (or when the body was not wanted). */
  body: unknown;
}

export interface MoyskladClientStats {
  requests: number;
  /** 429 (or 1049/1073) answers received. */
  rateLimited: number;
  retries: number;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT';

interface RequestOptions {
  body?: string;
  /** `json`: parse the answer; `ignore`: creates answer 201/204 with nothing we need. */
  answer: 'json' | 'ignore';
  signal?: AbortSignal;
}

export class MoyskladClient {
  readonly account: string;
  readonly baseUrl: string;
  private readonly options: MoyskladClientOptions;
  private logger: Logger;
  private readonly counters: MoyskladClientStats = { requests: 0, rateLimited: 0, retries: 0 };

  constructor(options: MoyskladClientOptions) {
    this.options = options;
    this.account = options.account;
    this.baseUrl = normalizeBaseUrl(options.baseUrl);
    this.logger = options.logger ?? pino({ level: 'silent' });
  }

  setLogger(logger: Logger): void {
    this.logger = logger;
  }

  get stats(): MoyskladClientStats {
    return { ...this.counters };
  }

  // --- endpoints --------------------------------------------------------------------------------------

  /** `GET /admin/retailstore` (Basic auth): the account's retail stores. */
  async retailStores(signal?: AbortSignal): Promise<WireRetailStore[]> {
    const endpoint = 'GET /admin/retailstore';
    const answer = await this.request('GET', 'admin/retailstore', { answer: 'json', signal });
    return this.shape(retailStoreListSchema, answer.body, endpoint).rows;
  }

  /** `POST /admin/attach/{id}` (Basic auth): a new token for the store; every older token of it dies. */
  async attach(retailStoreId: string, signal?: AbortSignal): Promise<{ token: string; uid: string }> {
    const path = `admin/attach/${encodeURIComponent(retailStoreId)}`;
    const answer = await this.request('POST', path, { answer: 'json', signal });
    const parsed = this.shape(attachAnswerSchema, answer.body, `POST /${path}`);
    return { token: parsed.token, uid: parsed.uid };
  }

  /** `GET /settings/retailstore/`: the store this token belongs to. */
  async settings(signal?: AbortSignal): Promise<WireRetailStore> {
    const answer = await this.request('GET', 'settings/retailstore/', { answer: 'json', signal });
    return this.shape(retailStoreSchema, answer.body, 'GET /settings/retailstore/');
  }

  /** `GET /entity/customerorder`: raw rows (each is checked by the mapping, one bad order hides no other). */
  async customerOrders(signal?: AbortSignal): Promise<unknown[]> {
    const answer = await this.request('GET', 'entity/customerorder', { answer: 'json', signal });
    return this.shape(customerOrderListSchema, answer.body, 'GET /entity/customerorder').rows;
  }

  /** `GET /entity/customerorder/{id}`: the raw order. */
  async customerOrder(id: string, signal?: AbortSignal): Promise<unknown> {
    const path = `entity/customerorder/${encodeURIComponent(id)}`;
    const answer = await this.request('GET', path, { answer: 'json', signal });
    if (answer.body === undefined) {
      throw new MoyskladMalformedResponseError(this.account, `GET /${path}`, 'the body is empty');
    }
    return answer.body;
  }

  /**
   * `GET /entity/counterparty?search=…`: raw rows of the counterparties whose name, e-mail, phone or
   * discount card holds `search` (posap documents no GET of one counterparty by id).
   */
  async counterparties(search: string, signal?: AbortSignal): Promise<unknown[]> {
    const path = `entity/counterparty?search=${encodeURIComponent(search)}&limit=1000`;
    const answer = await this.request('GET', path, { answer: 'json', signal });
    return this.shape(counterpartyListSchema, answer.body, 'GET /entity/counterparty').rows;
  }

  /**
   * `GET /cheque/rpc/master/poll/{orgId}`: the next operation to fiscalize, raw, or undefined when the
   * queue is empty (undocumented: we take 204, an empty body, `{}` and `null` to mean empty).
   */
  async pollMaster(organizationId: string, signal?: AbortSignal): Promise<unknown> {
    const path = `cheque/rpc/master/poll/${encodeURIComponent(organizationId)}`;
    const answer = await this.request('GET', path, { answer: 'json', signal });
    const body = answer.body;
    if (body === undefined || body === null) return undefined;
    if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return undefined;
    return body;
  }

  /** A create or an RPC whose success answer carries nothing (201/204). */
  async send(method: 'POST' | 'PUT', path: string, json: string, signal?: AbortSignal): Promise<number> {
    const answer = await this.request(method, path, { body: json, answer: 'ignore', signal });
    return answer.status;
  }

  // --- the request loop -------------------------------------------------------------------------------

  async request(method: HttpMethod, path: string, options: RequestOptions): Promise<MoyskladAnswer> {
    // Named without its query: a search names a buyer, and endpoints go into errors and logs.
    const endpoint = `${method} /${path.split('?')[0]}`;
    const { signal } = options;
    let transientFailures = 0;
    let rateWaits = 0;
    for (;;) {
      const release = await this.options.limiter.acquire(signal);
      let answer: ExchangeAnswer;
      try {
        this.counters.requests++;
        answer = await this.exchange(method, path, endpoint, options.body, signal);
      } catch (error) {
        release();
        if (
          (error instanceof MoyskladUnreachableError || error instanceof MoyskladTimeoutError) &&
          transientFailures < this.options.retries &&
          !signal?.aborted
        ) {
          await this.backoff(endpoint, transientFailures++, error, undefined, signal);
          continue;
        }
        throw error;
      }
      release();
      this.observeRateHeaders(answer.headers);
      const { status } = answer;
      if (status >= 200 && status < 300) {
        if (options.answer === 'ignore') return { status, body: undefined };
        return { status, body: this.parseBody(answer.body, endpoint) };
      }
      const error = this.errorOf(answer, endpoint);
      if (error instanceof MoyskladRateLimitError) {
        this.counters.rateLimited++;
        if (rateWaits < this.options.maxRateLimitWaits && !signal?.aborted) {
          const waitMs = error.retryAfterMs ?? this.backoffMs(rateWaits);
          rateWaits++;
          this.options.limiter.pauseFor(waitMs);
          this.logger.warn(
            { event: 'moysklad.rate_limited', account: this.account, endpoint, code: error.apiCode, waitMs },
            'MoySklad asked us to slow down; waiting',
          );
          continue;
        }
        throw error;
      }
      if (
        error instanceof MoyskladUnavailableError &&
        transientFailures < this.options.retries &&
        !signal?.aborted
      ) {
        await this.backoff(endpoint, transientFailures++, error, undefined, signal);
        continue;
      }
      throw error;
    }
  }

  private async backoff(
    endpoint: string,
    attempt: number,
    error: KktAgentError,
    requestedMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    this.counters.retries++;
    const delayMs = Math.max(this.backoffMs(attempt), requestedMs ?? 0);
    this.logger.warn(
      {
        event: 'moysklad.request.retry',
        account: this.account,
        endpoint,
        attempt: attempt + 1,
        code: error.code,
        delayMs,
      },
      'MoySklad request failed; retrying',
    );
    await sleep(delayMs, undefined, signal ? { signal } : undefined);
  }

  private backoffMs(attempt: number): number {
    return jitteredBackoffMs(attempt, {
      firstDelayMs: this.options.retryDelayMs,
      maxDelayMs: this.options.maxRetryDelayMs,
    });
  }

  /** `X-RateLimit-Remaining: 0` on any answer: nobody starts before `X-Lognex-Reset` has passed. */
  private observeRateHeaders(headers: AnswerHeaders): void {
    const remaining = headerMs(headers.get('x-ratelimit-remaining'));
    if (remaining !== 0) return;
    const resetMs = headerMs(headers.get('x-lognex-reset'));
    if (resetMs !== undefined && resetMs > 0) this.options.limiter.pauseFor(resetMs);
  }

  private errorOf(answer: ExchangeAnswer, endpoint: string): MoyskladApiError {
    const { status, headers } = answer;
    const errors = parseErrorItems(answer.body);
    if (status >= 300 && status < 400) {
      // Not followed: the token headers must never travel to whatever host a redirect names.
      const location = headers.get('location');
      errors.push({ error: `redirected${location ? ` to ${location.slice(0, 200)}` : ''}; check baseUrl` });
    }
    const retryAfterMs =
      headerMs(headers.get('x-lognex-retry-after')) ?? headerMs(headers.get('x-lognex-reset'));
    return apiErrorFrom(this.account, endpoint, status, errors, retryAfterMs);
  }

  private parseBody(body: Buffer, endpoint: string): unknown {
    const text = body.toString('utf8').replace(/^\uFEFF/, '');
    if (text.trim() === '') return undefined;
    try {
      return parseJsonLossless(text);
    } catch (error) {
      const reason = error instanceof JsonMalformedError ? error.message : 'the body is not JSON';
      const hint = /^\s*</.test(text) ? ' (it looks like an HTML page)' : '';
      throw new MoyskladMalformedResponseError(this.account, endpoint, `${reason}${hint}`, error);
    }
  }

  private shape<S extends z.ZodType>(schema: S, raw: unknown, endpoint: string): z.output<S> {
    if (raw === undefined)
      throw new MoyskladMalformedResponseError(this.account, endpoint, 'the body is empty');
    try {
      return parseWithSchema(schema, raw);
    } catch (error) {
      if (error instanceof ValidationError) {
        throw new MoyskladMalformedResponseError(this.account, endpoint, error.message, error);
      }
      throw error;
    }
  }

  private headersFor(body: string | undefined): Record<string, string> {
    const headers: Record<string, string> = {
      Accept: ACCEPT,
      'User-Agent': 'kkt-agent (moysklad connector)',
    };
    if (body !== undefined) headers['Content-Type'] = CONTENT_TYPE;
    const auth = this.options.auth();
    if (auth?.kind === 'token') {
      // posap: the token headers and no Authorization header at all (docs/protocol/moysklad-posap.md §3).
      headers['Lognex-Pos-Auth-Token'] = auth.token;
      headers['Lognex-Pos-Auth-Cashier-Uid'] = auth.cashierUid;
    } else if (auth?.kind === 'basic') {
      headers.Authorization = `Basic ${Buffer.from(`${auth.login}:${auth.password}`, 'utf8').toString('base64')}`;
    }
    return headers;
  }

  private async exchange(
    method: HttpMethod,
    path: string,
    endpoint: string,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<ExchangeAnswer> {
    const { timeoutMs, maxResponseBytes } = this.options;
    return exchange(
      {
        url: `${this.baseUrl}/${path}`,
        method,
        headers: this.headersFor(body),
        body,
        // Not followed: the token headers must never travel to whatever host a redirect names (errorOf).
        redirect: 'manual',
        timeoutMs,
        maxResponseBytes,
        overflow: 'throw',
        signal,
      },
      {
        timeout: () => new MoyskladTimeoutError(this.account, endpoint, timeoutMs),
        unreachable: (reason, cause) => new MoyskladUnreachableError(this.account, endpoint, reason, cause),
        tooLarge: () => new MoyskladResponseTooLargeError(this.account, endpoint, maxResponseBytes),
      },
    );
  }
}

/** `errors[]` of an error answer; [] when the body is empty, HTML, or anything else. */
export function parseErrorItems(body: Buffer): MoyskladApiErrorItem[] {
  const text = body
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trim();
  if (!text.startsWith('{')) return [];
  let json: unknown;
  try {
    json = parseJsonLossless(text);
  } catch {
    return [];
  }
  const parsed = errorBodySchema.safeParse(json);
  if (!parsed.success) return [];
  return parsed.data.errors.map((item) => {
    const entry: MoyskladApiErrorItem = {};
    const code = item.code === undefined ? Number.NaN : Number(item.code);
    if (Number.isSafeInteger(code)) entry.code = code;
    if (item.error !== undefined) entry.error = item.error.slice(0, 500);
    if (item.parameter !== undefined) entry.parameter = item.parameter.slice(0, 200);
    if (item.moreInfo !== undefined) entry.moreInfo = item.moreInfo.slice(0, 300);
    return entry;
  });
}

/** A header holding a count of milliseconds (or a count): undefined when absent or not a plain integer. */
export function headerMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  return /^\d{1,10}$/.test(text) ? Number(text) : undefined;
}
