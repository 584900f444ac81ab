import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { URL } from 'node:url';
import { systemTimeZone, wallClockAt } from '../../lib/time.js';
import { type MockBillJson, SEED_BILLS, syntheticBills } from './bills.js';

/**
 * A CRM bridge speaking `/api/v2` on a real HTTP port (docs/protocol/bridge-api-v2.md §2): HELLO, LIST
 * (newest first, with the
 * `number` and `date=today` filters), BILL by id, and the RECEIPT POST, recorded. It ships with the product:
 * the demo runs on it, and the bridge connector's tests talk to it. Faults are injected per endpoint.
 */

export type MockBridgeEndpoint = 'hello' | 'list' | 'bill' | 'receipts';

export type MockBridgeAuth =
  | { type: 'none' }
  | { type: 'bearer'; token: string }
  | { type: 'basic'; username: string; password: string };

/** Where a fault strikes: an endpoint (default any), and for `bill`, one bill id (default any bill). */
interface FaultTarget {
  endpoint?: MockBridgeEndpoint;
  billId?: string;
  times?: number;
}

export type MockBridgeFault =
  /** Answer HTTP 500 with a short text body. */
  | ({ kind: 'http500' } & FaultTarget)
  /** Accept the request and never answer (the client's timeout fires). */
  | ({ kind: 'hang' } & FaultTarget)
  /** 200 with an HTML error page instead of JSON. */
  | ({ kind: 'garbage' } & FaultTarget)
  /** 302 to another address on the same server (the client does not follow redirects). */
  | ({ kind: 'redirect' } & FaultTarget)
  /** Close the connection without an answer (the client sees a reset / "socket hang up"). */
  | ({ kind: 'reset' } & FaultTarget)
  /** 200 with a JSON-looking body of `bytes` (default 5 MB), streamed; `declareLength` sends Content-Length. */
  | ({
      kind: 'hugeBody';
      bytes?: number;
      declareLength?: boolean;
    } & FaultTarget)
  /** Refuse receipts with `status` (e.g. 400, 422, 429, 503), optionally with `Retry-After` (seconds). */
  | { kind: 'rejectReceipts'; status: number; retryAfterSeconds?: number; times?: number };

export interface MockBridgeOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default: the two seed bills and the synthetic ones (see bills.ts). */
  bills?: readonly MockBillJson[];
  /** Default none. */
  auth?: MockBridgeAuth;
  /** HELLO's `system`; default "mock-crm". A comma-separated list is allowed. */
  system?: string;
  /** HELLO's `protocol`; default "0.1.0". */
  protocol?: string;
  /** The bridge's local zone, for `date=today` and the synthetic bills' dates; default the system zone. */
  timeZone?: string;
  now?: () => Date;
}

export interface MockBridgeReceipt {
  /** The parsed body (plain JSON.parse: the mock only records). */
  body: unknown;
  /** The body exactly as received. */
  text: string;
  at: string;
}

export interface MockBridgeRequest {
  method: string;
  /** Path and query, e.g. `/api/v2/list?number=1307620`. */
  url: string;
  endpoint: MockBridgeEndpoint | 'unknown';
  /** The status answered, or `hang`/`dropped`. */
  outcome: number | 'hang' | 'dropped';
  at: string;
}

export interface MockBridgeEvents {
  receipt: [MockBridgeReceipt];
  request: [MockBridgeRequest];
}

export interface MockBridge {
  /** e.g. http://127.0.0.1:40123 (the connector's `baseUrl`). */
  readonly url: string;
  readonly port: number;
  readonly receipts: readonly MockBridgeReceipt[];
  readonly requests: readonly MockBridgeRequest[];
  readonly events: EventEmitter<MockBridgeEvents>;
  readonly listening: boolean;
  /** Adds or replaces (same id) a bill. */
  addBill(bill: MockBillJson): void;
  removeBill(id: string | number): boolean;
  bills(): MockBillJson[];
  setFault(fault: MockBridgeFault): void;
  clearFaults(): void;
  setAuth(auth: MockBridgeAuth): void;
  setSystem(system: string): void;
  /** Stops listening: clients get "connection refused" until `up()`. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

const HUGE_BODY_BYTES = 5 * 1024 * 1024;

export async function startMockBridge(options: MockBridgeOptions = {}): Promise<MockBridge> {
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? (() => new Date());
  const timeZone = options.timeZone ?? systemTimeZone();
  const today = () => localDate(now(), timeZone);
  const store = new Map<string, MockBillJson>();
  for (const bill of options.bills ?? [...SEED_BILLS, ...syntheticBills(today())]) {
    store.set(String(bill['id']), structuredClone(bill));
  }
  let auth: MockBridgeAuth = options.auth ?? { type: 'none' };
  let system = options.system ?? 'mock-crm';
  const protocol = options.protocol ?? '0.1.0';
  const faults: Array<MockBridgeFault & { left: number }> = [];
  const receipts: MockBridgeReceipt[] = [];
  const requests: MockBridgeRequest[] = [];
  const events = new EventEmitter<MockBridgeEvents>();

  const record = (
    req: http.IncomingMessage,
    endpoint: MockBridgeRequest['endpoint'],
    outcome: number | 'hang' | 'dropped',
  ) => {
    const entry: MockBridgeRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      endpoint,
      outcome,
      at: now().toISOString(),
    };
    requests.push(entry);
    events.emit('request', entry);
  };

  const takeFault = (endpoint: MockBridgeEndpoint, id: string | undefined): MockBridgeFault | undefined => {
    const index = faults.findIndex((fault) =>
      fault.kind === 'rejectReceipts'
        ? endpoint === 'receipts'
        : (fault.endpoint ?? endpoint) === endpoint &&
          (fault.billId === undefined || (endpoint === 'bill' && fault.billId === id)),
    );
    if (index < 0) return undefined;
    const fault = faults[index]!;
    fault.left--;
    if (fault.left <= 0) faults.splice(index, 1);
    return fault;
  };

  const listRows = (url: URL): MockBillJson[] => {
    const number = url.searchParams.get('number');
    const date = url.searchParams.get('date');
    const day = date === 'today' ? today() : date;
    return [...store.values()]
      .filter((bill) => number === null || String(bill['number']) === number)
      .filter((bill) => day === null || String(bill['date'] ?? '').startsWith(day))
      .sort((a, b) => String(b['date'] ?? '').localeCompare(String(a['date'] ?? '')))
      .map(listRow);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://bridge');
    const route = routeOf(req.method ?? '', url.pathname);
    const body = await readBody(req);
    if (!route) {
      sendJson(res, 404, { error: 'not found' });
      record(req, 'unknown', 404);
      return;
    }
    if (!authorized(auth, req.headers.authorization)) {
      res.setHeader('WWW-Authenticate', auth.type === 'basic' ? 'Basic realm="bridge"' : 'Bearer');
      sendJson(res, 401, { error: 'unauthorized' });
      record(req, route.endpoint, 401);
      return;
    }
    const fault = takeFault(route.endpoint, route.id);
    if (fault) {
      const outcome = applyFault(fault, res);
      record(req, route.endpoint, outcome);
      return;
    }
    switch (route.endpoint) {
      case 'hello':
        sendJson(res, 200, { system, protocol });
        break;
      case 'list':
        sendJson(res, 200, listRows(url));
        break;
      case 'bill': {
        const bill = store.get(route.id ?? '');
        if (bill) sendJson(res, 200, bill);
        else sendJson(res, 404, { error: 'bill not found' });
        break;
      }
      case 'receipts': {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          sendJson(res, 400, { error: 'the body is not JSON' });
          break;
        }
        const event = parsed as { type?: unknown; version?: unknown } | null;
        if (event === null || event.type !== 'ReceiptCreated' || event.version !== 2) {
          sendJson(res, 400, { error: 'expected a ReceiptCreated v2 event' });
          break;
        }
        const receipt: MockBridgeReceipt = { body: parsed, text: body, at: now().toISOString() };
        receipts.push(receipt);
        // Real bridges answer an empty body or {"success": true} (docs/protocol/bridge-api-v2.md §3); the
        // agent reads neither.
        res.writeHead(200, { 'Content-Length': '0' }).end();
        events.emit('receipt', receipt);
        break;
      }
    }
    record(req, route.endpoint, res.statusCode);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: 'mock bridge failure' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  let listening = false;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        listening = true;
        resolve((server.address() as AddressInfo).port);
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!listening) return resolve();
      listening = false;
      server.close(() => resolve());
      server.closeAllConnections();
    });

  const port = await listen(options.port ?? 0);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    port,
    receipts,
    requests,
    events,
    get listening() {
      return listening;
    },
    addBill(bill) {
      store.set(String(bill['id']), structuredClone(bill));
    },
    removeBill(id) {
      return store.delete(String(id));
    },
    bills() {
      return [...store.values()].map((bill) => structuredClone(bill));
    },
    setFault(fault) {
      faults.push({ ...fault, left: fault.times ?? Number.POSITIVE_INFINITY });
    },
    clearFaults() {
      faults.length = 0;
    },
    setAuth(next) {
      auth = next;
    },
    setSystem(next) {
      system = next;
    },
    down: stopListening,
    async up() {
      if (!listening) await listen(port);
    },
    close: stopListening,
  };
}

function routeOf(method: string, path: string): { endpoint: MockBridgeEndpoint; id?: string } | undefined {
  const normalized = path.replace(/\/+$/, '');
  if (method === 'GET' && normalized === '/api/v2/hello') return { endpoint: 'hello' };
  if (method === 'GET' && normalized === '/api/v2/list') return { endpoint: 'list' };
  const bill = /^\/api\/v2\/bill\/byid\/([^/]+)$/.exec(normalized);
  if (method === 'GET' && bill) return { endpoint: 'bill', id: decodeURIComponent(bill[1]!) };
  if (method === 'POST' && normalized === '/api/v2/receipts') return { endpoint: 'receipts' };
  return undefined;
}

/**
 * A LIST row: the BILL's header, `customername` trimmed as the real bridge does
 * (docs/protocol/bridge-api-v2.md §3).
 */
function listRow(bill: MockBillJson): MockBillJson {
  const customer = bill['customer'] as { name?: unknown } | undefined;
  const row: MockBillJson = {
    id: bill['id'],
    date: bill['date'],
    summ: bill['summ'],
    number: bill['number'],
  };
  if (typeof customer?.name === 'string') row['customername'] = customer.name.trim();
  return row;
}

function authorized(auth: MockBridgeAuth, header: string | undefined): boolean {
  switch (auth.type) {
    case 'none':
      return true;
    case 'bearer':
      return header === `Bearer ${auth.token}`;
    case 'basic': {
      const expected = Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64');
      return header === `Basic ${expected}`;
    }
  }
}

function applyFault(fault: MockBridgeFault, res: http.ServerResponse): number | 'hang' | 'dropped' {
  switch (fault.kind) {
    case 'http500':
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Internal Server Error');
      return 500;
    case 'hang':
      return 'hang';
    case 'redirect':
      res.writeHead(302, { Location: '/api/v2/elsewhere', 'Content-Length': '0' }).end();
      return 302;
    case 'reset':
      res.socket?.destroy();
      return 'dropped';
    case 'garbage':
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end('<html><body><h1>502 Bad Gateway</h1></body></html>');
      return 200;
    case 'hugeBody': {
      const bytes = fault.bytes ?? HUGE_BODY_BYTES;
      const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/json' };
      if (fault.declareLength) headers['Content-Length'] = String(bytes);
      res.writeHead(200, headers);
      streamFiller(res, bytes);
      return 200;
    }
    case 'rejectReceipts': {
      const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/json' };
      if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds);
      res.writeHead(fault.status, headers).end(JSON.stringify({ error: `rejected with ${fault.status}` }));
      return fault.status;
    }
  }
}

/** `[` then `0,` repeated: JSON-looking and never finished, written with back-pressure. */
function streamFiller(res: http.ServerResponse, bytes: number): void {
  const chunk = Buffer.from('0,'.repeat(32 * 1024));
  let left = bytes - 1;
  res.write('[');
  const pump = (): void => {
    while (left > 0 && !res.destroyed) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res
    .writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(text)),
    })
    .end(text);
}

function localDate(instant: Date, timeZone: string): string {
  const t = wallClockAt(instant, timeZone);
  return `${String(t.year).padStart(4, '0')}-${String(t.month).padStart(2, '0')}-${String(t.day).padStart(2, '0')}`;
}
