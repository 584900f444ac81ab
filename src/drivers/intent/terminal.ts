import type { Logger } from 'pino';
import { z } from 'zod';
import { type ErrorCode, KktAgentError, type Outcome } from '../../lib/errors.js';
import { parseJsonLossless, parseWithSchema } from '../../lib/json.js';
import {
  type DiscoveredIntentTerminal,
  discoverIntentTerminal,
  type IntentDiscoveryOptions,
} from './discovery.js';
import { endpointFromBaseUrl } from './endpoint.js';
import {
  IntentAuthFailedError,
  IntentNoAnswerError,
  IntentOutcomeUnknownError,
  IntentResultError,
  IntentUnreachableError,
} from './errors.js';
import { AUTH_RESULT_CODES, RESULT_CODE_OK } from './resultCodes.js';
import { encodeSale, type IntentSale } from './sale.js';
import { exchangeIntent, type IntentExchangeOutcome } from './transport.js';
import {
  decodeAnswerHead,
  decodeAuthAnswer,
  decodeSaleSuccess,
  type IntentAnswerHead,
  type IntentAuthAnswer,
  type IntentSaleResult,
} from './wireResponse.js';

/** The subset of a pino logger the driver uses. It never logs the PIN, the token or receipt contents. */
export type IntentLogger = Pick<Logger, 'debug' | 'info' | 'warn'>;

export interface IntentTerminalOptions {
  /** The terminal's address, e.g. `http://192.168.1.2:37015` (with or without `/v1`). */
  baseUrl?: string | undefined;
  /** Find the terminal by SSDP when no `baseUrl` is given; found again after it stops answering. */
  discover?: boolean | IntentDiscoveryOptions | undefined;
  /** PIN for AUTH. Without it no AUTH is made and requests go without `Auth-token`. */
  pin?: string | undefined;
  /** Sent in AUTH as `rememberPin` (default true, as the one public client does). */
  rememberPin?: boolean | undefined;
  /** A card SALE blocks until the customer taps the card, so this is long (default 180 s). */
  saleTimeoutMs?: number | undefined;
  /** AUTH answers at once (default 10 s). */
  authTimeoutMs?: number | undefined;
  /** Connecting only (default 5 s); failing here proves nothing was sent. */
  connectTimeoutMs?: number | undefined;
  logger?: IntentLogger | undefined;
  /** Clock for the status document. */
  now?: (() => Date) | undefined;
}

export interface IntentSaleOptions {
  /** Our id for the operation (the job id), sent as the Sale's `operationId` and kept in errors. */
  operationId: string;
}

export interface IntentTerminalStatus {
  driver: 'smartx-intent';
  /** The endpoint in use; undefined until discovery has found one. */
  endpoint: string | undefined;
  addressSource: 'configured' | 'discovery';
  authConfigured: boolean;
  hasToken: boolean;
  busy: boolean;
  currentOperation: { intent: string; operationId: string | undefined; startedAt: string } | undefined;
  lastSale:
    | { operationId: string; numberCheck: string; uid: string; totalMinor: number; at: string }
    | undefined;
  lastError: { code: ErrorCode; message: string; outcome: Outcome | undefined; at: string } | undefined;
  saleTimeoutMs: number;
  authTimeoutMs: number;
}

export const DEFAULT_SALE_TIMEOUT_MS = 180_000;
export const DEFAULT_AUTH_TIMEOUT_MS = 10_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

const timeoutMs = z.number().int().positive().max(3_600_000);
const optionsSchema = z
  .object({
    baseUrl: z.string().min(1).optional(),
    discover: z.union([z.boolean(), z.object({}).loose()]).optional(),
    pin: z.string().min(1).optional(),
    rememberPin: z.boolean().optional(),
    saleTimeoutMs: timeoutMs.optional(),
    authTimeoutMs: timeoutMs.optional(),
    connectTimeoutMs: timeoutMs.optional(),
  })
  .refine(
    (options) =>
      options.baseUrl !== undefined || (options.discover !== undefined && options.discover !== false),
    {
      message: 'give either baseUrl or discover',
    },
  );

/** How a SALE answer ended when it did not throw. */
type SaleAttempt =
  | { kind: 'completed'; result: IntentSaleResult }
  | { kind: 'authRejected'; error: IntentResultError };

/**
 * A SmartX terminal reached over its HTTP intent API. One operation at a time (the terminal itself works
 * that way while it waits for a card). A SALE is sent at most once per call, plus once more only after the
 * terminal definitely refused it for authorization; an unanswered SALE is never sent again.
 */
export class IntentTerminal {
  private readonly discoveryOptions: IntentDiscoveryOptions | undefined;
  private readonly pin: string | undefined;
  private readonly rememberPin: boolean;
  private readonly saleTimeoutMs: number;
  private readonly authTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly logger: IntentLogger | undefined;
  private readonly now: () => Date;

  private endpoint: string | undefined;
  private token: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private currentOperation: IntentTerminalStatus['currentOperation'];
  private lastSale: IntentTerminalStatus['lastSale'];
  private lastError: IntentTerminalStatus['lastError'];

  constructor(options: IntentTerminalOptions) {
    const { logger, now, ...plain } = options;
    const valid = parseWithSchema(optionsSchema, plain, 'options');
    this.endpoint =
      valid.baseUrl === undefined ? undefined : endpointFromBaseUrl(valid.baseUrl, 'options.baseUrl');
    this.discoveryOptions =
      valid.baseUrl === undefined
        ? typeof options.discover === 'object'
          ? options.discover
          : {}
        : undefined;
    this.pin = valid.pin;
    this.rememberPin = valid.rememberPin ?? true;
    this.saleTimeoutMs = valid.saleTimeoutMs ?? DEFAULT_SALE_TIMEOUT_MS;
    this.authTimeoutMs = valid.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS;
    this.connectTimeoutMs = valid.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.logger = logger;
    this.now = now ?? (() => new Date());
  }

  /** Authenticates with the configured PIN and keeps the token for later requests. */
  auth(): Promise<void> {
    return this.exclusive('AUTH', undefined, async () => {
      if (this.pin === undefined) throw new IntentAuthFailedError('no PIN is configured for the terminal');
      await this.authenticate(await this.resolveEndpoint());
    });
  }

  /**
   * Sells and returns the terminal's receipt data. Throws IntentResultError when the terminal refuses,
   * IntentOutcomeUnknownError when the SALE went out and no valid answer came (never retried), and errors
   * with `outcome: 'not-sent'` when provably nothing was sent.
   */
  async sale(sale: IntentSale, options: IntentSaleOptions): Promise<IntentSaleResult> {
    const body = JSON.stringify(encodeSale(sale, options.operationId));
    const operationId = options.operationId.trim();
    return this.exclusive('SALE', operationId, async () => {
      const endpoint = await this.resolveEndpoint();
      if (this.pin !== undefined && this.token === undefined) await this.authenticate(endpoint);

      let attempt = await this.sendSale(endpoint, body, operationId);
      if (attempt.kind === 'authRejected') {
        if (this.pin === undefined) throw attempt.error;
        // The terminal refused before doing anything, so sending the same SALE once more is safe.
        this.logger?.warn(
          { event: 'intent.reauth', operationId, resultCode: attempt.error.resultCode },
          'terminal rejected the token; authenticating again once',
        );
        this.token = undefined;
        await this.authenticate(endpoint);
        attempt = await this.sendSale(endpoint, body, operationId);
        if (attempt.kind === 'authRejected') throw attempt.error;
      }

      const { result } = attempt;
      this.lastSale = {
        operationId,
        numberCheck: result.numberCheck,
        uid: result.uid,
        totalMinor: result.totalMinor,
        at: this.now().toISOString(),
      };
      this.logger?.info(
        {
          event: 'intent.sale.completed',
          operationId,
          numberCheck: result.numberCheck,
          totalMinor: result.totalMinor,
        },
        'terminal completed the sale',
      );
      return result;
    });
  }

  /** A snapshot for the agent's state document. Holds no PIN and no token. */
  describe(): IntentTerminalStatus {
    return {
      driver: 'smartx-intent',
      endpoint: this.endpoint,
      addressSource: this.discoveryOptions === undefined ? 'configured' : 'discovery',
      authConfigured: this.pin !== undefined,
      hasToken: this.token !== undefined,
      busy: this.currentOperation !== undefined,
      currentOperation: this.currentOperation,
      lastSale: this.lastSale,
      lastError: this.lastError,
      saleTimeoutMs: this.saleTimeoutMs,
      authTimeoutMs: this.authTimeoutMs,
    };
  }

  // --- one operation at a time -----------------------------------------------------------------------------

  private exclusive<T>(intent: string, operationId: string | undefined, task: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.currentOperation = { intent, operationId, startedAt: this.now().toISOString() };
      try {
        return await task();
      } catch (error) {
        this.recordError(error);
        throw error;
      } finally {
        this.currentOperation = undefined;
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private recordError(error: unknown): void {
    if (!(error instanceof KktAgentError)) return;
    this.lastError = {
      code: error.code,
      message: error.message,
      outcome: error.outcome,
      at: this.now().toISOString(),
    };
  }

  // --- address ---------------------------------------------------------------------------------------------

  private async resolveEndpoint(): Promise<string> {
    if (this.endpoint !== undefined) return this.endpoint;
    const found: DiscoveredIntentTerminal = await discoverIntentTerminal(this.discoveryOptions);
    this.logger?.info({ event: 'intent.discovered', endpoint: found.endpoint }, 'found the terminal by SSDP');
    this.endpoint = found.endpoint;
    return found.endpoint;
  }

  private unreachable(endpoint: string, reason: string, cause: unknown): IntentUnreachableError {
    // A discovered address may have changed (DHCP): look again next time. Nothing was sent, so this is safe.
    if (this.discoveryOptions !== undefined) this.endpoint = undefined;
    return new IntentUnreachableError(endpoint, reason, cause);
  }

  private exchange(
    endpoint: string,
    intent: string,
    body: string,
    timeoutMs: number,
    authToken: string | undefined,
  ): Promise<IntentExchangeOutcome> {
    this.logger?.debug({ event: 'intent.request', intent, endpoint }, 'sending to the terminal');
    return exchangeIntent({
      endpoint: new URL(endpoint),
      intent,
      body,
      authToken,
      timeoutMs,
      connectTimeoutMs: Math.min(this.connectTimeoutMs, timeoutMs),
    });
  }

  // --- AUTH ------------------------------------------------------------------------------------------------

  private async authenticate(endpoint: string): Promise<void> {
    const body = JSON.stringify({ pin: this.pin, rememberPin: this.rememberPin, returnToken: true });
    const outcome = await this.exchange(endpoint, 'AUTH', body, this.authTimeoutMs, undefined);
    if (outcome.kind === 'notSent') throw this.unreachable(endpoint, outcome.reason, outcome.cause);
    if (outcome.kind === 'noAnswer') {
      throw new IntentNoAnswerError('AUTH', endpoint, outcome.detail, outcome.cause);
    }
    if (outcome.statusCode >= 500) {
      throw new IntentNoAnswerError('AUTH', endpoint, `HTTP ${outcome.statusCode}`);
    }

    const json = tryParseJson(outcome.bodyText);
    let answer: IntentAuthAnswer;
    try {
      answer = decodeAuthAnswer(json);
    } catch {
      if (outcome.statusCode === 401) {
        throw new IntentAuthFailedError('the terminal refused the PIN', { resultCode: 401 });
      }
      throw new IntentNoAnswerError('AUTH', endpoint, `HTTP ${outcome.statusCode} with an unreadable body`);
    }
    if (
      outcome.statusCode === 401 ||
      (answer.resultCode !== undefined && answer.resultCode !== RESULT_CODE_OK)
    ) {
      throw new IntentAuthFailedError('the terminal refused the PIN', {
        resultCode: answer.resultCode ?? outcome.statusCode,
        terminalMessage: answer.messageDetail,
      });
    }
    if (answer.token === undefined) throw new IntentAuthFailedError('the terminal answered without a token');
    this.token = answer.token;
    this.logger?.info({ event: 'intent.auth.ok' }, 'authenticated on the terminal');
  }

  // --- SALE ------------------------------------------------------------------------------------------------

  private async sendSale(endpoint: string, body: string, operationId: string): Promise<SaleAttempt> {
    const outcome = await this.exchange(endpoint, 'SALE', body, this.saleTimeoutMs, this.token);
    if (outcome.kind === 'notSent') throw this.unreachable(endpoint, outcome.reason, outcome.cause);
    if (outcome.kind === 'noAnswer') {
      throw this.outcomeUnknown(outcome.reason, endpoint, operationId, outcome.detail, outcome.cause);
    }

    const { statusCode, bodyText } = outcome;
    const json = tryParseJson(bodyText);
    const head = json === undefined ? undefined : tryDecodeHead(json);
    if (statusCode >= 500) {
      const said = head?.messageDetail ? `, terminal says "${head.messageDetail}"` : '';
      throw this.outcomeUnknown('httpStatus', endpoint, operationId, `HTTP ${statusCode}${said}`);
    }
    if (statusCode === 401 || (head !== undefined && AUTH_RESULT_CODES.has(head.resultCode))) {
      const error = new IntentResultError({
        intent: 'SALE',
        resultCode: head !== undefined && AUTH_RESULT_CODES.has(head.resultCode) ? head.resultCode : 401,
        terminalMessage: head?.messageDetail,
        terminalTitle: head?.messageTitle,
      });
      return { kind: 'authRejected', error };
    }
    if (head === undefined) {
      throw this.outcomeUnknown(
        'malformedAnswer',
        endpoint,
        operationId,
        `HTTP ${statusCode}, no readable resultCode`,
      );
    }
    if (head.resultCode !== RESULT_CODE_OK) {
      throw new IntentResultError({
        intent: 'SALE',
        resultCode: head.resultCode,
        terminalMessage: head.messageDetail,
        terminalTitle: head.messageTitle,
      });
    }
    try {
      return { kind: 'completed', result: decodeSaleSuccess(json, operationId) };
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw this.outcomeUnknown('incompleteSuccess', endpoint, operationId, detail, error);
    }
  }

  private outcomeUnknown(
    reason: ConstructorParameters<typeof IntentOutcomeUnknownError>[1],
    endpoint: string,
    operationId: string,
    detail: string,
    cause?: unknown,
  ): IntentOutcomeUnknownError {
    this.logger?.warn(
      { event: 'intent.sale.outcome_unknown', operationId, reason, detail },
      'sale sent but no valid answer; not resending',
    );
    return new IntentOutcomeUnknownError('SALE', reason, { endpoint, operationId, detail }, cause);
  }
}

function tryParseJson(text: string): unknown {
  try {
    return parseJsonLossless(text);
  } catch {
    return undefined;
  }
}

function tryDecodeHead(json: unknown): IntentAnswerHead | undefined {
  try {
    return decodeAnswerHead(json);
  } catch {
    return undefined;
  }
}
