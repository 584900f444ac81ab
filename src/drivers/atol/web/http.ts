import http from 'node:http';
import type { Socket } from 'node:net';

/**
 * One HTTP exchange with the ATOL web server, classified by what matters for money: could the request
 * have reached the server? `notSent` means provably not (no TCP connection was made); `noAnswer` means it
 * may have. Interpreting the answer is the caller's job.
 */

export interface HttpExchangeRequest {
  url: URL;
  method: 'GET' | 'POST';
  body?: string;
  /** `Authorization` header value (Basic …), never logged. */
  authorization?: string;
  /** The whole exchange, from connecting to the last byte of the answer. */
  timeoutMs: number;
  /** Connecting only: a dead address fails fast and provably before anything was sent. */
  connectTimeoutMs: number;
  maxAnswerBytes?: number;
}

export type HttpExchangeOutcome =
  | { kind: 'answered'; status: number; body: string }
  | { kind: 'notSent'; reason: string; cause?: unknown }
  | { kind: 'noAnswer'; reason: string; cause?: unknown };

const DEFAULT_MAX_ANSWER_BYTES = 8 * 1024 * 1024;

export function httpExchange(request: HttpExchangeRequest): Promise<HttpExchangeOutcome> {
  const maxAnswerBytes = request.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const settle = (outcome: HttpExchangeOutcome): void => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      resolve(outcome);
    };
    const lost = (reason: string, cause?: unknown): void =>
      settle(connected ? { kind: 'noAnswer', reason, cause } : { kind: 'notSent', reason, cause });

    const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
    const headers: Record<string, string> = { Accept: 'application/json', Connection: 'close' };
    if (body) {
      headers['Content-Type'] = 'application/json; charset=utf-8';
      headers['Content-Length'] = String(body.length);
    }
    if (request.authorization) headers.Authorization = request.authorization;
    // A fresh connection per exchange: a kept-alive socket the server already closed would fail after
    // sending and turn a provably unsent request into an ambiguous one.
    const req = http.request(request.url, { method: request.method, headers, agent: false });

    timers.push(
      setTimeout(() => {
        lost(`no complete answer within ${request.timeoutMs} ms`);
        req.destroy();
      }, request.timeoutMs),
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
    req.on('error', (error: NodeJS.ErrnoException) => lost(error.code ?? error.message, error));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxAnswerBytes) {
          settle({ kind: 'noAnswer', reason: `the answer exceeded ${maxAnswerBytes} bytes` });
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        settle({
          kind: 'answered',
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('aborted', () => lost('the answer was cut off'));
      res.on('error', (error: NodeJS.ErrnoException) => lost(error.code ?? error.message, error));
    });
    req.on('close', () => lost('the connection closed before an answer came'));
    req.end(body);
  });
}
