import { setTimeout as sleep } from 'node:timers/promises';
import { ValidationError } from '../../../lib/errors.js';
import { parseJsonLossless, parseWithSchema, stringifyJsonLossless } from '../../../lib/json.js';
import { type HttpExchangeOutcome, httpExchange } from '../../http/exchange.js';
import { PENDING_STATUSES, requestResultsSchema, type TaskResult } from './answers.js';
import { KktWebRejectedError } from './errors.js';
import type { JsonTask } from './tasks.js';

/**
 * The HTTP side of ATOL driver 10's web server (docs/protocol/atol-v3.md §12): submit a request of JSON tasks under a uuid
 * (`POST /api/v2/requests`, 201; a uuid it already holds answers 409), then poll its results
 * (`GET /api/v2/requests/{uuid}`) until every task has finished. It only moves requests and says what
 * each exchange proves; what a result means is the backend's business.
 */
export interface AtolWebClientOptions {
  /** The server's base URL; default `http://127.0.0.1:16732`. */
  url?: string;
  /** HTTP Basic credentials, when the server requires them. */
  auth?: { username: string; password: string };
  /** The register's id in the server, when it drives several (`deviceID`). */
  deviceId?: string;
  /** One HTTP exchange, connecting included; default 10 s. */
  requestTimeoutMs?: number;
  /** Connecting only; default 3 s. */
  connectTimeoutMs?: number;
  /** How often a running request is polled; default 500 ms. */
  pollIntervalMs?: number;
}

export const DEFAULT_WEB_SERVER_URL = 'http://127.0.0.1:16732';

/** Past this an answer is not read: a broken server must not make the agent buffer without end. */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

export type SubmitOutcome =
  /** 201: the server queued the request under this uuid. */
  | { kind: 'accepted' }
  /** 409: the server already holds a request under this uuid; it was not queued again. */
  | { kind: 'duplicate' }
  /** No connection was made: the request provably did not reach the server. */
  | { kind: 'notSent'; reason: string }
  /** The request may have reached the server (no answer, a cut connection, HTTP 5xx). */
  | { kind: 'ambiguous'; reason: string };

export type LookupOutcome =
  | { kind: 'found'; results: TaskResult[] }
  /** 404: the server holds no request under this uuid (never received, or forgotten). */
  | { kind: 'unknown' };

export type SettleOutcome =
  | { kind: 'final'; results: TaskResult[] }
  | { kind: 'pending'; results: TaskResult[] }
  | { kind: 'unknown' };

/** A lookup that did not get a readable answer; the request itself is unaffected by it. */
export class LookupFailedError extends Error {
  constructor(
    readonly reason: string,
    /** True when no connection was made at all. */
    readonly unreachable: boolean,
  ) {
    super(reason);
  }
}

const isFinal = (results: readonly TaskResult[]) => results.every((r) => !PENDING_STATUSES.has(r.status));

export class AtolWebClient {
  readonly url: string;
  private readonly base: URL;
  private readonly authorization: string | undefined;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  readonly pollIntervalMs: number;

  constructor(private readonly options: AtolWebClientOptions = {}) {
    this.url = (options.url ?? DEFAULT_WEB_SERVER_URL).replace(/\/+$/, '');
    this.base = new URL(`${this.url}/`);
    // The URL goes into logs and errors; credentials belong in `auth`.
    if (this.base.username || this.base.password) {
      throw new ValidationError('url', 'put credentials in auth, not in the URL');
    }
    this.authorization = options.auth
      ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`, 'utf8').toString('base64')}`
      : undefined;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.connectTimeoutMs = Math.min(options.connectTimeoutMs ?? 3000, this.requestTimeoutMs);
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
  }

  private exchange(method: 'GET' | 'POST', path: string, body?: string): Promise<HttpExchangeOutcome> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.authorization) headers.Authorization = this.authorization;
    return httpExchange({
      url: new URL(path, this.base),
      method,
      headers,
      jsonBody: body,
      timeoutMs: this.requestTimeoutMs,
      connectTimeoutMs: this.connectTimeoutMs,
      maxAnswerBytes: MAX_ANSWER_BYTES,
    });
  }

  /** Submits tasks under a uuid. Throws `KktWebRejectedError` when the server refuses the request (4xx). */
  async submit(uuid: string, tasks: readonly JsonTask[], operation: string): Promise<SubmitOutcome> {
    const body = stringifyJsonLossless({
      uuid,
      ...(this.options.deviceId ? { deviceID: this.options.deviceId } : {}),
      request: tasks,
    });
    const outcome = await this.exchange('POST', 'api/v2/requests', body);
    if (outcome.kind === 'notSent') return { kind: 'notSent', reason: outcome.reason };
    if (outcome.kind === 'noAnswer') return { kind: 'ambiguous', reason: outcome.detail };
    if (outcome.statusCode === 201 || outcome.statusCode === 200) return { kind: 'accepted' };
    if (outcome.statusCode === 409) return { kind: 'duplicate' };
    if (outcome.statusCode >= 500) return { kind: 'ambiguous', reason: `HTTP ${outcome.statusCode}` };
    throw new KktWebRejectedError(operation, outcome.statusCode, outcome.bodyText.slice(0, 200));
  }

  /** The request's results as the server holds them now. Throws `LookupFailedError` without a readable answer. */
  async lookup(uuid: string): Promise<LookupOutcome> {
    const outcome = await this.exchange('GET', `api/v2/requests/${encodeURIComponent(uuid)}`);
    if (outcome.kind === 'notSent') throw new LookupFailedError(outcome.reason, true);
    if (outcome.kind === 'noAnswer') throw new LookupFailedError(outcome.detail, false);
    if (outcome.statusCode === 404) return { kind: 'unknown' };
    if (outcome.statusCode !== 200) {
      if (outcome.statusCode === 401 || outcome.statusCode === 403)
        throw new KktWebRejectedError('lookup', outcome.statusCode, '');
      throw new LookupFailedError(`HTTP ${outcome.statusCode}`, false);
    }
    try {
      return {
        kind: 'found',
        results: parseWithSchema(requestResultsSchema, parseJsonLossless(outcome.bodyText)).results,
      };
    } catch (error) {
      throw new LookupFailedError(`unreadable answer: ${(error as Error).message}`, false);
    }
  }

  /**
   * Polls a request until every task has finished, the deadline passes (`pending`) or the server no longer
   * knows it (`unknown`). Lookup failures propagate as `LookupFailedError`.
   */
  async settle(uuid: string, deadline: number): Promise<SettleOutcome> {
    let delay = Math.min(this.pollIntervalMs, 50);
    for (;;) {
      await sleep(delay);
      delay = this.pollIntervalMs;
      const found = await this.lookup(uuid);
      if (found.kind === 'unknown') return found;
      if (isFinal(found.results)) return { kind: 'final', results: found.results };
      if (Date.now() + this.pollIntervalMs > deadline) return { kind: 'pending', results: found.results };
    }
  }
}
