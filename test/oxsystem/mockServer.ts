import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  OX_DEFAULT_LIST_QUERY,
  OX_DEFAULT_ROUTES,
  type OxRouteName,
} from '../../src/agent/connectors/oxsystem/config.js';
import { formatOxDateTime } from '../../src/agent/connectors/oxsystem/time.js';

/**
 * An OX System server for tests, on a real loopback port: form login issuing JWT-shaped tokens with a
 * lifetime (expiry can be forced), a cashdesk with payment methods, sells in every state (open, postponed,
 * finished) with Price objects as the doc prints them, and the payment / commit / patch endpoints applying
 * their state changes. Every request is recorded. Faults: HTTP 500, hangs, an HTML error page, a huge
 * body, 401 (expired token), a field left out of an answer, and an answer lost after the change applied.
 */

export type MockOxEndpoint = OxRouteName;

export type MockOxFault =
  | { kind: 'http500'; endpoint?: MockOxEndpoint; times?: number }
  | { kind: 'hang'; endpoint?: MockOxEndpoint; times?: number }
  /** An HTML error page (nginx style) with `status` (default 200). */
  | { kind: 'html'; endpoint?: MockOxEndpoint; times?: number; status?: number }
  /** `bytes` (default 10 MB) of JSON-looking body; `declareLength` sends Content-Length. */
  | { kind: 'hugeBody'; endpoint?: MockOxEndpoint; times?: number; bytes?: number; declareLength?: boolean }
  /** 401 "Expired JWT Token", whatever the token. */
  | { kind: 'unauthorized'; endpoint?: MockOxEndpoint; times?: number }
  /** The answer without the field at `path` (dots; numbers index arrays: `items.0.updatedTime`). */
  | { kind: 'omitField'; endpoint?: MockOxEndpoint; times?: number; path: string }
  /** Apply the change, then cut the connection before answering. */
  | { kind: 'dropAfterApply'; endpoint: 'payment' | 'commit' | 'patch'; times?: number };

export interface MockOxCall {
  method: string;
  path: string;
  query: Record<string, string>;
  endpoint: MockOxEndpoint | 'unknown';
  auth: 'none' | 'ok' | 'expired' | 'invalid' | 'n/a';
  contentType: string | undefined;
  body: unknown;
  outcome: number | 'hang' | 'dropped';
}

export interface MockPaymentMethod {
  id: number;
  name: string;
  cash: boolean;
  wallet?: boolean;
  active?: boolean;
}

export interface MockVariation {
  id: number;
  taxable?: boolean;
  vatPercent?: number | null;
  unit?: string;
}

export interface MockLineInput {
  name: string;
  count: number;
  /** Whole so'm per piece. */
  unitPrice: number;
  /** Whole so'm off the line. */
  discount?: number;
  /** An id (as in every doc sample) or an embedded variation. Default: a fresh id. */
  variation?: number | MockVariation;
  deleted?: boolean;
}

export interface MockSellInput {
  kind: 'open' | 'postponed' | 'finished';
  lines: MockLineInput[];
  payments?: Array<{ method: number; price: number; type?: 'sell' | 'refund' }>;
  note?: string | null;
  cashdesk?: number;
  isDebt?: boolean;
  /** Sell-level `total` instead of Σ lines (to make them disagree). */
  totalOverride?: number;
}

interface MockLine extends MockLineInput {
  id: number;
  variationValue: number | MockVariation;
}

export interface MockSellState {
  id: number;
  cashdesk: number;
  draft: boolean;
  isPostpone: boolean;
  isDebt: boolean;
  finishedTime: string | null;
  time: string;
  updatedTime: string;
  note: string | null;
  lines: MockLine[];
  payments: Array<{ id: number; method: number; price: number; type: string; time: string }>;
  totalOverride?: number;
  commits: number;
  patches: number;
}

export interface MockOxOptions {
  username?: string;
  password?: string;
  subdomain?: string;
  /** The login answer's `lifetime`, seconds; `null` leaves it out. Default 1036800 (12 days). */
  lifetimeSeconds?: number | null;
  /** The JWT's `exp − iat`, seconds; `null` issues an opaque token. Default 365 days (as the doc's sample). */
  jwtValiditySeconds?: number | null;
  routes?: Partial<Record<OxRouteName, string>>;
  pageSize?: number;
  timeZone?: string;
  now?: () => number;
  cashdeskId?: number;
  paymentMethods?: MockPaymentMethod[];
  variations?: MockVariation[];
}

const RATIO = {
  'UZS/USD': 8.333333333333333e-5,
  'USD/UZS': 12000,
  'UZS/EUR': 9.09090909090909e-5,
  'EUR/UZS': 11000,
};

/** A Price object as OX prints it: per-currency amounts, the foreign ones as floats. */
export function price(uzs: number) {
  return {
    first: 'UZS',
    ratio: RATIO,
    order: {
      UZS: uzs,
      USD: Math.round((uzs / 12000) * 100) / 100,
      EUR: Math.round((uzs / 11000) * 100) / 100,
    },
  };
}

const HTML_PAGE =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n';

export class MockOxServer {
  readonly calls: MockOxCall[] = [];
  readonly faults: MockOxFault[] = [];
  readonly sells = new Map<number, MockSellState>();
  paymentMethods: MockPaymentMethod[];
  variations = new Map<number, MockVariation>();
  username: string;
  password: string;
  subdomain: string;
  lifetimeSeconds: number | null;
  jwtValiditySeconds: number | null;
  logins = 0;
  readonly cashdeskId: number;
  private readonly tokens = new Map<string, { expiresAtMs: number; revoked: boolean }>();
  private readonly routes: Record<OxRouteName, string>;
  private readonly matchers: Array<{ endpoint: OxRouteName; pattern: RegExp; names: string[] }>;
  private readonly pageSize: number;
  private readonly timeZone: string;
  private readonly now: () => number;
  private nextSellId = 990_480;
  private nextLineId = 1_639_140;
  private nextPaymentId = 4767;
  private nextVariationId = 42_970;

  private constructor(
    private readonly server: http.Server,
    options: MockOxOptions,
  ) {
    this.username = options.username ?? 'cashier';
    this.password = options.password ?? 'secret';
    this.subdomain = options.subdomain ?? 'shop';
    this.lifetimeSeconds = options.lifetimeSeconds === undefined ? 1_036_800 : options.lifetimeSeconds;
    this.jwtValiditySeconds =
      options.jwtValiditySeconds === undefined ? 365 * 86_400 : options.jwtValiditySeconds;
    this.routes = { ...OX_DEFAULT_ROUTES, ...options.routes };
    this.pageSize = options.pageSize ?? 2;
    this.timeZone = options.timeZone ?? 'Asia/Tashkent';
    this.now = options.now ?? Date.now;
    this.cashdeskId = options.cashdeskId ?? 233;
    this.paymentMethods = options.paymentMethods ?? [
      { id: 3, name: 'Наличные', cash: true },
      { id: 114, name: 'Uzcard', cash: false },
      { id: 7, name: 'Wallet', cash: false, wallet: true },
    ];
    for (const variation of options.variations ?? []) this.variations.set(variation.id, variation);
    // Longer templates first: `/sells/{sell}/payment` before `/sells/{sell}`.
    this.matchers = (Object.keys(this.routes) as OxRouteName[])
      .map((endpoint) => {
        const names: string[] = [];
        const source = this.routes[endpoint]
          .split(/(\{[A-Za-z]+\})/)
          .map((part) => {
            const name = /^\{([A-Za-z]+)\}$/.exec(part)?.[1];
            if (name) {
              names.push(name);
              return '([^/]+)';
            }
            return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          })
          .join('');
        return { endpoint, pattern: new RegExp(`^${source}$`), names };
      })
      .sort((a, b) => b.pattern.source.length - a.pattern.source.length);
  }

  static async start(options: MockOxOptions = {}): Promise<MockOxServer> {
    let mock: MockOxServer | undefined;
    const server = http.createServer((req, res) => {
      void mock!.handle(req, res);
    });
    mock = new MockOxServer(server, options);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return mock;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Every token issued so far answers 401 from now on. */
  expireTokens(): void {
    for (const token of this.tokens.values()) token.revoked = true;
  }

  fault(fault: MockOxFault): void {
    this.faults.push(fault);
  }

  callsTo(endpoint: MockOxEndpoint, method?: string): MockOxCall[] {
    return this.calls.filter((c) => c.endpoint === endpoint && (method === undefined || c.method === method));
  }

  oxTime(): string {
    return formatOxDateTime(new Date(this.now()), this.timeZone);
  }

  addSell(input: MockSellInput): number {
    const id = ++this.nextSellId;
    const at = this.oxTime();
    const lines: MockLine[] = input.lines.map((line) => {
      const variationValue = line.variation ?? ++this.nextVariationId;
      return { ...line, id: ++this.nextLineId, variationValue };
    });
    const state: MockSellState = {
      id,
      cashdesk: input.cashdesk ?? this.cashdeskId,
      draft: input.kind !== 'finished',
      isPostpone: input.kind === 'postponed',
      isDebt: input.isDebt ?? false,
      finishedTime: input.kind === 'finished' ? at : null,
      time: at,
      updatedTime: at,
      note: input.note ?? null,
      lines,
      payments: (input.payments ?? []).map((p) => ({
        id: ++this.nextPaymentId,
        method: p.method,
        price: p.price,
        type: p.type ?? 'sell',
        time: at,
      })),
      commits: 0,
      patches: 0,
    };
    if (input.totalOverride !== undefined) state.totalOverride = input.totalOverride;
    this.sells.set(id, state);
    return id;
  }

  /** A line added to a sell, as a cashier would (updatedTime moves). */
  addLine(sellId: number, line: MockLineInput): void {
    const sell = this.sell(sellId);
    sell.lines.push({
      ...line,
      id: ++this.nextLineId,
      variationValue: line.variation ?? ++this.nextVariationId,
    });
    this.touch(sell);
  }

  sell(id: number | string): MockSellState {
    const sell = this.sells.get(Number(id));
    if (!sell) throw new Error(`mock: no sell ${id}`);
    return sell;
  }

  /** Σ live line totals, whole so'm. */
  totalOf(sell: MockSellState): number {
    return (
      sell.totalOverride ?? sell.lines.filter((l) => !l.deleted).reduce((sum, l) => sum + lineTotal(l), 0)
    );
  }

  touch(sell: MockSellState): void {
    sell.updatedTime = this.oxTime();
  }

  // --- JSON shapes ----------------------------------------------------------------------------------------

  cashdeskJson(): Record<string, unknown> {
    return {
      id: this.cashdeskId,
      name: 'Тестовая касса',
      zone: 13,
      sellKey: 'KF',
      fingerprint: '3d00cf5a1a133db0fb8d84a911b80956',
      appId: null,
      active: true,
      type: 1,
      locations: [],
      paymentMethods: this.paymentMethods.map((m) => ({
        id: m.id,
        name: m.name,
        icon: m.cash ? '/domains/payment/images/icons/CASH.png' : null,
        description: null,
        active: m.active ?? true,
        config: [],
        gatewayConfig: { id: null, key: null, testKey: null, testMode: false, apiVersion: null },
        cash: m.cash,
        wallet: m.wallet ?? false,
        weight: 0,
        zone: 13,
        company: 23,
        highlights: null,
      })),
      lastPrintId: null,
      postponeExpireDay: 7,
      onlineKKM: true,
      tinNumber: '305123456',
      vatNumber: '326010012345',
      device: [],
      config: { print: null },
    };
  }

  sellJson(sell: MockSellState): Record<string, unknown> {
    const total = this.totalOf(sell);
    const subtotal = sell.lines.filter((l) => !l.deleted).reduce((sum, l) => sum + l.unitPrice * l.count, 0);
    return {
      isPostpone: sell.isPostpone,
      sellRecords: sell.lines.map((line) => {
        const lineTotalValue = lineTotal(line);
        return {
          expirationDate: null,
          variationName: line.name,
          id: line.id,
          count: line.count,
          movedCount: 0,
          price: price(line.unitPrice),
          sell: sell.id,
          variation: line.variationValue,
          stock: 'fa9def8d-7fcf-43b7-bf3a-d1ea52f5fe73',
          subtotal: price(line.unitPrice * line.count),
          discount: price(line.discount ?? 0),
          total: price(lineTotalValue),
          finalPrice: price(line.count > 0 ? Math.round(lineTotalValue / line.count) : 0),
          debit: price(0),
          offerBindings: [],
          refundRecords: [],
          brand: 49,
          zone: 13,
          location: 97,
          path: `${line.id},`,
          level: 1,
          parent: null,
          children: [],
          cookies: [],
          deleted: line.deleted ?? false,
          finishedTime: sell.finishedTime,
          cashback: null,
          time: sell.time,
        };
      }),
      possiblePickupTime: null,
      shippingService: null,
      cashdesk: this.cashdeskJson(),
      type: 'pos',
      sellSeats: [],
      // The doc's finished sell still says "cart".
      status: 'cart',
      id: sell.id,
      note: sell.note,
      count: sell.lines.reduce((sum, l) => sum + l.count, 0),
      time: sell.time,
      zone: 13,
      shift: {
        id: 30196,
        cashdesk: sell.cashdesk,
        openTime: '2025-06-01 08:00:00',
        closeTime: null,
        user: 117937,
      },
      user: 117937,
      draft: sell.draft,
      takeAway: false,
      wasDebit: false,
      updatedTime: sell.updatedTime,
      finishedTime: sell.finishedTime,
      customer: null,
      mode: 'location',
      cardActivated: false,
      refundRecords: [],
      returnRecords: [],
      subtotal: price(subtotal),
      total: price(total),
      sellSubtotal: price(subtotal),
      sellTotal: price(total),
      discount: price(subtotal - total),
      payments: sell.payments.map((p) => ({
        id: p.id,
        status: 'finished',
        paymentMethod: p.method,
        price: price(p.price),
        type: p.type,
        time: p.time,
        paymentDetails: [],
        totalLeftToPay: null,
        subtotalLeftToPay: null,
      })),
      assistants: [],
      printKey: null,
      syncTime: sell.updatedTime,
      isDebt: sell.isDebt,
      nextStatus: null,
    };
  }

  // --- HTTP -----------------------------------------------------------------------------------------------

  private takeFault(endpoint: MockOxEndpoint | 'unknown'): MockOxFault | undefined {
    const index = this.faults.findIndex((f) => f.endpoint === undefined || f.endpoint === endpoint);
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    const times = (fault.times ?? 1) - 1;
    if (times <= 0) this.faults.splice(index, 1);
    else this.faults[index] = { ...fault, times } as MockOxFault;
    return fault;
  }

  private route(path: string): { endpoint: MockOxEndpoint | 'unknown'; params: Record<string, string> } {
    for (const matcher of this.matchers) {
      const match = matcher.pattern.exec(path);
      if (match) {
        const params: Record<string, string> = {};
        matcher.names.forEach((name, i) => {
          params[name] = decodeURIComponent(match[i + 1]!);
        });
        return { endpoint: matcher.endpoint, params };
      }
    }
    return { endpoint: 'unknown', params: {} };
  }

  private authOf(req: http.IncomingMessage): MockOxCall['auth'] {
    const header = req.headers.authorization;
    if (!header) return 'none';
    const token = /^Bearer (\S+)$/.exec(header)?.[1];
    const known = token ? this.tokens.get(token) : undefined;
    if (!known) return 'invalid';
    return known.revoked || this.now() >= known.expiresAtMs ? 'expired' : 'ok';
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://mock');
    const { endpoint, params } = this.route(url.pathname);
    const text = await readBody(req);
    let body: unknown = text;
    if (req.headers['content-type']?.includes('application/json')) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const call: MockOxCall = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      endpoint,
      auth: endpoint === 'login' ? 'n/a' : this.authOf(req),
      contentType: req.headers['content-type'],
      body: endpoint === 'login' ? '(form)' : body,
      outcome: 200,
    };
    this.calls.push(call);

    const send = (status: number, json: unknown) => {
      call.outcome = status;
      const payload = JSON.stringify(json);
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(payload),
      });
      res.end(payload);
    };

    const fault = this.takeFault(endpoint);
    if (fault?.kind === 'hang') {
      call.outcome = 'hang';
      return;
    }
    if (fault?.kind === 'http500') return send(500, { code: 500, message: 'Internal Server Error' });
    if (fault?.kind === 'html') {
      call.outcome = fault.status ?? 200;
      res.writeHead(call.outcome, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(HTML_PAGE);
      return;
    }
    if (fault?.kind === 'hugeBody')
      return this.sendHuge(res, call, fault.bytes ?? 10_000_000, fault.declareLength ?? false);
    if (fault?.kind === 'unauthorized') return send(401, { code: 401, message: 'Expired JWT Token' });

    if (endpoint === 'unknown') return send(404, { code: 404, message: 'No route found' });
    if (endpoint === 'login') {
      if (!call.contentType?.startsWith('application/x-www-form-urlencoded')) {
        return send(400, { code: 400, message: 'Expected a form' });
      }
      return this.login(text, send);
    }
    if (call.auth === 'none' || call.auth === 'invalid')
      return send(401, { code: 401, message: 'JWT Token not found' });
    if (call.auth === 'expired') return send(401, { code: 401, message: 'Expired JWT Token' });

    const answer = this.answer(endpoint, req.method ?? 'GET', params, url.searchParams, body);
    if (fault?.kind === 'dropAfterApply') {
      call.outcome = 'dropped';
      req.socket.destroy();
      return;
    }
    let json = answer.json;
    if (fault?.kind === 'omitField') json = withoutPath(json, fault.path.split('.'));
    send(answer.status, json);
  }

  private login(form: string, send: (status: number, json: unknown) => void): void {
    const fields = new URLSearchParams(form);
    if (
      fields.get('_username') !== this.username ||
      fields.get('_password') !== this.password ||
      fields.get('_subdomain') !== this.subdomain
    ) {
      send(401, { code: 401, message: 'Invalid credentials.' });
      return;
    }
    this.logins++;
    const iat = Math.floor(this.now() / 1000);
    const validity = [this.lifetimeSeconds, this.jwtValiditySeconds].filter((v): v is number => v !== null);
    const expiresAtMs = (iat + Math.min(...validity, 10 * 365 * 86_400)) * 1000;
    const token =
      this.jwtValiditySeconds === null
        ? randomBytes(24).toString('hex')
        : [
            b64({ typ: 'JWT', alg: 'RS256' }),
            b64({ iat, exp: iat + this.jwtValiditySeconds, roles: [], id: 117152 }),
            randomBytes(32).toString('base64url'),
          ].join('.');
    this.tokens.set(token, { expiresAtMs, revoked: false });
    send(200, this.lifetimeSeconds === null ? { token } : { token, lifetime: this.lifetimeSeconds });
  }

  private answer(
    endpoint: MockOxEndpoint,
    method: string,
    params: Record<string, string>,
    query: URLSearchParams,
    body: unknown,
  ): { status: number; json: unknown } {
    const notFound = { status: 404, json: { code: 404, message: 'Not Found' } };
    const bad = (message: string) => ({ status: 400, json: { code: 400, message } });
    switch (endpoint) {
      case 'cashdesk':
        return Number(params['cashdesk']) === this.cashdeskId
          ? { status: 200, json: this.cashdeskJson() }
          : notFound;
      case 'sellList': {
        const cashdesks = query.getAll(OX_DEFAULT_LIST_QUERY.cashdesk).map(Number);
        const min = query.get(OX_DEFAULT_LIST_QUERY.updatedTimeMin);
        const max = query.get(OX_DEFAULT_LIST_QUERY.updatedTimeMax);
        const page = Number(query.get(OX_DEFAULT_LIST_QUERY.page) ?? '1');
        // Newest first, as a web front end would list them: the client must not rely on the order.
        const all = [...this.sells.values()]
          .filter((s) => cashdesks.length === 0 || cashdesks.includes(s.cashdesk))
          .filter((s) => min === null || s.updatedTime >= min)
          .filter((s) => max === null || s.updatedTime <= max)
          .sort((a, b) => b.id - a.id);
        const items = all
          .slice((page - 1) * this.pageSize, page * this.pageSize)
          .map((s) => this.sellJson(s));
        return { status: 200, json: { items, page } };
      }
      case 'sell': {
        const sell = this.sells.get(Number(params['sell']));
        return sell ? { status: 200, json: this.sellJson(sell) } : notFound;
      }
      case 'variation': {
        const variation = this.variations.get(Number(params['variation']));
        return variation ? { status: 200, json: { name: 'variation', unit: 'pcs', ...variation } } : notFound;
      }
      case 'payment': {
        const sell = this.sells.get(Number(params['sell']));
        if (!sell) return notFound;
        if (method !== 'POST') return { status: 405, json: { code: 405, message: 'Method Not Allowed' } };
        const b = body as { paymentMethod?: unknown; price?: unknown; type?: unknown };
        if (
          !Number.isInteger(b?.paymentMethod) ||
          !Number.isInteger(b?.price) ||
          (b.type !== 'sell' && b.type !== 'refund')
        ) {
          return bad('paymentMethod, price (int) and type are required');
        }
        if (!sell.draft) return bad('The sell is finished');
        if (!this.paymentMethods.some((m) => m.id === b.paymentMethod)) return bad('Unknown payment method');
        const payment = {
          id: ++this.nextPaymentId,
          method: b.paymentMethod as number,
          price: b.price as number,
          type: b.type,
          time: this.oxTime(),
        };
        sell.payments.push(payment);
        this.touch(sell);
        const paid = sell.payments.filter((p) => p.type === 'sell').reduce((sum, p) => sum + p.price, 0);
        return {
          status: 200,
          json: {
            id: payment.id,
            status: 'finished',
            paymentMethod: payment.method,
            price: price(payment.price),
            type: payment.type,
            time: payment.time,
            paymentDetails: [],
            totalLeftToPay: price(Math.max(0, this.totalOf(sell) - paid)),
            transaction: null,
            shift: 1919,
          },
        };
      }
      case 'commit': {
        const sell = this.sells.get(Number(params['sell']));
        if (!sell) return notFound;
        if ((body as { mode?: unknown })?.mode !== 'location') return bad('mode is required');
        if (!sell.draft) return bad('The sell is already finished');
        const paid = sell.payments.filter((p) => p.type === 'sell').reduce((sum, p) => sum + p.price, 0);
        if (paid < this.totalOf(sell)) return bad('The sell is not paid');
        sell.draft = false;
        sell.isPostpone = false;
        sell.finishedTime = this.oxTime();
        sell.commits++;
        this.touch(sell);
        return { status: 200, json: this.sellJson(sell) };
      }
      case 'patch': {
        const sell = this.sells.get(Number(params['sell']));
        if (!sell) return notFound;
        if (method !== 'PATCH') return { status: 405, json: { code: 405, message: 'Method Not Allowed' } };
        if (sell.draft || sell.finishedTime === null) return bad('Only finished sells can be patched');
        const note = (body as { note?: unknown })?.note;
        if (typeof note !== 'string') return bad('note must be a string');
        sell.note = note;
        sell.patches++;
        this.touch(sell);
        return { status: 200, json: this.sellJson(sell) };
      }
      case 'login':
        return notFound;
    }
  }

  private sendHuge(res: http.ServerResponse, call: MockOxCall, bytes: number, declareLength: boolean): void {
    call.outcome = 200;
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json' };
    if (declareLength) headers['Content-Length'] = bytes;
    res.writeHead(200, headers);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    res.on('error', () => undefined);
    const pump = () => {
      while (sent < bytes) {
        const size = Math.min(chunk.length, bytes - sent);
        sent += size;
        if (!res.write(chunk.subarray(0, size))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    res.socket?.on('close', () => {
      sent = bytes;
    });
    pump();
  }
}

function lineTotal(line: MockLineInput): number {
  return line.unitPrice * line.count - (line.discount ?? 0);
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

/** A deep copy of `value` without the field at `path`. */
function withoutPath(value: unknown, path: string[]): unknown {
  const copy: unknown = JSON.parse(JSON.stringify(value));
  let node: unknown = copy;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return copy;
    node = (node as Record<string, unknown>)[key];
  }
  if (node !== null && typeof node === 'object') delete (node as Record<string, unknown>)[path.at(-1)!];
  return copy;
}
