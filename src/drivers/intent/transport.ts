import http from 'node:http';
import type { Socket } from 'node:net';

/**
 * One HTTP exchange with the terminal, classified by the only thing that matters for money: could the
 * request have reached the terminal? `notSent` means provably not (no TCP connection was ever made);
 * `noAnswer` means it may have. Interpreting the answer is the caller's job.
 */

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

export type IntentExchangeOutcome =
  | { kind: 'answered'; statusCode: number; bodyText: string }
  | { kind: 'notSent'; reason: string; cause?: unknown }
  | { kind: 'noAnswer'; reason: 'timeout' | 'connectionLost'; detail: string; cause?: unknown };

const DEFAULT_MAX_ANSWER_BYTES = 1024 * 1024;

export function exchangeIntent(request: IntentExchangeRequest): Promise<IntentExchangeOutcome> {
  const maxAnswerBytes = request.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];

    const settle = (outcome: IntentExchangeOutcome): void => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      resolve(outcome);
    };
    const lost = (detail: string, cause?: unknown): void => {
      settle(
        connected
          ? { kind: 'noAnswer', reason: 'connectionLost', detail, cause }
          : { kind: 'notSent', reason: detail, cause },
      );
    };

    const body = Buffer.from(request.body, 'utf8');
    const headers: Record<string, string> = {
      // The vendor requires the key in upper case; Node sends header names as written here.
      [INTENT_OPERATION_HEADER]: request.intent,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(body.length),
      Connection: 'close',
    };
    if (request.authToken !== undefined) headers[AUTH_TOKEN_HEADER] = request.authToken;

    // A fresh connection per exchange: a reused keep-alive socket that the terminal already closed would
    // fail after sending and turn a harmless retry situation into an ambiguous one.
    const req = http.request(request.endpoint, { method: 'POST', headers, agent: false });

    timers.push(
      setTimeout(() => {
        settle(
          connected
            ? {
                kind: 'noAnswer',
                reason: 'timeout',
                detail: `no complete answer within ${request.timeoutMs} ms`,
              }
            : { kind: 'notSent', reason: `no connection within ${request.timeoutMs} ms` },
        );
        req.destroy();
      }, request.timeoutMs),
    );
    timers.push(
      setTimeout(() => {
        if (connected) return;
        settle({ kind: 'notSent', reason: `no connection within ${request.connectTimeoutMs} ms` });
        req.destroy();
      }, request.connectTimeoutMs),
    );

    req.on('socket', (socket: Socket) => {
      socket.once('connect', () => {
        connected = true;
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      lost(error.code ?? error.message, error);
    });
    const chunks: Buffer[] = [];
    let response: http.IncomingMessage | undefined;
    const answered = (res: http.IncomingMessage): void => {
      settle({
        kind: 'answered',
        statusCode: res.statusCode ?? 0,
        bodyText: Buffer.concat(chunks).toString('utf8'),
      });
    };
    req.on('close', () => {
      if (response?.complete) answered(response);
      else lost('the connection closed before an answer came');
    });
    req.on('response', (res) => {
      response = res;
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxAnswerBytes) {
          settle({
            kind: 'noAnswer',
            reason: 'connectionLost',
            detail: `the answer exceeded ${maxAnswerBytes} bytes`,
          });
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => answered(res));
      res.on('error', (error: NodeJS.ErrnoException) => lost(error.code ?? error.message, error));
      res.on('aborted', () => lost('the answer was cut off'));
    });

    req.end(body);
  });
}
