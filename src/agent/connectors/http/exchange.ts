import { KktAgentError } from '../../../lib/errors.js';
import { readBodyCapped } from '../../../lib/httpBody.js';

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

export interface ExchangeAnswer {
  status: number;
  headers: Headers;
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
 */
export async function exchange(
  request: ExchangeRequest,
  failures: ExchangeFailures,
): Promise<ExchangeAnswer> {
  // One controller per request, aborted by the timeout or by the caller. (Linked by hand rather than
  // with AbortSignal.any, whose followers pile up on a long-lived caller signal in some Node 20 releases.)
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, request.timeoutMs);
  const outerSignal = request.signal;
  const onOuterAbort = () => controller.abort(outerSignal?.reason);
  if (outerSignal?.aborted) onOuterAbort();
  else outerSignal?.addEventListener('abort', onOuterAbort, { once: true });

  const failed = (error: unknown): never => {
    if (outerSignal?.aborted) throw outerSignal.reason;
    if (timedOut) throw failures.timeout();
    if (error instanceof KktAgentError) throw error;
    throw failures.unreachable(networkReason(error), error);
  };

  try {
    let response: Response;
    try {
      response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: controller.signal,
        redirect: request.redirect,
      });
    } catch (error) {
      return failed(error);
    }
    try {
      const received = await readBodyCapped(response, request.maxResponseBytes);
      if (received.truncated && request.overflow === 'throw') throw failures.tooLarge();
      return { status: response.status, headers: response.headers, ...received };
    } catch (error) {
      return failed(error);
    }
  } finally {
    clearTimeout(timer);
    outerSignal?.removeEventListener('abort', onOuterAbort);
  }
}

/** What the network said: undici hides `ECONNREFUSED` and the like in the cause of its "fetch failed". */
function networkReason(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown }) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
