import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A mock of the shop's local module of Честный ЗНАК (ЛМ ЧЗ) on loopback: `GET /api/v{1,2}/status`,
 * `GET /api/v1/cis/outCheck?cis=…` and `POST /api/v2/cis/outCheck` with `cis_list`, behind HTTP Basic,
 * answering from the templates in test/fixtures/local-module (shapes from the public clients named in
 * docs/protocol/chestny-znak-local-module.md).
 *
 * A code's verdict is picked by its serial (AI 21), like the driver-10 emulator's ОИСМ:
 * `LMSOLD…` sold, `LMEXPIRED…` expired, `LMUNKNOWN…` not found, `LMBLOCKED…` blocked by an authority,
 * `LMOTHER…` another product's GTIN; anything else may be sold. Module faults are set with `fault`.
 */

const FIXTURES = new URL('../fixtures/local-module/', import.meta.url);
const template = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Record<string, unknown>;

export type LocalModuleFault =
  /** `status: initialization`: installed but not initialised with a token yet. */
  | 'notReady'
  /** `status: not_configured`, no `lastSync`: never initialised. */
  | 'notConfigured'
  /** Last sync four days ago. */
  | 'stale'
  /** Every answer after `slowMs`. */
  | 'slow'
  /** Connections are cut before any answer. */
  | 'unreachable'
  /** The check answers `code: 5` with a description. */
  | 'moduleError'
  /** The check answers `reqTimestamp` as a word. */
  | 'garbage'
  /** The status answers 200 with an HTML page (a web server other than the module). */
  | 'garbageStatus'
  /** The status answers HTTP 500. */
  | 'serverError';

export interface LocalModuleRequest {
  method: string;
  path: string;
  /** The code asked about (v1 query or v2 `cis_list[0].cis`). */
  cis?: string;
  authorized: boolean;
}

export interface MockLocalModule extends EventEmitter<{ request: [LocalModuleRequest] }> {
  url: string;
  username: string;
  password: string;
  requests: LocalModuleRequest[];
  /** Checks answered with a verdict, by reqId: what a receipt's 1265 must name. */
  checks: Array<{ reqId: string; reqTimestamp: number; cis: string }>;
  fault(name: LocalModuleFault | undefined): void;
  slowMs: number;
  close(): Promise<void>;
}

export async function startMockLocalModule(
  options: { username?: string; password?: string } = {},
): Promise<MockLocalModule> {
  const username = options.username ?? 'admin';
  const password = options.password ?? 'lm-secret';
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  let current: LocalModuleFault | undefined;
  const sockets = new Set<Socket>();

  const answer = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(text);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://lm');
      const route = /^\/api\/v([12])\/(status|cis\/outCheck)$/.exec(url.pathname);
      let cis: string | undefined;
      if (route?.[2] === 'cis/outCheck') {
        if (route[1] === '1') cis = url.searchParams.get('cis') ?? undefined;
        else {
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
              cis_list?: Array<{ cis?: string }>;
            };
            cis = body.cis_list?.[0]?.cis;
          } catch {
            cis = undefined;
          }
        }
      }
      const request: LocalModuleRequest = {
        method: req.method ?? '',
        path: url.pathname,
        ...(cis !== undefined ? { cis } : {}),
        authorized: req.headers.authorization === expected,
      };
      mock.requests.push(request);
      mock.emit('request', request);
      if (current === 'unreachable') {
        req.socket.destroy();
        return;
      }
      const respond = () => {
        // A client that went away (killed while a slow answer waited) is answered nothing: no check is
        // recorded that no receipt could ever name.
        if (req.socket.destroyed) return;
        if (!request.authorized) return answer(res, 401, { code: 401, description: 'Unauthorized' });
        if (!route) return answer(res, 404, { code: 404, description: 'Not found' });
        const version = Number(route[1]) as 1 | 2;
        if (route[2] === 'status') {
          if (current === 'serverError')
            return answer(res, 500, { code: 500, description: 'Internal error' });
          if (current === 'garbageStatus') {
            res.writeHead(200, { 'Content-Type': 'text/html' });
            return res.end('<html><body>It works!</body></html>');
          }
          return answer(res, 200, statusBody());
        }
        if (req.method !== (version === 1 ? 'GET' : 'POST') || cis === undefined) {
          return answer(res, 400, { code: 400, description: 'bad request' });
        }
        const result = checkBody(cis);
        answer(res, 200, version === 1 ? result : { results: [result] });
      };
      if (current === 'slow') setTimeout(respond, mock.slowMs);
      else respond();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const statusBody = () => {
    const body = template('status-ready.json');
    body.lastSync = current === 'stale' ? Date.now() - 96 * 3_600_000 : Date.now() - 60_000;
    if (current === 'notReady') body.status = 'initialization';
    if (current === 'notConfigured') {
      body.status = 'not_configured';
      delete body.lastSync;
    }
    return body;
  };

  const checkBody = (cis: string) => {
    if (current === 'moduleError') return { code: 5, description: 'База данных не загружена' };
    const blocked = template('check-v1-blocked.json');
    const body = template('check-v1-sellable.json');
    const reqId = randomUUID();
    const reqTimestamp = Date.now();
    const serial = /^01\d{14}21(.*)$/.exec(cis)?.[1] ?? '';
    const code: Record<string, unknown> = { ...(body.codes as object[])[0], cis, printView: cis };
    const gtin = /^01(\d{14})/.exec(cis)?.[1];
    if (gtin) code.gtin = gtin;
    if (serial.startsWith('LMSOLD')) Object.assign(code, { sold: true, realizable: false });
    if (serial.startsWith('LMEXPIRED')) code.expireDate = '2024-01-31T00:00:00.000Z';
    if (serial.startsWith('LMUNKNOWN')) Object.assign(code, { found: false, errorCode: 1 });
    if (serial.startsWith('LMBLOCKED'))
      code.isBlocked = (blocked.codes as Array<{ isBlocked: boolean }>)[0]!.isBlocked;
    if (serial.startsWith('LMOTHER')) code.gtin = '04600000000008';
    mock.checks.push({ reqId, reqTimestamp, cis });
    return {
      ...body,
      reqId,
      reqTimestamp: current === 'garbage' ? 'yesterday' : reqTimestamp,
      codes: [code],
    };
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const mock = Object.assign(new EventEmitter<{ request: [LocalModuleRequest] }>(), {
    url: `http://127.0.0.1:${port}`,
    username,
    password,
    requests: [] as LocalModuleRequest[],
    checks: [] as MockLocalModule['checks'],
    slowMs: 2000,
    fault(name: LocalModuleFault | undefined) {
      current = name;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return mock;
}
