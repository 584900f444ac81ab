import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { AUTH_TOKEN_HEADER, INTENT_OPERATION_HEADER } from '../../drivers/intent/transport.js';
import { type ParsedWireSale, wireSaleSchema } from '../../drivers/intent/wireSale.js';
import { parseJsonLossless } from '../../lib/json.js';
import {
  type EmulatedSale,
  EmulatedTerminal,
  type EmulatedTerminalState,
  type EmulatorAnswer,
  errorAnswer,
} from './emulatedTerminal.js';
import { FaultPlan, type IntentFault } from './faults.js';
import type { ComputedSale } from './saleRules.js';
import { type SsdpResponder, type SsdpResponderOptions, startSsdpResponder } from './ssdpResponder.js';
import { initialState, loadState, StateFileWriter } from './stateFile.js';

/**
 * A SmartX terminal on a real HTTP port: `POST /v1` with `INTENT_OPERATION_TYPE`, the AUTH and SALE intents,
 * the documented result codes, a card wait, and injectable faults. It ships with the product (the demo and
 * `kkt-agent emulator intent` run it) and is what the driver's end-to-end tests talk to.
 */

export interface IntentEmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port); the real terminal listens on 37015. */
  port?: number;
  /** The PIN AUTH accepts (default "1234"). */
  pin?: string;
  /** Refuse SALE without a valid token (default true). */
  requireToken?: boolean;
  /** Tokens stop working after this long (default: never, until expireTokens()). */
  tokenTtlMs?: number;
  /** How long a SALE with a cashless part waits for the "card" (default 1000 ms). */
  cardWaitMs?: number;
  /** Refuse (399) sales whose payments do not cover the total (default false, see saleRules.ts). */
  strictPayment?: boolean;
  /** Whether a shift is open at start (default true; a state file's value wins). */
  shiftOpen?: boolean;
  registerNumberSKO?: string;
  /** Faults armed from the start. */
  faults?: IntentFault[];
  /** Keep the receipt counter, shift and journal in this JSON file across restarts. */
  stateFile?: string;
  /** Answer SSDP searches; `true` means a free loopback UDP port. */
  ssdp?: boolean | SsdpResponderOptions;
  /** Host named in the SSDP LOCATION when the HTTP server listens on a wildcard address. */
  advertisedHost?: string;
  now?: () => Date;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

/** One request as the emulator saw it, for tests that count what reached the "terminal". */
export interface IntentEmulatorRequest {
  intent: string;
  operationId: string | undefined;
  /** e.g. "200", "435", "dropped", "http 500", "garbled". */
  outcome: string;
  at: string;
}

export interface IntentEmulator {
  /** HTTP root, e.g. http://127.0.0.1:40123 (what the driver's `baseUrl` takes). */
  url: string;
  /** `${url}/v1`. */
  endpoint: string;
  host: string;
  port: number;
  /** The UDP port answering SSDP, when enabled. */
  ssdpPort: number | undefined;
  /** Completed (fiscalised) sales, oldest first. */
  readonly sales: readonly EmulatedSale[];
  readonly requests: readonly IntentEmulatorRequest[];
  readonly hasUnfinishedSale: boolean;
  setFault(fault: IntentFault): void;
  clearFaults(): void;
  /** Every token issued so far stops working (the next request gets 405). */
  expireTokens(): void;
  openShift(): void;
  closeShift(): void;
  /** Puts the terminal into the state behind resultCode 410 without a request. */
  createUnfinishedSale(): void;
  /** What a person does on the terminal: completes the unfinished sale (its receipt is recorded, if any). */
  finishUnfinishedSale(): EmulatedSale | undefined;
  /** What a person does on the terminal: cancels the unfinished sale. */
  cancelUnfinishedSale(): void;
  close(): Promise<void>;
}

type Reply =
  | { kind: 'json'; answer: EmulatorAnswer; delayMs?: number }
  | { kind: 'raw'; status: number; text: string }
  | { kind: 'drop' };

const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_PIN = '1234';
const DEFAULT_CARD_WAIT_MS = 1_000;

export async function startIntentEmulator(options: IntentEmulatorOptions = {}): Promise<IntentEmulator> {
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? (() => new Date());
  const cardWaitMs = options.cardWaitMs ?? DEFAULT_CARD_WAIT_MS;
  const logger = options.logger;
  const faults = new FaultPlan(options.faults);
  const requests: IntentEmulatorRequest[] = [];
  const closing = new AbortController();

  const writer = options.stateFile === undefined ? undefined : new StateFileWriter(options.stateFile);
  const loaded = options.stateFile === undefined ? undefined : await loadState(options.stateFile);
  const state: EmulatedTerminalState = loaded ?? { ...initialState(), shiftOpen: options.shiftOpen ?? true };
  const persist = (): void => {
    writer?.save(state).catch((error: unknown) => {
      logger?.warn(
        { event: 'intent_emulator.state_write_failed', err: error },
        'could not write the state file',
      );
    });
  };
  const terminal = new EmulatedTerminal(
    {
      pin: options.pin ?? DEFAULT_PIN,
      requireToken: options.requireToken ?? true,
      tokenTtlMs: options.tokenTtlMs,
      registerNumberSKO: options.registerNumberSKO ?? '100000001',
      strictPayment: options.strictPayment ?? false,
      now,
    },
    state,
    persist,
  );

  // One operation at a time, like the device: a SALE waiting for a card holds the terminal.
  let operations: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(task: () => Promise<T>): Promise<T> => {
    const run = operations.then(task, task);
    operations = run.catch(() => undefined);
    return run;
  };

  const log = (intent: string, operationId: string | undefined, outcome: string): void => {
    requests.push({ intent, operationId, outcome, at: now().toISOString() });
    logger?.info(
      { event: 'intent_emulator.request', intent, operationId, outcome },
      'emulator handled a request',
    );
  };

  async function handleSale(bodyText: string, token: string | undefined): Promise<Reply> {
    const parsed = wireSaleSchema.safeParse(tryParseJson(bodyText));
    const operationId = parsed.success ? parsed.data.operationId : undefined;
    const logged = (reply: Reply, label = describeReply(reply)): Reply => {
      log('SALE', operationId, label);
      return reply;
    };

    if (faults.take(['dropBeforeSale'])) return logged({ kind: 'drop' });
    const earlyError = faults.take(['httpError'], (fault) => fault.recordSale === false);
    if (earlyError) {
      return logged({ kind: 'raw', status: earlyError.status ?? 500, text: 'Internal Server Error' });
    }
    if (faults.take(['rejectToken'])) return logged({ kind: 'json', answer: errorAnswer('SALE', 405) });
    const tokenRefusal = terminal.checkToken('SALE', token);
    if (tokenRefusal) return logged({ kind: 'json', answer: tokenRefusal });
    if (!parsed.success) return logged({ kind: 'json', answer: errorAnswer('SALE', 413) });
    const forced = faults.take(['resultCode']);
    if (forced) {
      return logged({ kind: 'json', answer: errorAnswer('SALE', forced.resultCode, forced.messageDetail) });
    }

    return exclusive(async (): Promise<Reply> => {
      const decision = terminal.decideSale(parsed.data);
      if (decision.kind === 'refused') return logged({ kind: 'json', answer: decision.answer });
      if (decision.computed.cashlessMinor > 0 && cardWaitMs > 0) {
        await sleep(cardWaitMs, undefined, { signal: closing.signal });
      }
      const { reply, label } = completeSale(parsed.data, decision.computed);
      return logged(reply, label);
    });
  }

  /** Fiscalises an accepted sale, unless a fault says otherwise, and says how the answer goes out. */
  function completeSale(request: ParsedWireSale, computed: ComputedSale): { reply: Reply; label?: string } {
    const printCheque = request.printCheque ?? true;
    if (faults.take(['fiscalisationFails'])) {
      terminal.leaveUnfinished({ operationId: request.operationId, computed, printCheque });
      return {
        reply: {
          kind: 'json',
          answer: errorAnswer('SALE', 399, 'Ошибка фискализации: продажа не завершена'),
        },
      };
    }
    const { answer } = terminal.recordSale(computed, request.operationId, printCheque);
    const after = faults.take(['dropAfterSale', 'slowAnswer', 'httpError', 'garbledAnswer']);
    switch (after?.kind) {
      case 'dropAfterSale':
        return { reply: { kind: 'drop' }, label: 'dropped after sale' };
      case 'slowAnswer':
        return { reply: { kind: 'json', answer, delayMs: after.delayMs }, label: '200 slow' };
      case 'httpError':
        return { reply: { kind: 'raw', status: after.status ?? 500, text: 'Internal Server Error' } };
      case 'garbledAnswer':
        return {
          reply: {
            kind: 'raw',
            status: 200,
            text: '<html><body>Service temporarily unavailable</body></html>',
          },
          label: 'garbled',
        };
      default:
        return { reply: { kind: 'json', answer } };
    }
  }

  function handleAuth(bodyText: string): Reply {
    const json = tryParseJson(bodyText);
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      log('AUTH', undefined, '413');
      return { kind: 'json', answer: errorAnswer('AUTH', 413) };
    }
    const answer = faults.take(['refuseAuth'])
      ? errorAnswer('AUTH', 401, 'Неверный PIN-код')
      : terminal.auth(json as { pin?: unknown; returnToken?: unknown });
    log('AUTH', undefined, String(answer.body.resultCode));
    return { kind: 'json', answer };
  }

  async function route(req: http.IncomingMessage): Promise<Reply> {
    const bodyText = await readBody(req);
    if (bodyText === undefined) return { kind: 'json', answer: errorAnswer('', 413) };
    // The vendor requires the header key in upper case, so only the exact spelling counts.
    const intent = exactHeader(req.rawHeaders, INTENT_OPERATION_HEADER)?.trim().toUpperCase() ?? '';
    const tokenHeader = req.headers[AUTH_TOKEN_HEADER.toLowerCase()];
    const token = typeof tokenHeader === 'string' ? tokenHeader : undefined;
    switch (intent) {
      case 'AUTH':
        return handleAuth(bodyText);
      case 'SALE':
        return handleSale(bodyText, token);
      default: {
        log(intent, undefined, '399');
        const detail = intent === '' ? 'Не указан тип операции' : 'Неизвестный тип операции';
        return { kind: 'json', answer: errorAnswer(intent, 399, detail) };
      }
    }
  }

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://emulator').pathname;
    if (req.method !== 'POST' || path !== '/v1') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found');
      return;
    }
    route(req)
      .then((reply) => send(req, res, reply, closing.signal))
      .catch((error: unknown) => {
        if (closing.signal.aborted) {
          req.socket.destroy();
          return;
        }
        logger?.warn({ event: 'intent_emulator.error', err: error }, 'emulator failed on a request');
        if (!res.headersSent) {
          res.writeHead(500, { 'Content-Type': 'text/plain' }).end('Internal Server Error');
        }
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const localHost = isWildcard(host) ? '127.0.0.1' : host;
  const url = `http://${formatHost(localHost)}:${port}`;

  let ssdp: SsdpResponder | undefined;
  if (options.ssdp) {
    const advertised = options.advertisedHost ?? (isWildcard(host) ? firstLanAddress() : host);
    ssdp = await startSsdpResponder(
      options.ssdp === true ? {} : options.ssdp,
      `http://${formatHost(advertised)}:${port}`,
    );
  }

  return {
    url,
    endpoint: `${url}/v1`,
    host,
    port,
    ssdpPort: ssdp?.port,
    get sales() {
      return [...terminal.sales];
    },
    get requests() {
      return [...requests];
    },
    get hasUnfinishedSale() {
      return terminal.unfinishedSale !== undefined;
    },
    setFault: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    expireTokens: () => terminal.expireTokens(),
    openShift: () => terminal.openShift(),
    closeShift: () => terminal.closeShift(),
    createUnfinishedSale: () =>
      terminal.leaveUnfinished({ operationId: undefined, computed: undefined, printCheque: false }),
    finishUnfinishedSale: () => terminal.finishUnfinishedSale(),
    cancelUnfinishedSale: () => terminal.cancelUnfinishedSale(),
    close: async () => {
      closing.abort();
      await ssdp?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await writer?.flushed();
    },
  };
}

async function send(req: http.IncomingMessage, res: http.ServerResponse, reply: Reply, closing: AbortSignal) {
  if (reply.kind === 'drop') {
    // The ambiguous case on the wire: the request was taken and the connection vanishes without an answer.
    req.socket.destroy();
    return;
  }
  if (reply.kind === 'raw') {
    res.writeHead(reply.status, { 'Content-Type': 'text/html; charset=utf-8' }).end(reply.text);
    return;
  }
  if (reply.delayMs !== undefined) await sleep(reply.delayMs, undefined, { signal: closing });
  if (res.destroyed) return;
  res.writeHead(reply.answer.httpStatus, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(reply.answer.body));
}

function describeReply(reply: Reply): string {
  if (reply.kind === 'json') return String(reply.answer.body.resultCode);
  return reply.kind === 'drop' ? 'dropped' : `http ${reply.status}`;
}

function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function exactHeader(rawHeaders: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i] === name) return rawHeaders[i + 1];
  }
  return undefined;
}

function tryParseJson(text: string): unknown {
  try {
    return parseJsonLossless(text);
  } catch {
    return undefined;
  }
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function firstLanAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return '127.0.0.1';
}
