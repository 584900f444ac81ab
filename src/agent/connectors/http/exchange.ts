import type { ClientRequest, IncomingMessage } from 'node:http';
import { KktAgentError } from '../../../lib/errors.js';
import { nodeHttp, nodeHttps } from '../../../lib/nodeHttp.js';

export interface ExchangeRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string | undefined;
  /** `error`: a redirect fails the request; `manual`: the redirect is the answer (its status says so). */
  redirect: 'error' | 'manual';
  /** Per request, connecting to the last byte of the answer. */
  timeoutMs: number;
  maxResponseBytes: number;
  /** `throw`: an answer over the cap is an error; `truncate`: its head is kept and `truncated` is set. */
  overflow: 'throw' | 'truncate';
  /** The caller's signal (the connector stopping): when it aborts, its reason is what the request throws. */
  signal?: AbortSignal | undefined;
}

/** How a cloud names the failures of one request: its own error classes, with its account and endpoint. */
export interface ExchangeFailures {
  timeout(): KktAgentError;
  unreachable(reason: string, cause: unknown): KktAgentError;
  tooLarge(): KktAgentError;
}

interface CappedBody {
  /** What was read: the whole body, or its head when the limit was passed while reading. */
  body: Buffer;
  /** Bytes declared (Content-Length over the limit) or counted. */
  bodyBytes: number;
  truncated: boolean;
}

/** An answer's headers, looked up by name in any case (several values of one name joined by ", "). */
export interface AnswerHeaders {
  get(name: string): string | null;
}

export interface ExchangeAnswer {
  status: number;
  headers: AnswerHeaders;
  /** The whole body, or its head when it was cut at the cap. */
  body: Buffer;
  /** Bytes declared or received; more than `body.length` when the body was cut. */
  bodyBytes: number;
  truncated: boolean;
}

/**
 * One HTTP request and its answer, read up to a byte cap within a deadline. Failures come out typed: the
 * caller's abort reason, the cloud's timeout, an agent error raised while reading, or the cloud's
 * "unreachable" naming what the network said (`ECONNREFUSED`).
 *
 * node:http(s), not fetch: Node 20's fetch loads undici and compiles its WebAssembly HTTP parser on the
 * first request, which costs a polled agent about 14 MiB of RSS for good and a 20 MiB spike at start-up
 * (docs/BENCHMARKS.md, "Where idle memory goes"). Redirects are never followed, as with fetch's `error`
 * and `manual`: the token headers must not travel to whatever host a redirect names.
 */
export async function exchange(
  request: ExchangeRequest,
  failures: ExchangeFailures,
): Promise<ExchangeAnswer> {
  const outerSignal = request.signal;
  if (outerSignal?.aborted) throw outerSignal.reason;
  let timedOut = false;
  let httpRequest: ClientRequest | undefined;
  const stop = (reason: Error) => httpRequest?.destroy(reason);
  const timer = setTimeout(() => {
    timedOut = true;
    stop(new Error('timeout'));
  }, request.timeoutMs);
  const onOuterAbort = () => stop(new Error('aborted'));
  outerSignal?.addEventListener('abort', onOuterAbort, { once: true });

  const failed = (error: unknown): never => {
    if (outerSignal?.aborted) throw outerSignal.reason;
    if (timedOut) throw failures.timeout();
    if (error instanceof KktAgentError) throw error;
    throw failures.unreachable(networkReason(error), error);
  };

  try {
    const url = new URL(request.url);
    const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
    const headers = requestHeaders(request.headers, body);
    // TLS is loaded for the first https: cloud only (a loopback or LAN bridge never needs it).
    const send = url.protocol === 'https:' ? nodeHttps().request : nodeHttp().request;
    return await new Promise<ExchangeAnswer>((resolve, reject) => {
      const req: ClientRequest = send(url, { method: request.method, headers }, (response) => {
        const status = response.statusCode ?? 0;
        if (request.redirect === 'error' && status >= 300 && status < 400) {
          response.resume();
          reject(new Error('unexpected redirect'));
          return;
        }
        // From here the body says what happened (cut at the cap, dropped, timed out): dropping the
        // connection at the cap must not come back as the request's own "unreachable".
        req.off('error', reject);
        req.on('error', () => undefined);
        readCapped(response, request.maxResponseBytes).then((received) => {
          if (received.truncated && request.overflow === 'throw') reject(failures.tooLarge());
          else resolve({ status, headers: answerHeaders(response), ...received });
        }, reject);
      });
      httpRequest = req;
      req.on('error', reject);
      req.end(body);
    }).catch(failed);
  } finally {
    clearTimeout(timer);
    outerSignal?.removeEventListener('abort', onOuterAbort);
  }
}

/** The caller's headers, with what fetch would have added: a body's length and type, `Accept`. */
function requestHeaders(given: Record<string, string>, body: Buffer | undefined): Record<string, string> {
  const headers = { ...given };
  const has = (name: string) => Object.keys(headers).some((key) => key.toLowerCase() === name);
  if (!has('accept')) headers.Accept = '*/*';
  if (body) {
    headers['Content-Length'] = String(body.length);
    if (!has('content-type')) headers['Content-Type'] = 'text/plain;charset=UTF-8';
  }
  return headers;
}

function answerHeaders(response: IncomingMessage): AnswerHeaders {
  return {
    get(name) {
      const value = response.headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/**
 * Reads an answer's body up to `limitBytes`, so a hostile or broken server cannot make the agent buffer
 * gigabytes. Past the limit (declared or counted) the connection is dropped and `truncated` is set; the
 * head read so far is kept, because an error page's title is in its first bytes.
 */
function readCapped(response: IncomingMessage, limitBytes: number): Promise<CappedBody> {
  const declared = Number(response.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    response.destroy();
    return Promise.resolve({ body: Buffer.alloc(0), bodyBytes: declared, truncated: true });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    response.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > limitBytes) {
        // Settled before the connection is dropped: dropping it reports "aborted" at once.
        resolve({ body: Buffer.concat(chunks), bodyBytes: total, truncated: true });
        response.destroy();
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () =>
      resolve({ body: Buffer.concat(chunks, total), bodyBytes: total, truncated: false }),
    );
    response.on('error', reject);
    response.on('aborted', () => reject(new Error('the answer was cut off')));
  });
}

/** What the network said: `ECONNREFUSED` and the like, else the error's message. */
function networkReason(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown }) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
