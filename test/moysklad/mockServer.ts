import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLosslessNumber, losslessToPlain, parseJsonLossless } from '../../src/lib/json.js';

/**
 * A mock of MoySklad's POS API (posap 1.0) on 127.0.0.1, real HTTP. It enforces what the documentation
 * says (docs/protocol/moysklad-posap.md): Basic auth on /admin, token headers elsewhere (12017 for a revoked
 * token), the Accept and Content-Type rules (1062, 2001), 100 requests per 5 s per user (429 with
 * X-Lognex-Retry-After and the X-RateLimit headers) and 5 parallel (1073), the documented validations (1057,
 * 12006, 12012, 18000 within 10 kopecks, 3006 on a repeated syncId …). It holds a master queue and customer
 * orders a test fills, records what it accepted in arrival order, and injects faults.
 *
 * Where the documentation is silent the mock picks one behaviour, named here so tests state it:
 * - a repeated syncId (sale, shift open, approve) and a second close of a shift answer 3006 with
 *   `parameter: "syncId"`;
 * - the master queue answers 204 when empty and hands the head operation out again until it is approved
 *   or rejected (`masterRedelivery: 'untilDone'`), or once (`'once'`);
 * - a sale linked to an order marks the order shipped (`shippedSum`).
 */

export const MOCK_BASE_PATH = '/api/posap/1.0';

export interface MockStoreInput {
  id?: string;
  name?: string;
  organizationId?: string;
  cashierUid?: string;
  authTokenAttached?: boolean;
  fiscalType?: 'STANDARD' | 'MASTER' | 'CLOUD';
  defaultTaxSystem?: string;
  /** The store's `isPhonePriority` (absent from its settings when not given). */
  isPhonePriority?: boolean;
  /** The store's `ofdEnabled` ("send the electronic receipt through the OFD"); true unless given. */
  ofdEnabled?: boolean;
}

export interface MockStore {
  id: string;
  name: string;
  organizationId: string;
  cashierUid: string;
  /** The employee id of that cashier: the store lists it, and queued operations point at it. */
  cashierEmployeeId: string;
  authTokenAttached: boolean;
  fiscalType: string;
  defaultTaxSystem: string;
  isPhonePriority?: boolean;
  ofdEnabled: boolean;
}

export interface MockOptions {
  admin?: { login: string; password: string };
  stores?: MockStoreInput[];
  /** posap: 100 per 5 s, 5 parallel per user. */
  rateLimit?: { requests?: number; windowMs?: number; maxParallel?: number };
  /** Delay before every answer (lets parallel requests overlap). */
  latencyMs?: number;
  masterRedelivery?: 'untilDone' | 'once';
}

export type FaultKind =
  | 'status500'
  | 'html502'
  | 'maintenance1074'
  | 'rateLimit'
  | 'hang'
  | 'processThenHang'
  | 'garbage'
  | 'html200'
  | 'huge'
  | 'reset'
  | 'apiError';

export interface Fault {
  kind: FaultKind;
  method?: string;
  /** Matched against the path after the base path, e.g. /^\/rpc\/openshift/. */
  path?: RegExp;
  /** How many matching requests it hits (default 1). */
  times?: number;
  /** rateLimit: the X-Lognex-Retry-After / X-Lognex-Reset values, and the code (1049 or 1073). */
  retryAfterMs?: number;
  resetMs?: number;
  code?: number;
  /** huge: body size. */
  bytes?: number;
  /** apiError: the HTTP status and `errors[0]` to answer with. */
  status?: number;
  parameter?: string;
}

export interface MockEvent {
  seq: number;
  kind: 'openshift' | 'closeshift' | 'retaildemand' | 'approve' | 'reject' | 'state' | 'attach';
  syncId?: string;
  shiftSyncId?: string;
  at: number;
}

export interface MockShift {
  syncId: string;
  storeId: string;
  name: string;
  openmoment: string;
  closemoment?: string;
  state: 'open' | 'closed';
  open: Record<string, unknown>;
  close?: Record<string, unknown>;
}

export interface MockOperation {
  syncId: string;
  type: string;
  storeId: string;
  body: Record<string, unknown>;
  status: 'PENDING' | 'IN_PROGRESS' | 'OK' | 'REJECTED';
  handedOut: number;
}

export interface MockRequest {
  seq: number;
  method: string;
  path: string;
  status: number;
  at: number;
  user: string;
}

interface Caller {
  user: string;
  store?: MockStore;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly parameter?: string,
  ) {
    super(message);
  }
}

/** 412/3000: a required field is missing or empty. */
const missingField = (field: string): HttpError =>
  new HttpError(
    412,
    3000,
    `Ошибка сохранения объекта: поле '${field}' не может быть пустым или отсутствовать`,
    field,
  );

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MOMENT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{3})?$/;
const MAX_BODY = 10 * 1024 * 1024;

type Json = Record<string, unknown>;

/** Recorded bodies: numbers as JS numbers where that is exact, else their text (losslessToPlain). */
const plain = (body: Json): Json => losslessToPlain(body) as Json;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !isLosslessNumber(value);

function numberText(value: unknown): string | undefined {
  if (isLosslessNumber(value)) return value.toString();
  return undefined;
}

/** Decimal text × 10^digits as bigint (exact; extra digits are an error). */
function scaled(text: string, digits: number): bigint | undefined {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return undefined;
  const fraction = match[3] ?? '';
  if (fraction.length > digits) return undefined;
  const value = BigInt(match[2]! + fraction.padEnd(digits, '0'));
  return match[1] ? -value : value;
}

function roundHalfUp(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  const rounded = (magnitude * 2n + denominator) / (denominator * 2n);
  return negative ? -rounded : rounded;
}

export class MockMoysklad {
  readonly admin: { login: string; password: string };
  readonly stores: MockStore[];
  readonly tokens = new Map<string, { storeId: string; uid: string; revoked: boolean }>();
  readonly shifts = new Map<string, MockShift>();
  readonly demands: Array<{ seq: number; syncId: string; body: Json }> = [];
  readonly approvals: Array<{ seq: number; syncId: string; body: Json }> = [];
  readonly rejections: Array<{ seq: number; syncId: string; body: Json }> = [];
  readonly states: Array<{ seq: number; body: Json }> = [];
  readonly events: MockEvent[] = [];
  /** Requests refused because their syncId was already known. */
  readonly duplicates: Array<{ kind: string; syncId: string }> = [];
  readonly orders: Json[] = [];
  /** `GET /entity/counterparty` rows (B.5.11); `search` matches name, email, phone, discountCardNumber. */
  readonly counterparties: Json[] = [];
  /** The `search` of every counterparty request, in order. */
  readonly counterpartySearches: string[] = [];
  readonly operations: MockOperation[] = [];
  readonly requests: MockRequest[] = [];
  readonly counters = {
    requests: 0,
    count429: 0,
    maxInFlight: 0,
    maxInWindow: 0,
    byRoute: {} as Record<string, number>,
  };
  /** Answer nothing: every connection is destroyed on arrival. */
  down = false;
  latencyMs: number;
  private readonly faults: Array<Fault & { left: number }> = [];
  private readonly rate: { requests: number; windowMs: number; maxParallel: number };
  private readonly arrivals = new Map<string, number[]>();
  private readonly parallel = new Map<string, number>();
  private inFlight = 0;
  private seq = 0;
  private readonly hanging = new Set<ServerResponse>();
  private readonly masterRedelivery: 'untilDone' | 'once';
  private server: Server | undefined;
  url = '';

  constructor(options: MockOptions = {}) {
    this.admin = options.admin ?? { login: 'admin@shop', password: 'secret' };
    const inputs = options.stores ?? [{}];
    this.stores = inputs.map((input, index) => ({
      id: input.id ?? randomUUID(),
      name: input.name ?? (index === 0 ? 'Магазин на Ленина' : `Точка ${index + 1}`),
      organizationId: input.organizationId ?? randomUUID(),
      cashierUid: input.cashierUid ?? `kassir${index + 1}@shop`,
      cashierEmployeeId: randomUUID(),
      authTokenAttached: input.authTokenAttached ?? false,
      fiscalType: input.fiscalType ?? 'MASTER',
      defaultTaxSystem: input.defaultTaxSystem ?? 'SIMPLIFIED_TAX_SYSTEM_INCOME',
      ...(input.isPhonePriority !== undefined ? { isPhonePriority: input.isPhonePriority } : {}),
      ofdEnabled: input.ofdEnabled ?? true,
    }));
    this.rate = {
      requests: options.rateLimit?.requests ?? 100,
      windowMs: options.rateLimit?.windowMs ?? 5_000,
      maxParallel: options.rateLimit?.maxParallel ?? 5,
    };
    this.latencyMs = options.latencyMs ?? 0;
    this.masterRedelivery = options.masterRedelivery ?? 'untilDone';
  }

  async listen(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server.keepAliveTimeout = 1_000;
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    const address = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${address.port}${MOCK_BASE_PATH}`;
    return this;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get store(): MockStore {
    return this.stores[0]!;
  }

  /** Like `POST /admin/attach/{id}` without HTTP: a token for the store, older ones revoked. */
  issueToken(storeId = this.store.id): { token: string; uid: string } {
    const store = this.requireStore(storeId);
    this.revokeTokens(store.id);
    const token = randomBytes(20).toString('hex');
    this.tokens.set(token, { storeId: store.id, uid: store.cashierUid, revoked: false });
    store.authTokenAttached = true;
    return { token, uid: store.cashierUid };
  }

  revokeTokens(storeId = this.store.id): void {
    for (const entry of this.tokens.values()) if (entry.storeId === storeId) entry.revoked = true;
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Events of one kind, in arrival order. */
  eventsOf(kind: MockEvent['kind']): MockEvent[] {
    return this.events.filter((event) => event.kind === kind);
  }

  // --- filling --------------------------------------------------------------------------------------------

  /** A posted customer order as `GET /entity/customerorder` returns it; returns the raw order. */
  addOrder(input: {
    name: string;
    moment?: string;
    positions: Array<{
      name: string;
      priceKop: number;
      quantity?: string;
      vat?: number;
      vatEnabled?: boolean;
      discount?: string;
      uom?: string;
      paymentItemType?: string;
    }>;
    vatEnabled?: boolean;
    vatIncluded?: boolean;
    state?: string;
    withAgent?: boolean;
    /** The order's buyer: a counterparty added with addCounterparty (its meta and name, as posap lists it). */
    agent?: Json;
    paidNoCash?: number;
    taxSystem?: string;
  }): Json {
    const id = randomUUID();
    const order: Json = {
      meta: this.meta('customerorder', id),
      id,
      name: input.name,
      moment: input.moment ?? '2026-11-22 09:00:00',
      vatEnabled: input.vatEnabled ?? true,
      vatIncluded: input.vatIncluded ?? true,
      state: { name: input.state ?? 'Новый', color: 15106326, type: 'Regular' },
      positions: input.positions.map((position) => {
        const assortmentId = randomUUID();
        return {
          assortment: {
            meta: this.meta('product', assortmentId),
            name: position.name,
            code: assortmentId.slice(0, 5),
            uom: position.uom ?? 'шт',
            paymentItemType: position.paymentItemType ?? 'GOOD',
          },
          quantity: this.raw(position.quantity ?? '1'),
          price: this.raw(String(position.priceKop)),
          vat: this.raw(String(position.vat ?? 20)),
          vatEnabled: position.vatEnabled ?? true,
          discount: this.raw(position.discount ?? '0'),
          reserve: this.raw('0'),
        };
      }),
      paidInCash: this.raw('0'),
      paidNoCash: this.raw(String(input.paidNoCash ?? 0)),
      paidByQr: this.raw('0'),
      shippedSum: this.raw('0'),
    };
    if (input.taxSystem) order.taxSystem = input.taxSystem;
    if (input.withAgent) {
      order.agent = { meta: this.meta('counterparty', randomUUID()), name: 'ООО "Покупатель"' };
    }
    if (input.agent) order.agent = { meta: input.agent.meta, name: input.agent.name };
    this.orders.push(order);
    return order;
  }

  /** A counterparty as `GET /entity/counterparty` lists it; `fields` are merged over a minimal row. */
  addCounterparty(fields: Json): Json {
    const id = typeof fields.id === 'string' ? fields.id : randomUUID();
    const row: Json = {
      meta: this.meta('counterparty', id),
      id,
      version: 0,
      updated: '2026-11-22 09:00:00',
      name: 'Покупатель',
      externalCode: id.slice(0, 22),
      companyType: 'individual',
      tags: [],
      salesAmount: 0,
      ...fields,
    };
    this.counterparties.push(row);
    return row;
  }

  /** Any JSON as an order row (hostile-input tests). */
  addRawOrder(order: Json): void {
    this.orders.push(order);
  }

  /** A minion's operation waiting in the master queue; returns its syncId. */
  enqueueOperation(input: {
    type?: 'retaildemand' | 'retailsalesreturn' | 'prepayment';
    name: string;
    positions: Array<{
      name: string;
      priceKop: number;
      quantity?: string;
      vat?: number;
      vatEnabled?: boolean;
      /** Честный ЗНАК: the assortment's product group, its unit, and the codes scanned (`marks[].cis`). */
      trackingType?: string;
      uom?: string;
      soldByWeight?: boolean;
      marks?: string[];
    }>;
    cashSum?: number;
    noCashSum?: number;
    taxSystem?: string;
    /** The minion's `cheque`: where the electronic receipt goes (`phone`, `email`), as the seed shows it. */
    cheque?: Json;
  }): string {
    const type = input.type ?? 'retaildemand';
    const syncId = randomUUID();
    const total = input.positions.reduce(
      (sum, p) =>
        sum + Number(roundHalfUp(BigInt(p.priceKop) * (scaled(p.quantity ?? '1', 3) ?? 1000n), 1000n)),
      0,
    );
    const body: Json = {
      meta: {
        href: `${this.url}/entity/${type}/syncid/${syncId}`,
        mediaType: 'application/json',
        type,
        id: syncId,
        idType: 'sync',
      },
      name: input.name,
      moment: '2026-11-22 10:00:00',
      positions: input.positions.map((p) => ({
        assortment: {
          meta: this.meta('product', randomUUID()),
          name: p.name,
          uom: p.uom ?? 'шт',
          paymentItemType: 'GOOD',
          ...(p.trackingType ? { trackingType: p.trackingType } : {}),
          ...(p.soldByWeight !== undefined ? { soldByWeight: p.soldByWeight } : {}),
        },
        quantity: this.raw(p.quantity ?? '1'),
        price: this.raw(String(p.priceKop)),
        discount: this.raw('0'),
        vat: this.raw(String(p.vat ?? 20)),
        vatEnabled: p.vatEnabled ?? true,
        ...(p.marks ? { marks: p.marks.map((cis) => ({ cis })) } : {}),
      })),
      cashSum: this.raw(String(input.cashSum ?? 0)),
      noCashSum: this.raw(String(input.noCashSum ?? (input.cashSum === undefined ? total : 0))),
      qrSum: this.raw('0'),
      vatEnabled: true,
      vatIncluded: true,
      cashier: { meta: this.meta('employee', this.store.cashierEmployeeId) },
    };
    if (input.taxSystem) body.taxSystem = input.taxSystem;
    if (input.cheque !== undefined) body.cheque = input.cheque;
    this.operations.push({ syncId, type, storeId: this.store.id, body, status: 'PENDING', handedOut: 0 });
    return syncId;
  }

  /** Any JSON as the next queued operation (hostile-input tests). */
  enqueueRawOperation(body: Json, syncId: string = randomUUID(), type = 'retaildemand'): string {
    this.operations.push({ syncId, type, storeId: this.store.id, body, status: 'PENDING', handedOut: 0 });
    return syncId;
  }

  private raw(text: string) {
    return parseJsonLossless(text);
  }

  private meta(type: string, id: string): Json {
    return {
      href: `${this.url}/entity/${type}/${id}`,
      mediaType: 'application/json',
      type,
      id,
      idType: 'native',
    };
  }

  private requireStore(id: string): MockStore {
    const store = this.stores.find((s) => s.id === id);
    if (!store) throw new Error(`mock: no store ${id}`);
    return store;
  }

  // --- HTTP ---------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.down) {
      req.socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://mock');
    const method = req.method ?? 'GET';
    const path = url.pathname.startsWith(MOCK_BASE_PATH)
      ? url.pathname.slice(MOCK_BASE_PATH.length)
      : url.pathname;
    this.counters.requests++;
    this.inFlight++;
    this.counters.maxInFlight = Math.max(this.counters.maxInFlight, this.inFlight);
    res.on('close', () => {
      this.inFlight--;
    });
    let user = 'anonymous';
    let parallelKey: string | undefined;
    let status = 0;
    try {
      const body = await this.readBody(req);
      const caller = this.authenticate(req, path);
      user = caller.user;
      this.limitRate(user, res);
      parallelKey = user;
      this.parallel.set(user, (this.parallel.get(user) ?? 0) + 1);
      // Processing time: the request counts as parallel meanwhile.
      if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
      const fault = this.takeFault(method, path);
      if (fault && fault.kind !== 'processThenHang') {
        status = this.answerFault(fault, res);
        return;
      }
      this.checkHeaders(req, body);
      const answer = this.route(method, path, caller, body, url.searchParams);
      if (fault?.kind === 'processThenHang') {
        this.hanging.add(res);
        status = -1;
        return;
      }
      status = answer.status;
      this.send(res, answer.status, answer.body);
    } catch (error) {
      if (error instanceof HttpError) {
        status = error.status;
        if (error.status === 429) this.counters.count429++;
        this.sendError(res, error);
      } else {
        status = 500;
        this.send(res, 500, { errors: [{ error: String(error), code: 1999 }] });
      }
    } finally {
      if (parallelKey) {
        const key = parallelKey;
        res.on('close', () => this.parallel.set(key, (this.parallel.get(key) ?? 1) - 1));
      }
      this.requests.push({ seq: ++this.seq, method, path, status, at: Date.now(), user });
      const route = `${method} ${path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/gi, '{id}')}`;
      this.counters.byRoute[route] = (this.counters.byRoute[route] ?? 0) + 1;
    }
  }

  private readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY) chunks.push(chunk);
      });
      req.on('end', () => {
        if (size > MAX_BODY) reject(new HttpError(413, 1044, 'Превышен максимальный размер запроса'));
        else resolve(Buffer.concat(chunks));
      });
      req.on('error', reject);
    });
  }

  private authenticate(req: IncomingMessage, path: string): Caller {
    const authorization = req.headers.authorization;
    if (path.startsWith('/admin/')) {
      const expected = `Basic ${Buffer.from(`${this.admin.login}:${this.admin.password}`).toString('base64')}`;
      if (authorization !== expected) {
        throw new HttpError(401, 1056, 'Ошибка аутентификации: Неправильный пароль или имя пользователя');
      }
      return { user: this.admin.login };
    }
    const token = req.headers['lognex-pos-auth-token'];
    const uid = req.headers['lognex-pos-auth-cashier-uid'];
    if (typeof token !== 'string' || typeof uid !== 'string' || authorization !== undefined) {
      throw new HttpError(
        401,
        1056,
        'Ошибка аутентификации: нужны заголовки Lognex-Pos-Auth-Token и Lognex-Pos-Auth-Cashier-Uid без Authorization',
      );
    }
    const entry = this.tokens.get(token);
    if (!entry || entry.revoked || entry.uid !== uid) {
      throw new HttpError(401, 12017, 'Неправильный или просроченный ключ доступа');
    }
    return { user: uid, store: this.requireStore(entry.storeId) };
  }

  private limitRate(user: string, res: ServerResponse): void {
    const now = Date.now();
    const list = this.arrivals.get(user) ?? [];
    while (list.length > 0 && list[0]! <= now - this.rate.windowMs) list.shift();
    this.arrivals.set(user, list);
    const resetMs = list.length > 0 ? Math.max(1, list[0]! + this.rate.windowMs - now) : 0;
    res.setHeader('X-RateLimit-Limit', String(this.rate.requests));
    res.setHeader('X-Lognex-Retry-TimeInterval', String(this.rate.windowMs));
    if (list.length >= this.rate.requests) {
      res.setHeader('X-RateLimit-Remaining', '0');
      res.setHeader('X-Lognex-Reset', String(resetMs));
      res.setHeader('X-Lognex-Retry-After', String(resetMs));
      throw new HttpError(429, 1049, 'Превышено ограничение на количество запросов в единицу времени');
    }
    if ((this.parallel.get(user) ?? 0) >= this.rate.maxParallel) {
      res.setHeader('X-Lognex-Retry-After', '100');
      throw new HttpError(429, 1073, 'Превышено ограничение на одновременное количество запросов');
    }
    list.push(now);
    this.counters.maxInWindow = Math.max(this.counters.maxInWindow, list.length);
    const remaining = this.rate.requests - list.length;
    res.setHeader('X-RateLimit-Remaining', String(remaining));
    res.setHeader(
      'X-Lognex-Reset',
      String(remaining === 0 ? Math.max(1, list[0]! + this.rate.windowMs - now) : 0),
    );
  }

  private takeFault(method: string, path: string): (Fault & { left: number }) | undefined {
    const index = this.faults.findIndex(
      (fault) =>
        (fault.method === undefined || fault.method === method) &&
        (fault.path === undefined || fault.path.test(path)),
    );
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    if (--fault.left <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private answerFault(fault: Fault, res: ServerResponse): number {
    switch (fault.kind) {
      case 'status500':
        this.send(res, 500, { errors: [{ error: 'Неизвестная ошибка', code: 1999 }] });
        return 500;
      case 'html502':
        res.writeHead(502, { 'Content-Type': 'text/html' });
        res.end(
          '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>',
        );
        return 502;
      case 'maintenance1074':
        this.send(res, 503, {
          errors: [{ error: 'Сервис временно недоступен, ведутся технические работы', code: 1074 }],
        });
        return 503;
      case 'rateLimit': {
        this.counters.count429++;
        if (fault.retryAfterMs !== undefined)
          res.setHeader('X-Lognex-Retry-After', String(fault.retryAfterMs));
        else res.removeHeader('X-Lognex-Retry-After');
        if (fault.resetMs !== undefined) res.setHeader('X-Lognex-Reset', String(fault.resetMs));
        else res.removeHeader('X-Lognex-Reset');
        res.removeHeader('X-RateLimit-Remaining');
        const code = fault.code ?? 1049;
        this.send(res, 429, { errors: [{ error: 'Превышено ограничение', code }] });
        return 429;
      }
      case 'hang':
        this.hanging.add(res);
        return -1;
      case 'garbage':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"rows": [ {"meta": {"href": "x"}, "id": 12, ');
        return 200;
      case 'html200':
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<!DOCTYPE html><html><body>Технические работы</body></html>');
        return 200;
      case 'huge': {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const size = fault.bytes ?? 8 * 1024 * 1024;
        res.write('{"rows":[');
        const chunk = ' '.repeat(64 * 1024);
        for (let written = 0; written < size; written += chunk.length) res.write(chunk);
        res.end(']}');
        return 200;
      }
      case 'reset':
        res.socket?.destroy();
        return -2;
      case 'apiError': {
        const status = fault.status ?? 400;
        const item: Json = { error: 'injected', code: fault.code ?? status };
        if (fault.parameter) item.parameter = fault.parameter;
        this.send(res, status, { errors: [item] });
        return status;
      }
      case 'processThenHang':
        return -1;
    }
  }

  private checkHeaders(req: IncomingMessage, body: Buffer): void {
    const accept = req.headers.accept;
    if (
      accept !== undefined &&
      accept.replace(/\s+/g, '').toLowerCase() !== 'application/json;charset=utf-8'
    ) {
      throw new HttpError(
        400,
        1062,
        "Неверное значение заголовка 'Accept'. Поддерживается только значение 'application/json;charset=utf-8'",
      );
    }
    if (body.length > 0) {
      const type = (req.headers['content-type'] ?? '').toLowerCase();
      if (!type.startsWith('application/json')) {
        throw new HttpError(400, 2001, 'Ошибка формата: входящий запрос не соответствует формату JSON');
      }
    }
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    if (body === undefined) {
      res.writeHead(status);
      res.end();
      return;
    }
    // LosslessNumbers written back as their exact text.
    const exact = typeof body === 'string' ? body : this.stringifyExact(body);
    res.writeHead(status, {
      'Content-Type': 'application/json;charset=utf-8',
      'Content-Length': Buffer.byteLength(exact),
    });
    res.end(exact);
  }

  private stringifyExact(value: unknown): string {
    if (isLosslessNumber(value)) return value.toString();
    if (Array.isArray(value)) return `[${value.map((item) => this.stringifyExact(item)).join(',')}]`;
    if (isObject(value)) {
      return `{${Object.entries(value)
        .filter(([, item]) => item !== undefined)
        .map(([key, item]) => `${JSON.stringify(key)}:${this.stringifyExact(item)}`)
        .join(',')}}`;
    }
    return JSON.stringify(value);
  }

  private sendError(res: ServerResponse, error: HttpError): void {
    const item: Json = {
      error: error.message,
      code: error.code,
      moreInfo: `https://dev.moysklad.ru/doc/api/posap/1.0/#error_${error.code}`,
    };
    if (error.parameter) item.parameter = error.parameter;
    this.send(res, error.status, { errors: [item] });
  }

  // --- routes -----------------------------------------------------------------------------------------

  private route(
    method: string,
    path: string,
    caller: Caller,
    raw: Buffer,
    query: URLSearchParams,
  ): { status: number; body?: unknown } {
    const json = (): Json => this.parseJson(raw);
    const param = (pattern: RegExp) => pattern.exec(path)?.[1];
    if (method === 'GET' && path === '/admin/retailstore') {
      return {
        status: 200,
        body: {
          meta: {
            href: `${this.url}/admin/retailstore`,
            mediaType: 'application/json',
            size: this.stores.length,
            limit: 1000,
            offsetId: '00000000-0000-0000-0000-000000000000',
            direction: 'forward',
          },
          rows: this.stores.map((store) => this.storeJson(store)),
        },
      };
    }
    const attachId = method === 'POST' ? param(/^\/admin\/attach\/([^/]+)$/) : undefined;
    if (attachId !== undefined) {
      const store = this.stores.find((s) => s.id === attachId);
      if (!store) throw new HttpError(404, 12015, 'Ошибка получения токена: не найдена точка продаж');
      const issued = this.issueToken(store.id);
      this.event('attach');
      return { status: 201, body: issued };
    }
    const store = caller.store;
    if (!store) throw new HttpError(401, 1056, 'Ошибка аутентификации');
    if (method === 'GET' && /^\/settings\/retailstore\/?$/.test(path))
      return { status: 200, body: this.storeJson(store) };
    if (method === 'GET' && path === '/settings/companysettings') {
      return {
        status: 200,
        body: {
          currency: { name: 'руб', code: '643' },
          discountStrategy: 'bySum',
          operationNumbering: 'GLOBAL',
        },
      };
    }
    if (method === 'PUT' && /^\/rpc\/openshift\/?$/.test(path)) return this.openShift(store, json());
    if (method === 'PUT' && /^\/rpc\/closeshift\/?$/.test(path)) return this.closeShift(store, json());
    if (method === 'POST' && path === '/entity/retaildemand') return this.retailDemand(store, json());
    if (method === 'GET' && path === '/entity/customerorder') {
      return {
        status: 200,
        body: {
          meta: {
            href: `${this.url}/entity/customerorder`,
            mediaType: 'application/json',
            size: this.orders.length,
            limit: 100,
            offset: 0,
          },
          rows: this.orders,
        },
      };
    }
    if (method === 'GET' && path === '/entity/counterparty') {
      const search = (query.get('search') ?? '').toLowerCase();
      this.counterpartySearches.push(query.get('search') ?? '');
      const rows = this.counterparties.filter((row) =>
        ['name', 'email', 'phone', 'discountCardNumber'].some(
          (key) => typeof row[key] === 'string' && (row[key] as string).toLowerCase().includes(search),
        ),
      );
      return {
        status: 200,
        body: {
          meta: {
            href: `${this.url}/entity/counterparty`,
            mediaType: 'application/json',
            size: rows.length,
            limit: 1000,
            offsetId: '00000000-0000-0000-0000-000000000000',
            direction: 'forward',
          },
          rows,
        },
      };
    }
    const orderId = method === 'GET' ? param(/^\/entity\/customerorder\/([^/]+)$/) : undefined;
    if (orderId !== undefined) {
      const order = this.orders.find((o) => o.id === orderId);
      if (!order)
        throw new HttpError(
          404,
          1021,
          `Объект с типом 'customerorder' и идентификатором '${orderId}' не найден`,
        );
      return { status: 200, body: order };
    }
    const organizationId = method === 'GET' ? param(/^\/cheque\/rpc\/master\/poll\/([^/]+)$/) : undefined;
    if (organizationId !== undefined) {
      if (organizationId !== store.organizationId)
        throw new HttpError(
          404,
          1021,
          `Объект с типом 'organization' и идентификатором '${organizationId}' не найден`,
        );
      return this.poll(store);
    }
    if (method === 'PUT' && path === '/cheque/rpc/master/approve') return this.approve(store, json());
    if (method === 'PUT' && path === '/cheque/rpc/master/reject') return this.reject(store, json());
    if (method === 'POST' && path === '/state') {
      const body = json();
      if (!isObject(body.environment) && !isObject(body.state)) throw missingField('state');
      this.states.push({ seq: this.event('state').seq, body: plain(body) });
      return { status: 204 };
    }
    throw new HttpError(404, 1002, `Неопознанный путь: ${path}`);
  }

  private parseJson(raw: Buffer): Json {
    let value: unknown;
    try {
      value = parseJsonLossless(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 2001, 'Ошибка формата: входящий запрос не соответствует формату JSON');
    }
    if (!isObject(value))
      throw new HttpError(400, 2001, 'Ошибка формата: входящий JSON должен начинаться с объекта');
    return value;
  }

  private event(kind: MockEvent['kind'], syncId?: string, shiftSyncId?: string): MockEvent {
    const event: MockEvent = { seq: this.events.length + 1, kind, at: Date.now() };
    if (syncId) event.syncId = syncId;
    if (shiftSyncId) event.shiftSyncId = shiftSyncId;
    this.events.push(event);
    return event;
  }

  private storeJson(store: MockStore): Json {
    return {
      meta: this.meta('retailstore', store.id),
      id: store.id,
      name: store.name,
      authTokenAttached: store.authTokenAttached,
      fiscalType: store.fiscalType,
      defaultTaxSystem: store.defaultTaxSystem,
      orderTaxSystem: store.defaultTaxSystem,
      ofdEnabled: store.ofdEnabled,
      ...(store.isPhonePriority !== undefined ? { isPhonePriority: store.isPhonePriority } : {}),
      cashiers: {
        rows: [
          {
            meta: this.meta('employee', store.cashierEmployeeId),
            uid: store.cashierUid,
            firstName: 'Иван',
            lastName: 'Иванов',
            inn: '222490425273',
          },
        ],
      },
      organization: {
        meta: this.meta('organization', store.organizationId),
        id: store.organizationId,
        name: 'ИП Иванов',
        inn: '7714045520',
      },
    };
  }

  /** 3006 for a syncId used before; the repeat is remembered in `duplicates`. */
  private duplicate(kind: string, syncId: string): HttpError {
    this.duplicates.push({ kind, syncId });
    return new HttpError(
      400,
      3006,
      "Ошибка сохранения объекта: нарушено ограничение уникальности параметра 'syncId'",
      'syncId',
    );
  }

  /** The syncId in `{url}/entity/{type}/syncid/{uuid}`; 1057 without one, 1052 when it is not a UUID. */
  private syncIdIn(value: unknown, type: string, missing: HttpError): string {
    const meta = isObject(value) ? value.meta : undefined;
    const href = isObject(meta) ? meta.href : undefined;
    if (typeof href !== 'string') throw missing;
    const found = new RegExp(`/entity/${type}/syncid/([^/?#]+)$`).exec(href);
    if (!found) {
      if (!href.includes('/syncid/'))
        throw new HttpError(400, 1057, 'Отсутствует syncid для сущности', 'meta');
      throw new HttpError(
        400,
        3000,
        `Ошибка формата: неправильное значение href для meta поля '${type}'`,
        'meta',
      );
    }
    if (!UUID.test(found[1]!)) throw new HttpError(400, 1052, 'Неверный формат UUID', 'meta');
    return found[1]!.toLowerCase();
  }

  private moment(value: unknown, field: string, missing: HttpError): string {
    if (value === undefined || value === null) throw missing;
    if (typeof value !== 'string' || !MOMENT.test(value)) {
      throw new HttpError(
        400,
        2025,
        `Ошибка формата: значение поля '${field}' не соответствует формату даты 'yyyy-MM-dd HH:mm:ss'`,
        field,
      );
    }
    return value;
  }

  private stringFields(object: unknown, fields: string[], prefix: string): void {
    if (object === undefined) return;
    if (!isObject(object))
      throw new HttpError(
        400,
        2016,
        `Ошибка формата: значение поля '${prefix}' не соответствует типу Object`,
        prefix,
      );
    for (const field of fields) {
      const value = object[field];
      if (value !== undefined && typeof value !== 'string') {
        throw new HttpError(
          400,
          2016,
          `Ошибка формата: значение поля '${prefix}.${field}' не соответствует типу String`,
          `${prefix}.${field}`,
        );
      }
    }
  }

  private integer(value: unknown, field: string, options: { min?: bigint } = {}): bigint | undefined {
    if (value === undefined) return undefined;
    const text = numberText(value);
    if (text === undefined || !/^-?\d+$/.test(text)) {
      throw new HttpError(
        400,
        2016,
        `Ошибка формата: значение поля '${field}' не соответствует типу Long`,
        field,
      );
    }
    const number = BigInt(text);
    if (number > 9_999_999_999n)
      throw new HttpError(
        400,
        3008,
        `Ошибка сохранения объекта: значение поля '${field}' превышает максимально допустимое`,
        field,
      );
    if (options.min !== undefined && number < options.min) {
      throw new HttpError(
        400,
        3000,
        `Ошибка сохранения объекта: поле '${field}' не может иметь отрицательное значение`,
        field,
      );
    }
    return number;
  }

  private openShift(store: MockStore, body: Json): { status: number } {
    const syncId = this.syncIdIn(
      body.retailShift,
      'retailshift',
      new HttpError(
        412,
        12006,
        "Ошибка открытия розничной смены: параметр 'retailShift' отсутствует или имеет неверный формат",
        'retailShift',
      ),
    );
    if (typeof body.name !== 'string' || body.name === '')
      throw new HttpError(412, 12008, "Ошибка открытия розничной смены: параметр 'name' отсутствует", 'name');
    const openmoment = this.moment(
      body.openmoment,
      'openmoment',
      new HttpError(
        412,
        12009,
        "Ошибка открытия розничной смены: параметр 'openmoment' отсутствует",
        'openmoment',
      ),
    );
    const cheque = isObject(body.cheque) ? body.cheque : undefined;
    this.stringFields(
      cheque?.start,
      ['fnNumber', 'kktRegNumber', 'fiscalDocSign', 'shiftNumber', 'fiscalDocNumber', 'time'],
      'cheque.start',
    );
    if (this.shifts.has(syncId)) {
      throw this.duplicate('openshift', syncId);
    }
    this.shifts.set(syncId, {
      syncId,
      storeId: store.id,
      name: body.name,
      openmoment,
      state: 'open',
      open: plain(body),
    });
    this.event('openshift', syncId, syncId);
    return { status: 204 };
  }

  private closeShift(store: MockStore, body: Json): { status: number } {
    const syncId = this.syncIdIn(
      body.retailShift,
      'retailshift',
      new HttpError(
        412,
        12007,
        "Ошибка закрытия розничной смены: параметр 'retailShift' отсутствует или имеет неверный формат",
        'retailShift',
      ),
    );
    const shift = this.shifts.get(syncId);
    if (!shift) throw new HttpError(412, 12012, 'Розничная смена не существует', 'retailShift');
    if (shift.storeId !== store.id)
      throw new HttpError(
        412,
        12021,
        'Ошибка закрытия розничной смены: нельзя закрыть смену другой точки продаж',
      );
    const closemoment = this.moment(
      body.closemoment,
      'closemoment',
      new HttpError(
        412,
        12010,
        "Ошибка закрытия розничной смены: параметр 'closemoment' отсутствует",
        'closemoment',
      ),
    );
    const cheque = isObject(body.cheque) ? body.cheque : undefined;
    const end = cheque?.end;
    this.stringFields(
      cheque?.start,
      ['fnNumber', 'kktRegNumber', 'fiscalDocSign', 'shiftNumber', 'fiscalDocNumber', 'time'],
      'cheque.start',
    );
    this.stringFields(
      end,
      ['fnNumber', 'kktRegNumber', 'fiscalDocSign', 'shiftNumber', 'fiscalDocNumber', 'time'],
      'cheque.end',
    );
    if (isObject(end)) {
      this.integer(end.chequesTotal, 'cheque.end.chequesTotal', { min: 0n });
      this.integer(end.fiscalDocsTotal, 'cheque.end.fiscalDocsTotal', { min: 0n });
    }
    if (shift.state === 'closed') {
      throw this.duplicate('closeshift', syncId);
    }
    shift.state = 'closed';
    shift.closemoment = closemoment;
    shift.close = plain(body);
    this.event('closeshift', syncId, syncId);
    return { status: 204 };
  }

  private shiftOf(store: MockStore, value: unknown): MockShift {
    const syncId = this.syncIdIn(
      value,
      'retailshift',
      new HttpError(
        412,
        12006,
        "Параметр 'retailShift' отсутствует или имеет неверный формат",
        'retailShift',
      ),
    );
    const shift = this.shifts.get(syncId);
    if (!shift || shift.storeId !== store.id)
      throw new HttpError(412, 12012, 'Розничная смена не существует', 'retailShift');
    return shift;
  }

  private retailDemand(store: MockStore, body: Json): { status: number } {
    const syncId = this.syncIdIn(body, 'retaildemand', missingField('meta'));
    const shift = this.shiftOf(store, body.retailShift);
    if (typeof body.name !== 'string' || body.name === '') throw missingField('name');
    this.moment(body.moment, 'moment', missingField('moment'));
    if (!Array.isArray(body.positions) || body.positions.length === 0) {
      throw missingField('positions');
    }
    let sum = 0n;
    body.positions.forEach((position: unknown, index: number) => {
      const field = `positions[${index}]`;
      if (
        !isObject(position) ||
        !isObject(position.assortment) ||
        !isObject(position.assortment.meta) ||
        typeof position.assortment.meta.href !== 'string'
      ) {
        throw missingField(`${field}.assortment`);
      }
      const quantityText = numberText(position.quantity);
      const quantity = quantityText === undefined ? undefined : scaled(quantityText, 3);
      if (quantity === undefined || quantity <= 0n)
        throw new HttpError(
          400,
          3000,
          `Ошибка сохранения объекта: поле '${field}.quantity' должно быть больше нуля`,
          `${field}.quantity`,
        );
      const price = this.integer(position.price, `${field}.price`, { min: 0n });
      if (price === undefined) throw missingField(`${field}.price`);
      const discountText = position.discount === undefined ? '0' : numberText(position.discount);
      const discount = discountText === undefined ? undefined : scaled(discountText, 2);
      if (discount === undefined)
        throw new HttpError(
          400,
          2016,
          `Ошибка формата: значение поля '${field}.discount' не соответствует типу Double`,
          `${field}.discount`,
        );
      if (discount > 10_000n)
        throw new HttpError(
          400,
          17008,
          'Ошибка сохранения позиции документа: скидка не может быть больше 100',
          `${field}.discount`,
        );
      const vat = this.integer(position.vat, `${field}.vat`, { min: 0n });
      if (vat !== undefined && vat > 100n)
        throw new HttpError(
          400,
          17007,
          'Ошибка сохранения позиции документа: НДС не может быть больше 100',
          `${field}.vat`,
        );
      if (position.vatEnabled === true && vat === undefined)
        throw new HttpError(
          400,
          17021,
          'Ошибка сохранения позиции документа: если указано, что позиция облагается налогом, то необходимо указать ставку',
          `${field}.vat`,
        );
      sum += roundHalfUp(price * quantity * (10_000n - discount), 1_000n * 10_000n);
    });
    const paidFields = [
      'cashSum',
      'noCashSum',
      'qrSum',
      'prepaymentCash',
      'prepaymentNoCash',
      'prepaymentQrSum',
    ];
    let paid = 0n;
    let anyPaid = false;
    for (const field of paidFields) {
      const value = this.integer(body[field], field, { min: 0n });
      if (value !== undefined) {
        paid += value;
        anyPaid = true;
      }
    }
    if (anyPaid && (paid - sum > 10n || sum - paid > 10n)) {
      throw new HttpError(
        400,
        18000,
        "Ошибка сохранения продажи: сумма 'cashSum', 'noCashSum', 'qrSum', 'prepaymentCashSum', 'prepaymentNoCashSum' и 'prepaymentQrSum' не соответствует сумме по документу",
      );
    }
    const cheque = body.cheque;
    this.stringFields(cheque, ['fnNumber', 'fiscalDocSign', 'fiscalDocNumber', 'time', 'number'], 'cheque');
    if (isObject(cheque) && cheque.sum !== undefined) this.integer(cheque.sum, 'cheque.sum', { min: 0n });
    let order: Json | undefined;
    if (body.customerOrder !== undefined) {
      const meta = isObject(body.customerOrder) ? body.customerOrder.meta : undefined;
      const href = isObject(meta) && typeof meta.href === 'string' ? meta.href : '';
      const id = href.split('/').pop() ?? '';
      order = this.orders.find((o) => o.id === id);
      if (!order)
        throw new HttpError(
          404,
          1021,
          `Объект с типом 'customerorder' и идентификатором '${id}' не найден`,
          'customerOrder',
        );
    }
    if (this.demands.some((demand) => demand.syncId === syncId)) {
      throw this.duplicate('retaildemand', syncId);
    }
    if (order) order.shippedSum = parseJsonLossless(String(sum));
    this.demands.push({
      seq: this.event('retaildemand', syncId, shift.syncId).seq,
      syncId,
      body: plain(body),
    });
    return { status: 201 };
  }

  private poll(store: MockStore): { status: number; body?: unknown } {
    const next = this.operations.find(
      (op) =>
        op.storeId === store.id &&
        (op.status === 'PENDING' || (this.masterRedelivery === 'untilDone' && op.status === 'IN_PROGRESS')),
    );
    if (!next) return { status: 204 };
    next.status = 'IN_PROGRESS';
    next.handedOut++;
    return { status: 200, body: next.body };
  }

  private operationOf(store: MockStore, body: Json): MockOperation {
    const meta = isObject(body.meta) ? body.meta : undefined;
    const href = meta && typeof meta.href === 'string' ? meta.href : undefined;
    if (!href) throw missingField('meta');
    const syncId = /\/syncid\/([^/?#]+)$/.exec(href)?.[1];
    if (!syncId) throw new HttpError(400, 1057, 'Отсутствует syncid для сущности', 'meta');
    const op = this.operations.find((o) => o.syncId === syncId && o.storeId === store.id);
    if (!op) throw new HttpError(404, 1021, `Объект с идентификатором '${syncId}' не найден`, 'meta');
    return op;
  }

  private approve(store: MockStore, body: Json): { status: number } {
    const op = this.operationOf(store, body);
    const shift = this.shiftOf(store, body.retailShift);
    this.stringFields(
      body.cheque,
      ['fnNumber', 'fiscalDocSign', 'fiscalDocNumber', 'time', 'number'],
      'cheque',
    );
    if (isObject(body.cheque) && body.cheque.sum !== undefined)
      this.integer(body.cheque.sum, 'cheque.sum', { min: 0n });
    if (isObject(body.chequePrinter) && typeof body.chequePrinter.name !== 'string') {
      throw missingField('chequePrinter.name');
    }
    if (op.status === 'OK' || op.status === 'REJECTED') {
      throw this.duplicate('approve', op.syncId);
    }
    op.status = 'OK';
    this.approvals.push({
      seq: this.event('approve', op.syncId, shift.syncId).seq,
      syncId: op.syncId,
      body: plain(body),
    });
    return { status: 204 };
  }

  private reject(store: MockStore, body: Json): { status: number } {
    const op = this.operationOf(store, body);
    if (typeof body.fiscalErrMsg !== 'string') throw missingField('fiscalErrMsg');
    if (op.status === 'OK' || op.status === 'REJECTED') {
      throw this.duplicate('reject', op.syncId);
    }
    op.status = 'REJECTED';
    this.rejections.push({ seq: this.event('reject', op.syncId).seq, syncId: op.syncId, body: plain(body) });
    return { status: 204 };
  }
}

export async function startMockMoysklad(options: MockOptions = {}): Promise<MockMoysklad> {
  return new MockMoysklad(options).listen();
}
