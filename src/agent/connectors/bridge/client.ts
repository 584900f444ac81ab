import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { ValidationError } from '../../../lib/errors.js';
import { JsonMalformedError, jsonIdString, parseJsonLossless, parseWithSchema } from '../../../lib/json.js';
import { type ExchangeAnswer, exchange } from '../http/exchange.js';
import { type RetryPolicy, retryAfterMs, withRetries } from '../http/retry.js';
import { type BridgeAuth, bridgeAccountSchema } from './config.js';
import {
  BridgeHttpStatusError,
  BridgeMalformedResponseError,
  BridgeProtocolError,
  BridgeResponseTooLargeError,
  BridgeTimeoutError,
  BridgeUnreachableError,
} from './errors.js';

/**
 * HTTP client of the `/api/v2` bridge protocol (docs/protocol/bridge-api-v2.md §2): HELLO, LIST, BILL by id,
 * and the RECEIPT POST. GETs are retried with backoff on network errors, timeouts, 5xx, 408 and 429; the POST
 * is tried once, because its retries belong to the outbox (which keeps the event's ids stable across them).
 * Answers are read up to a byte cap and parsed losslessly: money never passes through a float.
 */

/** The only protocol version seen in the logs; the path says v2, HELLO says 0.1.0. */
export const BRIDGE_PROTOCOL_VERSION = '0.1.0';

/** What a client made without a full account config (tools, tests) takes: the account schema's defaults. */
const ACCOUNT_DEFAULTS = {
  retries: bridgeAccountSchema.shape.retries.parse(undefined),
  retryDelayMs: bridgeAccountSchema.shape.retryDelayMs.parse(undefined),
  maxResponseBytes: bridgeAccountSchema.shape.maxResponseBytes.parse(undefined),
};

/** The longest wait between two retries of a GET (with `Retry-After`). */
const MAX_RETRY_DELAY_MS = 30_000;

export interface BridgeClientOptions {
  /** The account's id, named in errors and logs. */
  account: string;
  baseUrl: string;
  auth: BridgeAuth;
  timeoutMs: number;
  /** GET retries after the first attempt (default 3). */
  retries?: number;
  /** First backoff delay (default 500 ms), doubled per retry, with jitter. */
  retryDelayMs?: number;
  /** Upper bound of one backoff delay, `Retry-After` included (default 30 s). */
  maxRetryDelayMs?: number;
  maxResponseBytes?: number;
  logger?: Logger;
}

export interface BridgeHello {
  /** Verbatim, e.g. "mezoestetic-ru" or "system-a, system-b". */
  system: string;
  /** `system` split on commas, trimmed. */
  systems: string[];
  protocol: string;
}

/** One LIST row. `customername` is deliberately not kept: it is customer data the agent does not need. */
export interface BridgeListItem {
  id: string;
  number?: string;
  /** `YYYY-MM-DD HH:mm:ss`, CRM-local, verbatim. */
  date?: string;
}

export type BridgeListFilter = { kind: 'all' } | { kind: 'today' } | { kind: 'number'; number: string };

export interface BridgePostResult {
  status: number;
  /** Bytes in the answer's body; the logs show an empty one or `{"success": true}`. */
  bodyBytes: number;
}

const helloSchema = z.object({ system: z.string(), protocol: z.string() });

const listSchema = z.array(
  z.object({
    id: jsonIdString(),
    number: jsonIdString().optional(),
    date: z.string().optional(),
  }),
);

export class BridgeClient {
  readonly account: string;
  private readonly apiRoot: string;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;
  private readonly retryPolicy: RetryPolicy;
  private readonly maxResponseBytes: number;
  private logger: Logger;

  constructor(options: BridgeClientOptions) {
    this.account = options.account;
    this.apiRoot = apiRootOf(options.baseUrl);
    this.authorization = authorizationHeader(options.auth);
    this.timeoutMs = options.timeoutMs;
    this.retryPolicy = {
      retries: options.retries ?? ACCOUNT_DEFAULTS.retries,
      firstDelayMs: options.retryDelayMs ?? ACCOUNT_DEFAULTS.retryDelayMs,
      maxDelayMs: options.maxRetryDelayMs ?? MAX_RETRY_DELAY_MS,
    };
    this.maxResponseBytes = options.maxResponseBytes ?? ACCOUNT_DEFAULTS.maxResponseBytes;
    this.logger = options.logger ?? pino({ level: 'silent' });
  }

  setLogger(logger: Logger): void {
    this.logger = logger;
  }

  /** `GET /api/v2/hello`; throws BridgeProtocolError unless `protocol` is 0.1.0. */
  async hello(signal?: AbortSignal): Promise<BridgeHello> {
    const endpoint = 'GET /api/v2/hello';
    const raw = await this.getJson('hello', endpoint, signal);
    const hello = this.shape(helloSchema, raw, endpoint);
    if (hello.protocol !== BRIDGE_PROTOCOL_VERSION) {
      throw new BridgeProtocolError(this.account, hello.protocol, BRIDGE_PROTOCOL_VERSION);
    }
    const systems = hello.system
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name.length > 0);
    return { system: hello.system, systems, protocol: hello.protocol };
  }

  /** `GET /api/v2/list`, `?date=today` or `?number=N`. Rows come back in the bridge's order (date desc). */
  async list(filter: BridgeListFilter = { kind: 'all' }, signal?: AbortSignal): Promise<BridgeListItem[]> {
    const query =
      filter.kind === 'today'
        ? '?date=today'
        : filter.kind === 'number'
          ? `?number=${encodeURIComponent(filter.number)}`
          : '';
    const endpoint = `GET /api/v2/list${query}`;
    const raw = await this.getJson(`list${query}`, endpoint, signal);
    return this.shape(listSchema, raw, endpoint).map((row) => {
      const item: BridgeListItem = { id: row.id };
      if (row.number !== undefined) item.number = row.number;
      if (row.date !== undefined) item.date = row.date;
      return item;
    });
  }

  /** `GET /api/v2/bill/byid/{id}`: the bill as parsed JSON (numbers are LosslessNumbers); see mapping.ts. */
  async bill(id: string, signal?: AbortSignal): Promise<unknown> {
    const route = `bill/byid/${encodeURIComponent(id)}`;
    return this.getJson(route, `GET /api/v2/${route}`, signal);
  }

  /**
   * `POST /api/v2/receipts` with a JSON body, once. Any 2xx is success; otherwise BridgeHttpStatusError
   * (with `retryAfterMs` from `Retry-After`), BridgeUnreachableError, BridgeTimeoutError.
   */
  async postReceipt(json: string, signal?: AbortSignal): Promise<BridgePostResult> {
    const endpoint = 'POST /api/v2/receipts';
    // The answer's body means nothing (an empty one or `{"success": true}`), so an oversized one is not an
    // error.
    const answer = await this.exchange('POST', 'receipts', endpoint, json, signal, 'truncate');
    this.throwUnlessOk(answer, endpoint);
    return { status: answer.status, bodyBytes: answer.bodyBytes };
  }

  // --- internals --------------------------------------------------------------------------------------

  private shape<S extends z.ZodType>(schema: S, raw: unknown, endpoint: string): z.output<S> {
    try {
      return parseWithSchema(schema, raw);
    } catch (error) {
      if (error instanceof ValidationError) {
        throw new BridgeMalformedResponseError(this.account, endpoint, error.message, error);
      }
      throw error;
    }
  }

  private async getJson(route: string, endpoint: string, signal: AbortSignal | undefined): Promise<unknown> {
    return withRetries(
      async () => {
        const answer = await this.exchange('GET', route, endpoint, undefined, signal);
        this.throwUnlessOk(answer, endpoint);
        return this.parseBody(answer.body, endpoint);
      },
      this.retryPolicy,
      signal,
      (retry) =>
        this.logger.warn(
          { event: 'bridge.request.retry', account: this.account, endpoint, ...retry },
          'bridge request failed; retrying',
        ),
    );
  }

  private throwUnlessOk(answer: ExchangeAnswer, endpoint: string): void {
    if (answer.status >= 200 && answer.status <= 299) return;
    const retryAfter = retryAfterMs(answer.headers.get('retry-after'));
    throw new BridgeHttpStatusError(this.account, endpoint, answer.status, { retryAfterMs: retryAfter });
  }

  private parseBody(body: Buffer, endpoint: string): unknown {
    // PHP front ends sometimes prepend a byte-order mark; it is not part of the JSON.
    const text = body.toString('utf8').replace(/^\uFEFF/, '');
    if (text.trim() === '')
      throw new BridgeMalformedResponseError(this.account, endpoint, 'the body is empty');
    try {
      return parseJsonLossless(text);
    } catch (error) {
      const reason = error instanceof JsonMalformedError ? error.message : 'the body is not JSON';
      throw new BridgeMalformedResponseError(this.account, endpoint, reason, error);
    }
  }

  private async exchange(
    method: 'GET' | 'POST',
    route: string,
    endpoint: string,
    body: string | undefined,
    signal: AbortSignal | undefined,
    overflow: 'throw' | 'truncate' = 'throw',
  ): Promise<ExchangeAnswer> {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': 'kkt-agent (bridge connector)',
    };
    if (this.authorization !== undefined) headers['Authorization'] = this.authorization;
    if (body !== undefined) headers['Content-Type'] = 'application/json; charset=utf-8';
    return exchange(
      {
        url: `${this.apiRoot}${route}`,
        method,
        headers,
        body,
        redirect: 'error',
        timeoutMs: this.timeoutMs,
        maxResponseBytes: this.maxResponseBytes,
        overflow,
        signal,
      },
      {
        timeout: () => new BridgeTimeoutError(this.account, endpoint, this.timeoutMs),
        unreachable: (reason, cause) => new BridgeUnreachableError(this.account, endpoint, reason, cause),
        tooLarge: () => new BridgeResponseTooLargeError(this.account, endpoint, this.maxResponseBytes),
      },
    );
  }
}

/** `https://crm.example/bridge` → `https://crm.example/bridge/api/v2/`; a trailing `/api/v2` is not doubled. */
export function apiRootOf(baseUrl: string): string {
  const url = new URL(baseUrl);
  const path = url.pathname.replace(/\/+$/, '').replace(/\/api\/v2$/, '');
  return `${url.origin}${path}/api/v2/`;
}

function authorizationHeader(auth: BridgeAuth): string | undefined {
  switch (auth.type) {
    case 'none':
      return undefined;
    case 'bearer':
      return `Bearer ${auth.token}`;
    case 'basic':
      return `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
  }
}
