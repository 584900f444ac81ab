import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

// Required, not imported: an ESM import of node:http loads undici on Node 22+ (see src/lib/nodeHttp.ts).
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');

/**
 * One HTTP exchange with a device on the network (the ATOL web server, the SmartX terminal), classified by
 * what matters for money: could the request have reached the device? `notSent` means provably not (no TCP
 * connection was made); `noAnswer` means it may have. Interpreting the answer is the caller's job.
 */

export interface HttpExchangeRequest {
  url: URL;
  method: 'GET' | 'POST';
  /** Sent as written: some devices insist on a header name's exact case. */
  headers: Record<string, string>;
  /** A JSON text; sent with its Content-Type and Content-Length. */
  jsonBody?: string | undefined;
  /** The whole exchange, from connecting to the last byte of the answer. */
  timeoutMs: number;
  /** Connecting only: a dead address fails fast and provably before anything was sent. */
  connectTimeoutMs: number;
  maxAnswerBytes: number;
}

export type HttpExchangeOutcome =
  | { kind: 'answered'; statusCode: number; bodyText: string }
  | { kind: 'notSent'; reason: string; cause?: unknown }
  | { kind: 'noAnswer'; reason: 'timeout' | 'connectionLost'; detail: string; cause?: unknown };

export function httpExchange(request: HttpExchangeRequest): Promise<HttpExchangeOutcome> {
  const { maxAnswerBytes } = request;
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
    const lost = (detail: string, cause?: unknown): void => {
      settle(
        connected
          ? { kind: 'noAnswer', reason: 'connectionLost', detail, cause }
          : { kind: 'notSent', reason: detail, cause },
      );
    };

    const body = request.jsonBody === undefined ? undefined : Buffer.from(request.jsonBody, 'utf8');
    const headers: Record<string, string> = { ...request.headers, Connection: 'close' };
    if (body) {
      headers['Content-Type'] = 'application/json; charset=utf-8';
      headers['Content-Length'] = String(body.length);
    }

    // A fresh connection per exchange: a kept-alive socket the device already closed would fail after
    // sending and turn a provably unsent request into an ambiguous one.
    const req = http.request(request.url, { method: request.method, headers, agent: false });

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

    const chunks: Buffer[] = [];
    let response: IncomingMessage | undefined;
    const answered = (res: IncomingMessage): void => {
      settle({
        kind: 'answered',
        statusCode: res.statusCode ?? 0,
        bodyText: Buffer.concat(chunks).toString('utf8'),
      });
    };
    // The request may close before the answer's 'end' is emitted; a complete answer is still an answer.
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
      res.on('aborted', () => lost('the answer was cut off'));
      res.on('error', (error: NodeJS.ErrnoException) => lost(error.code ?? error.message, error));
    });

    req.end(body);
  });
}
