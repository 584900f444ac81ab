import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BridgeClient } from '../../src/agent/connectors/bridge/client.js';
import { MoyskladClient } from '../../src/agent/connectors/moysklad/client.js';
import { RateLimiter } from '../../src/agent/connectors/moysklad/rateLimiter.js';
import { OxClient } from '../../src/agent/connectors/oxsystem/client.js';
import { oxAccountSchema } from '../../src/agent/connectors/oxsystem/config.js';
import { type MockOxFault, MockOxServer } from '../oxsystem/mockServer.js';
import { accountFor } from '../oxsystem/support.js';
import { typedRejection } from './support.js';

/**
 * What a cloud can answer instead of what its protocol says: HTML error pages, empty or cut bodies,
 * JSON of the wrong shape, bodies past the cap, auth refusals, server errors, hangs, dropped connections.
 * Each client must turn it into its typed error (BRIDGE_…, MOYSKLAD_…, OX_…) and carry on: the next
 * good answer is read normally.
 */

interface Canned {
  status?: number;
  headers?: Record<string, string>;
  /** Text, or `hang` (never answer) or `drop` (close the connection before any answer). */
  body?: string | 'hang' | 'drop';
  /** Bytes of filler to stream (a body past the client's cap). */
  streamBytes?: number;
}

let server: http.Server;
let baseUrl: string;
let canned: Canned = {};
const hanging = new Set<http.ServerResponse>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const answer = canned;
      if (answer.body === 'hang') {
        hanging.add(res);
        return;
      }
      if (answer.body === 'drop') {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status ?? 200, { 'Content-Type': 'application/json', ...answer.headers });
      if (answer.streamBytes) {
        res.write('[');
        res.end('0,'.repeat(Math.ceil(answer.streamBytes / 2)));
        return;
      }
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  for (const res of hanging) res.destroy();
  hanging.clear();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/**
 * Long enough for a loaded machine to answer on loopback (300 ms was not: HELLO's first answer timed out
 * in a run at load 18), short enough that the few `hang` cases stay quick.
 */
const CLIENT_TIMEOUT_MS = 1_000;

const HTML_502 = '<html><body><h1>502 Bad Gateway</h1></body></html>';

describe('bridge answers', () => {
  const client = () =>
    new BridgeClient({
      account: 'corpus',
      baseUrl,
      auth: { type: 'none' },
      timeoutMs: CLIENT_TIMEOUT_MS,
      retries: 0,
      maxResponseBytes: 16 * 1024,
    });

  const HELLO: Array<[string, Canned, string]> = [
    ['an HTML error page with 200', { body: HTML_502 }, 'BRIDGE_MALFORMED_RESPONSE'],
    ['an empty body', { body: '' }, 'BRIDGE_MALFORMED_RESPONSE'],
    ['whitespace only', { body: ' \n\t ' }, 'BRIDGE_MALFORMED_RESPONSE'],
    ['JSON cut short', { body: '{"system": "crm", "proto' }, 'BRIDGE_MALFORMED_RESPONSE'],
    ['JSON null', { body: 'null' }, 'BRIDGE_MALFORMED_RESPONSE'],
    ['a JSON array', { body: '[]' }, 'BRIDGE_MALFORMED_RESPONSE'],
    ['system a number', { body: '{"system": 1, "protocol": "0.1.0"}' }, 'BRIDGE_MALFORMED_RESPONSE'],
    ['protocol missing', { body: '{"system": "crm"}' }, 'BRIDGE_MALFORMED_RESPONSE'],
    [
      'a duplicated key',
      { body: '{"system":"a","system":"b","protocol":"0.1.0"}' },
      'BRIDGE_MALFORMED_RESPONSE',
    ],
    [
      'another protocol version',
      { body: '{"system": "crm", "protocol": "2.0.0"}' },
      'BRIDGE_PROTOCOL_UNSUPPORTED',
    ],
    ['401', { status: 401, body: '{"error":"unauthorized"}' }, 'BRIDGE_AUTH_REJECTED'],
    ['403', { status: 403, body: HTML_502 }, 'BRIDGE_AUTH_REJECTED'],
    ['404', { status: 404, body: '' }, 'BRIDGE_NOT_FOUND'],
    ['500', { status: 500, body: 'Internal Server Error' }, 'BRIDGE_HTTP_STATUS'],
    ['502 with HTML', { status: 502, body: HTML_502 }, 'BRIDGE_HTTP_STATUS'],
    [
      '429 with Retry-After',
      { status: 429, headers: { 'Retry-After': '30' }, body: '' },
      'BRIDGE_HTTP_STATUS',
    ],
    ['a redirect', { status: 302, headers: { Location: '/elsewhere' }, body: '' }, 'BRIDGE_UNREACHABLE'],
    ['no answer (hang)', { body: 'hang' }, 'BRIDGE_TIMEOUT'],
    ['the connection dropped', { body: 'drop' }, 'BRIDGE_UNREACHABLE'],
    [
      'a declared body past the cap',
      { headers: { 'Content-Length': String(1024 * 1024) }, body: 'hang' },
      'BRIDGE_TIMEOUT',
    ],
    ['a streamed body past the cap', { streamBytes: 64 * 1024 }, 'BRIDGE_RESPONSE_TOO_LARGE'],
  ];

  it.each(HELLO)('HELLO: %s', async (_name, answer, code) => {
    canned = answer;
    await typedRejection(() => client().hello(), { code });
  });

  const LIST: Array<[string, string]> = [
    ['an object instead of rows', '{"rows": []}'],
    ['a row without an id', '[{"number": "1"}]'],
    ['an id that is an object', '[{"id": {"value": 1}}]'],
    ['a row that is a number', '[1, 2, 3]'],
    ['a date that is a number', '[{"id": 1, "date": 20261121}]'],
    ['an HTML page', HTML_502],
  ];

  it.each(LIST)('LIST: %s', async (_name, body) => {
    canned = { body };
    await typedRejection(() => client().list(), { code: 'BRIDGE_MALFORMED_RESPONSE' });
  });

  it.each([
    ['BILL: not JSON', { body: 'Fatal error: Uncaught PDOException' }, 'BRIDGE_MALFORMED_RESPONSE'],
    ['BILL: cut short', { body: '{"id": 1, "products": [' }, 'BRIDGE_MALFORMED_RESPONSE'],
    ['BILL: 404', { status: 404, body: '{"error":"bill not found"}' }, 'BRIDGE_NOT_FOUND'],
  ] as Array<[string, Canned, string]>)('%s', async (_name, answer, code) => {
    canned = answer;
    await typedRejection(() => client().bill('1'), { code });
  });

  it.each([
    ['RECEIPT: 400', { status: 400, body: '{"error":"bad event"}' }, 'BRIDGE_HTTP_STATUS'],
    ['RECEIPT: 422', { status: 422, body: '' }, 'BRIDGE_HTTP_STATUS'],
    ['RECEIPT: 503', { status: 503, headers: { 'Retry-After': '5' }, body: '' }, 'BRIDGE_HTTP_STATUS'],
    ['RECEIPT: no answer', { body: 'hang' }, 'BRIDGE_TIMEOUT'],
    ['RECEIPT: connection dropped', { body: 'drop' }, 'BRIDGE_UNREACHABLE'],
  ] as Array<[string, Canned, string]>)('%s', async (_name, answer, code) => {
    canned = answer;
    await typedRejection(() => client().postReceipt('{"type":"ReceiptCreated","version":2}'), { code });
  });

  it('after all that, a good HELLO is read', async () => {
    canned = { body: '\uFEFF{"system": "crm-a, crm-b", "protocol": "0.1.0"}' };
    expect(await client().hello()).toMatchObject({ systems: ['crm-a', 'crm-b'], protocol: '0.1.0' });
  });
});

describe('MoySklad answers', () => {
  const client = () =>
    new MoyskladClient({
      account: 'corpus',
      baseUrl,
      auth: () => ({ kind: 'token', token: 't', cashierUid: 'u' }),
      limiter: new RateLimiter(),
      timeoutMs: CLIENT_TIMEOUT_MS,
      retries: 0,
      retryDelayMs: 1,
      maxRetryDelayMs: 5,
      maxRateLimitWaits: 0,
      maxResponseBytes: 16 * 1024,
    });

  const CASES: Array<[string, Canned, string]> = [
    ['an HTML page with 200', { body: HTML_502 }, 'MOYSKLAD_MALFORMED_RESPONSE'],
    ['JSON of another shape', { body: '{"rows": "none"}' }, 'MOYSKLAD_MALFORMED_RESPONSE'],
    ['JSON cut short', { body: '{"rows": [' }, 'MOYSKLAD_MALFORMED_RESPONSE'],
    [
      '401 (the token is gone)',
      { status: 401, body: '{"errors":[{"error":"auth","code":1056}]}' },
      'MOYSKLAD_REPAIR_REQUIRED',
    ],
    [
      '429',
      { status: 429, headers: { 'X-Lognex-Retry-After': '100' }, body: '{"errors":[{"code":1049}]}' },
      'MOYSKLAD_RATE_LIMITED',
    ],
    ['503', { status: 503, body: HTML_502 }, 'MOYSKLAD_UNAVAILABLE'],
    ['a body past the cap', { streamBytes: 64 * 1024 }, 'MOYSKLAD_RESPONSE_TOO_LARGE'],
    ['no answer', { body: 'hang' }, 'MOYSKLAD_TIMEOUT'],
    ['the connection dropped', { body: 'drop' }, 'MOYSKLAD_UNREACHABLE'],
  ];

  it.each(CASES)('customer orders: %s', async (_name, answer, code) => {
    canned = answer;
    await typedRejection(() => client().customerOrders(), { code });
  });

  it('an empty order body', async () => {
    canned = { body: '' };
    await typedRejection(() => client().customerOrder('o-1'), { code: 'MOYSKLAD_MALFORMED_RESPONSE' });
  });
});

describe('OX System answers', () => {
  let mock: MockOxServer;

  beforeAll(async () => {
    mock = await MockOxServer.start();
  });

  afterAll(async () => {
    await mock.close();
  });

  const client = () => {
    const config = oxAccountSchema.parse(
      accountFor(mock, { retries: 0, timeoutMs: CLIENT_TIMEOUT_MS, maxResponseBytes: 16 * 1024 }),
    );
    return new OxClient({
      account: config.id,
      baseUrl: config.baseUrl,
      subdomain: config.subdomain,
      username: config.username,
      password: config.password,
      routes: config.routes,
      listQuery: config.listQuery,
      timeoutMs: config.timeoutMs,
      retries: config.retries,
      retryDelayMs: config.retryDelayMs,
      maxResponseBytes: config.maxResponseBytes,
      token: config.token,
    });
  };

  const CASES: Array<[string, MockOxFault, string]> = [
    ['an HTML page with 200', { kind: 'html', endpoint: 'cashdesk' }, 'OX_MALFORMED_RESPONSE'],
    ['an HTML page with 502', { kind: 'html', endpoint: 'cashdesk', status: 502 }, 'OX_HTTP_STATUS'],
    [
      'the payment methods left out',
      { kind: 'omitField', endpoint: 'cashdesk', path: 'paymentMethods' },
      'OX_MALFORMED_RESPONSE',
    ],
    ['the id left out', { kind: 'omitField', endpoint: 'cashdesk', path: 'id' }, 'OX_MALFORMED_RESPONSE'],
    [
      'a body past the cap',
      { kind: 'hugeBody', endpoint: 'cashdesk', bytes: 64 * 1024 },
      'OX_RESPONSE_TOO_LARGE',
    ],
    ['500', { kind: 'http500', endpoint: 'cashdesk' }, 'OX_HTTP_STATUS'],
    ['no answer', { kind: 'hang', endpoint: 'cashdesk' }, 'OX_TIMEOUT'],
    ['the login refused', { kind: 'unauthorized', endpoint: 'login' }, 'OX_LOGIN_REJECTED'],
    ['the login answered with an HTML page', { kind: 'html', endpoint: 'login' }, 'OX_MALFORMED_RESPONSE'],
    ['the login answered 500', { kind: 'http500', endpoint: 'login' }, 'OX_HTTP_STATUS'],
  ];

  it.each(CASES)('cashdesk: %s', async (_name, fault, code) => {
    mock.faults.length = 0;
    mock.fault(fault);
    await typedRejection(() => client().cashdesk(mock.cashdeskId), { code });
  });

  it('after all that, the cashdesk is read', async () => {
    mock.faults.length = 0;
    expect((await client().cashdesk(mock.cashdeskId)).paymentMethods.length).toBeGreaterThan(0);
  });
});
