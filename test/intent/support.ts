import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IntentSale } from '../../src/drivers/intent/index.js';

/** A small cash sale in the driver's vocabulary: 2 × 4.00 + 0.250 × 5.90 = 9.48, paid 10.00. */
export function cashSale(overrides: Partial<IntentSale> = {}): IntentSale {
  return {
    cashier: 'Иванова',
    itemList: [
      { nameTitle: 'Хлеб', codeNumber: '1', typeCode: '0', priceMinor: 400, quantityMilli: 2000 },
      { nameTitle: 'Сыр', codeNumber: '2', typeCode: '0', priceMinor: 590, quantityMilli: 250 },
    ],
    cashMinor: 1000,
    ...overrides,
  };
}

export interface RawAnswer {
  status: number;
  text: string;
  json: unknown;
}

/** Posts with exactly the given header names (Node keeps their case), the way a third-party client might. */
export function rawPost(endpoint: string, headers: Record<string, string>, body: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(endpoint, { method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface StubCall {
  intent: string | undefined;
  token: string | undefined;
  body: string;
}

export type StubReply = { status: number; body: string } | 'hang' | 'drop';

/**
 * A scripted HTTP peer for cases the emulator does not produce (HTTP 401 on a SALE, a hanging AUTH, a
 * success without receipt data). Every call is recorded.
 */
export async function startStubTerminal(
  reply: (call: StubCall, index: number) => StubReply,
): Promise<{ url: string; calls: StubCall[]; close(): Promise<void> }> {
  const calls: StubCall[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const token = req.headers['auth-token'];
      const call: StubCall = {
        intent:
          typeof req.headers['intent_operation_type'] === 'string'
            ? req.headers['intent_operation_type']
            : undefined,
        token: typeof token === 'string' ? token : undefined,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      calls.push(call);
      const answer = reply(call, calls.length - 1);
      if (answer === 'hang') return;
      if (answer === 'drop') {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const AUTH_OK = JSON.stringify({ token: 'stub-token', resultCode: 200, type: 'AUTH' });

export const SALE_OK = JSON.stringify({
  resultCode: 200,
  type: 'SALE',
  numberCheck: '77',
  uid: '0123456789ABCDEF01234567',
  total: '9.48',
  change: '0.52',
  payments: [{ type: 'Cash', sum: '10' }],
});
