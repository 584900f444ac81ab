import { type HttpExchangeOutcome, httpExchange } from '../http/exchange.js';

/** One HTTP exchange with the terminal; `notSent` and `noAnswer` are as in `httpExchange`. */

export const INTENT_OPERATION_HEADER = 'INTENT_OPERATION_TYPE';
export const AUTH_TOKEN_HEADER = 'Auth-token';

export interface IntentExchangeRequest {
  endpoint: URL;
  intent: string;
  body: string;
  authToken?: string | undefined;
  /** The whole exchange, from connecting to the last byte of the answer. */
  timeoutMs: number;
  /** Connecting only; a dead address fails fast and provably before anything was sent. */
  connectTimeoutMs: number;
  maxAnswerBytes?: number;
}

export type IntentExchangeOutcome = HttpExchangeOutcome;

const DEFAULT_MAX_ANSWER_BYTES = 1024 * 1024;

export function exchangeIntent(request: IntentExchangeRequest): Promise<IntentExchangeOutcome> {
  // The vendor requires the key in upper case; Node sends header names as written here.
  const headers: Record<string, string> = { [INTENT_OPERATION_HEADER]: request.intent };
  if (request.authToken !== undefined) headers[AUTH_TOKEN_HEADER] = request.authToken;
  return httpExchange({
    url: request.endpoint,
    method: 'POST',
    headers,
    jsonBody: request.body,
    timeoutMs: request.timeoutMs,
    connectTimeoutMs: request.connectTimeoutMs,
    maxAnswerBytes: request.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES,
  });
}
