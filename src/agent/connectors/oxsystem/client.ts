import pino, { type Logger } from 'pino';
import type { z } from 'zod';
import { ValidationError } from '../../../lib/errors.js';
import { JsonMalformedError, parseJsonLossless, parseWithSchema } from '../../../lib/json.js';
import { type ExchangeAnswer, exchange } from '../http/exchange.js';
import { retryAfterMs, withRetries } from '../http/retry.js';
import type { OxAccountConfig, OxListQuery, OxRouteName, OxRoutes } from './config.js';
import {
  OxAuthError,
  OxHttpStatusError,
  OxMalformedResponseError,
  OxResponseTooLargeError,
  OxTimeoutError,
  OxUnreachableError,
} from './errors.js';
import { jwtExpirySeconds, type TokenTimes, tokenTimes } from './token.js';
import {
  cashdeskSchema,
  loginAnswerSchema,
  type OxCashdesk,
  type OxVariation,
  sellListSchema,
  variationSchema,
} from './wire.js';

/**
 * HTTP client of the OX System API: form login with a bearer token refreshed before it expires (and once
 * more on a 401), GETs retried with backoff on network errors, timeouts, 5xx, 408 and 429, and writes
 * (payment, commit, patch) sent once: their retries belong to the outbox, which reads the sell first.
 * Answers are read up to a byte cap and parsed losslessly; an HTML error page is named as such.
 */

export interface OxClientOptions {
  account: string;
  baseUrl: string;
  subdomain: string;
  username: string;
  password: string;
  routes: OxRoutes;
  listQuery: OxListQuery;
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  maxResponseBytes: number;
  token: OxAccountConfig['token'];
  /** Milliseconds since the epoch; tests move it to exercise token expiry. */
  now?: () => number;
  logger?: Logger;
}

export interface OxTokenStatus {
  logins: number;
  expiresAt?: string;
  refreshAt?: string;
  decidedBy?: TokenTimes['decidedBy'];
}

export interface SellListPage {
  cashdesk: number;
  updatedTimeMin: string;
  /** Closes the window (bisection after a poll that could not read everything). */
  updatedTimeMax?: string;
  page: number;
}

interface Token {
  value: string;
  times: TokenTimes;
}

type Method = 'GET' | 'POST' | 'PATCH';

interface RequestSpec {
  method: Method;
  route: OxRouteName;
  params?: Record<string, string | number>;
  query?: Array<[string, string]>;
  json?: unknown;
}

const MAX_SERVER_MESSAGE = 160;
/** Upper bound of one GET retry's wait, `Retry-After` included. */
const MAX_RETRY_DELAY_MS = 30_000;

export class OxClient {
  readonly account: string;
  private readonly root: string;
  private readonly now: () => number;
  private logger: Logger;
  private token: Token | undefined;
  private loggingIn: Promise<Token> | undefined;
  private logins = 0;

  constructor(private readonly options: OxClientOptions) {
    this.account = options.account;
    this.root = options.baseUrl.replaceAll('{subdomain}', options.subdomain).replace(/\/+$/, '');
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? pino({ level: 'silent' });
  }

  setLogger(logger: Logger): void {
    this.logger = logger;
  }

  tokenStatus(): OxTokenStatus {
    const status: OxTokenStatus = { logins: this.logins };
    if (this.token) {
      status.expiresAt = new Date(this.token.times.expiresAtMs).toISOString();
      status.refreshAt = new Date(this.token.times.refreshAtMs).toISOString();
      status.decidedBy = this.token.times.decidedBy;
    }
    return status;
  }

  /** Forgets the token: the next request logs in first. */
  dropToken(): void {
    this.token = undefined;
  }

  // --- endpoints ----------------------------------------------------------------------------------------

  async cashdesk(id: number, signal?: AbortSignal): Promise<OxCashdesk> {
    const spec: RequestSpec = { method: 'GET', route: 'cashdesk', params: { cashdesk: id } };
    const raw = await this.getJson(spec, signal);
    return this.shape(cashdeskSchema, raw, this.endpointOf(spec));
  }

  /** One page of the sell list, filtered by cashdesk, `updatedTime[min|max]` and type "sell"; items unparsed. */
  async listSells(page: SellListPage, signal?: AbortSignal): Promise<unknown[]> {
    const q = this.options.listQuery;
    const spec: RequestSpec = {
      method: 'GET',
      route: 'sellList',
      query: [
        [q.cashdesk, String(page.cashdesk)],
        [q.updatedTimeMin, page.updatedTimeMin],
        ...(page.updatedTimeMax !== undefined
          ? [[q.updatedTimeMax, page.updatedTimeMax] as [string, string]]
          : []),
        [q.type, 'sell'],
        [q.page, String(page.page)],
      ],
    };
    const raw = await this.getJson(spec, signal);
    return this.shape(sellListSchema, raw, this.endpointOf(spec)).items;
  }

  /** The sell card, unparsed (the caller names the sell in its errors). */
  sell(id: string, signal?: AbortSignal): Promise<unknown> {
    return this.getJson({ method: 'GET', route: 'sell', params: { sell: id } }, signal);
  }

  async variation(id: string, signal?: AbortSignal): Promise<OxVariation> {
    const spec: RequestSpec = { method: 'GET', route: 'variation', params: { variation: id } };
    const raw = await this.getJson(spec, signal);
    return this.shape(variationSchema, raw, this.endpointOf(spec));
  }

  /** `POST {sell}/payment` `{paymentMethod, price, type:"sell"}`, once. `price` is whole so'm. */
  async addPayment(
    sellId: string,
    paymentMethod: number,
    priceMinor: number,
    signal?: AbortSignal,
  ): Promise<void> {
    if (!Number.isSafeInteger(priceMinor) || priceMinor <= 0) {
      throw new ValidationError('price', `expected a positive whole amount of so'm, got ${priceMinor}`);
    }
    await this.write(
      {
        method: 'POST',
        route: 'payment',
        params: { sell: sellId },
        json: { paymentMethod, price: priceMinor, type: 'sell' },
      },
      signal,
    );
  }

  /** `POST {sell}/commit` `{mode:"location"}`, once. */
  async commit(sellId: string, signal?: AbortSignal): Promise<void> {
    await this.write(
      { method: 'POST', route: 'commit', params: { sell: sellId }, json: { mode: 'location' } },
      signal,
    );
  }

  /** `PATCH {sellID}/patch` `{note}`, once. */
  async patchNote(sellId: string, note: string, signal?: AbortSignal): Promise<void> {
    await this.write({ method: 'PATCH', route: 'patch', params: { sell: sellId }, json: { note } }, signal);
  }

  /** Parses an answer, turning a schema failure into OxMalformedResponseError naming the field. */
  shape<S extends z.ZodType>(
    schema: S,
    raw: unknown,
    endpoint: string,
    options: { root?: string; sellId?: string } = {},
  ): z.output<S> {
    try {
      return parseWithSchema(schema, raw, options.root ?? '');
    } catch (error) {
      if (error instanceof ValidationError) {
        throw new OxMalformedResponseError(this.account, endpoint, error.message, {
          field: error.field,
          ...(options.sellId !== undefined ? { sellId: options.sellId } : {}),
          cause: error,
        });
      }
      throw error;
    }
  }

  endpointFor(
    route: OxRouteName,
    params: Record<string, string | number> = {},
    method: Method = 'GET',
  ): string {
    return this.endpointOf({ method, route, params });
  }

  // --- authentication -----------------------------------------------------------------------------------

  /** A usable token: the current one, or a fresh login when there is none or its refresh time has come. */
  private async validToken(signal: AbortSignal | undefined): Promise<Token> {
    const token = this.token;
    if (token && this.now() < token.times.refreshAtMs) return token;
    if (token) {
      this.logger.info(
        {
          event: 'ox.token.refresh',
          account: this.account,
          expiresAt: new Date(token.times.expiresAtMs).toISOString(),
        },
        'OX token is close to expiry; logging in again',
      );
    }
    return this.login(signal);
  }

  /** Logs in (one login at a time: concurrent callers share it). */
  login(signal?: AbortSignal): Promise<Token> {
    if (!this.loggingIn) {
      this.loggingIn = this.doLogin(signal).finally(() => {
        this.loggingIn = undefined;
      });
    }
    return this.loggingIn;
  }

  private async doLogin(signal: AbortSignal | undefined): Promise<Token> {
    const spec: RequestSpec = { method: 'POST', route: 'login' };
    const endpoint = this.endpointOf(spec);
    const form = new URLSearchParams({
      _username: this.options.username,
      _password: this.options.password,
      _subdomain: this.options.subdomain,
    }).toString();
    const answer = await this.exchange(
      spec,
      { 'Content-Type': 'application/x-www-form-urlencoded' },
      form,
      signal,
      'throw',
    );
    if (answer.status === 400 || answer.status === 401 || answer.status === 403) {
      throw new OxAuthError(this.account, endpoint, answer.status, true, serverMessage(answer));
    }
    this.throwUnlessOk(answer, endpoint);
    const parsed = this.shape(loginAnswerSchema, this.parseBody(answer, endpoint), endpoint);
    const obtainedAtMs = this.now();
    const times = tokenTimes({
      obtainedAtMs,
      lifetimeSeconds: parsed.lifetime ?? undefined,
      jwtExpSeconds: jwtExpirySeconds(parsed.token),
      refreshMarginSeconds: this.options.token.refreshMarginSeconds,
      fallbackLifetimeSeconds: this.options.token.fallbackLifetimeSeconds,
    });
    const token: Token = { value: parsed.token, times };
    this.token = token;
    this.logins++;
    this.logger.info(
      {
        event: 'ox.login',
        account: this.account,
        expiresAt: new Date(times.expiresAtMs).toISOString(),
        refreshAt: new Date(times.refreshAtMs).toISOString(),
        decidedBy: times.decidedBy,
        expIgnored: times.expIgnored,
      },
      'logged in to OX System',
    );
    return token;
  }

  // --- requests -------------------------------------------------------------------------------------------

  /** An authorized request; a 401 drops the token, logs in again and repeats the request once. */
  private async authorized(spec: RequestSpec, signal: AbortSignal | undefined): Promise<ExchangeAnswer> {
    const endpoint = this.endpointOf(spec);
    const body = spec.json === undefined ? undefined : JSON.stringify(spec.json);
    const headers: Record<string, string> =
      body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' };
    for (let attempt = 0; ; attempt++) {
      const token = await this.validToken(signal);
      const answer = await this.exchange(
        spec,
        { ...headers, Authorization: `Bearer ${token.value}` },
        body,
        signal,
        spec.method === 'GET' ? 'throw' : 'truncate',
      );
      if (answer.status === 401 && attempt === 0) {
        this.logger.warn(
          { event: 'ox.token.rejected', account: this.account, endpoint },
          'OX refused the token (401); logging in again',
        );
        if (this.token === token) this.token = undefined;
        continue;
      }
      if (answer.status === 401 || answer.status === 403) {
        throw new OxAuthError(this.account, endpoint, answer.status, false, serverMessage(answer));
      }
      this.throwUnlessOk(answer, endpoint);
      return answer;
    }
  }

  private async getJson(spec: RequestSpec, signal: AbortSignal | undefined): Promise<unknown> {
    const endpoint = this.endpointOf(spec);
    return withRetries(
      async () => {
        const answer = await this.authorized(spec, signal);
        if (answer.truncated)
          throw new OxResponseTooLargeError(this.account, endpoint, this.options.maxResponseBytes);
        return this.parseBody(answer, endpoint);
      },
      {
        retries: this.options.retries,
        firstDelayMs: this.options.retryDelayMs,
        maxDelayMs: MAX_RETRY_DELAY_MS,
      },
      signal,
      (retry) =>
        this.logger.warn(
          { event: 'ox.request.retry', account: this.account, endpoint, ...retry },
          'OX request failed; retrying',
        ),
    );
  }

  /** A write: sent once; its answer's body is not needed (the doc does not even say what it is). */
  private async write(spec: RequestSpec, signal: AbortSignal | undefined): Promise<void> {
    await this.authorized(spec, signal);
  }

  private throwUnlessOk(answer: ExchangeAnswer, endpoint: string): void {
    if (answer.status >= 200 && answer.status <= 299) return;
    const retryAfter = retryAfterMs(answer.headers.get('retry-after'));
    const message = serverMessage(answer);
    throw new OxHttpStatusError(this.account, endpoint, answer.status, {
      ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
      ...(message !== undefined ? { serverMessage: message } : {}),
    });
  }

  private parseBody(answer: ExchangeAnswer, endpoint: string): unknown {
    const text = answer.body.toString('utf8').replace(/^\uFEFF/, '');
    if (text.trim() === '') throw new OxMalformedResponseError(this.account, endpoint, 'the body is empty');
    if (isHtml(answer, text)) {
      const title = htmlTitle(text);
      throw new OxMalformedResponseError(
        this.account,
        endpoint,
        `an HTML page${title ? ` ("${title}")` : ''} came instead of JSON (HTTP ${answer.status}); a proxy or the server's error page answered`,
      );
    }
    try {
      return parseJsonLossless(text);
    } catch (error) {
      const reason = error instanceof JsonMalformedError ? error.message : 'the body is not JSON';
      throw new OxMalformedResponseError(this.account, endpoint, reason, { cause: error });
    }
  }

  private urlOf(spec: RequestSpec): string {
    let path = this.options.routes[spec.route];
    for (const [name, value] of Object.entries(spec.params ?? {})) {
      path = path.replaceAll(`{${name}}`, encodeURIComponent(String(value)));
    }
    const query = spec.query ? `?${new URLSearchParams(spec.query).toString()}` : '';
    return `${path}${query}`;
  }

  private endpointOf(spec: RequestSpec): string {
    return `${spec.method} ${decodeURIComponent(this.urlOf(spec))}`;
  }

  private async exchange(
    spec: RequestSpec,
    extraHeaders: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal | undefined,
    overflow: 'throw' | 'truncate',
  ): Promise<ExchangeAnswer> {
    const endpoint = this.endpointOf(spec);
    const { timeoutMs, maxResponseBytes } = this.options;
    return exchange(
      {
        url: `${this.root}${this.urlOf(spec)}`,
        method: spec.method,
        headers: {
          Accept: 'application/json',
          'User-Agent': 'kkt-agent (oxsystem connector)',
          ...extraHeaders,
        },
        body,
        redirect: 'error',
        timeoutMs,
        maxResponseBytes,
        overflow,
        signal,
      },
      {
        timeout: () => new OxTimeoutError(this.account, endpoint, timeoutMs),
        unreachable: (reason, cause) => new OxUnreachableError(this.account, endpoint, reason, cause),
        tooLarge: () => new OxResponseTooLargeError(this.account, endpoint, maxResponseBytes),
      },
    );
  }
}

function isHtml(answer: ExchangeAnswer, text: string): boolean {
  const type = answer.headers.get('content-type') ?? '';
  return /text\/html|application\/xhtml/i.test(type) || /^\s*</.test(text);
}

function htmlTitle(text: string): string | undefined {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1]?.replace(/\s+/g, ' ').trim();
  return title ? title.slice(0, MAX_SERVER_MESSAGE) : undefined;
}

/** What the server said about an error: a JSON `message`/`error`, or an HTML page's title. */
function serverMessage(answer: ExchangeAnswer): string | undefined {
  const text = answer.body.toString('utf8');
  if (text.trim() === '') return undefined;
  if (isHtml(answer, text)) {
    const title = htmlTitle(text);
    return title ? `HTML page "${title}"` : 'an HTML page';
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object') {
      const record = parsed as Record<string, unknown>;
      const message = record['message'] ?? record['error'] ?? record['detail'];
      if (typeof message === 'string') return message.slice(0, MAX_SERVER_MESSAGE);
    }
  } catch {
    // Not JSON: say nothing rather than echo an arbitrary body.
  }
  return undefined;
}
