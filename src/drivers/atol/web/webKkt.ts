import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ValidationError } from '../../../lib/errors.js';
import { systemTimeZone } from '../../../lib/time.js';
import { KktOutcomeUnknownError } from '../errors.js';
import { fiscalResultOf, shiftResultOf } from '../fiscalResults.js';
import type { DeviceInfo, FiscalDocument, FiscalResult, FnInfo, ShiftResult } from '../kkt.js';
import type { ItemInfoCheckResult } from '../marking.js';
import { type ReceiptInput, validateReceipt } from '../receipt.js';
import { ReconnectLoop, type ReconnectOptions } from '../reconnect.js';
import {
  parseDeviceInfo,
  parseFiscalParams,
  parseFnDocument,
  parseFnInfo,
  parseFnSerial,
  parseLastDocumentNumber,
  parseStatus,
  type TaskResult,
  type TaskVerdict,
  taskVerdict,
  type WebKktStatus,
} from './answers.js';
import { AtolWebClient, type AtolWebClientOptions, LookupFailedError } from './client.js';
import { KktDriverError, UNREACHABLE_DRIVER_CODES } from './driverErrors.js';
import { KktWebError, KktWebExchangeError, KktWebUnreachableError } from './errors.js';
import {
  type MarkingRefusal,
  markingVerdict,
  parseAcceptAnswer,
  parseBeginAnswer,
  parseStatusAnswer,
} from './markingAnswers.js';
import {
  beginMarkingValidationTask,
  cashTask,
  closeShiftTask,
  fnDocumentTask,
  type JsonTask,
  type MarkingCheckInput,
  markingTask,
  openShiftTask,
  queryTask,
  receiptTask,
  reportXTask,
  type TaskOperator,
} from './tasks.js';

export interface AtolWebKktOptions extends AtolWebClientOptions {
  /** Time zone of the register's clock; fiscal times are reported with its offset. */
  timeZone?: string;
  /** From submitting a task to its final status; default 120 s (a Z report prints for a while). */
  taskTimeoutMs?: number;
  /** Probing the server again after it became unreachable. */
  reconnect?: ReconnectOptions;
  logger?: Logger;
  /** Called whenever the server answered, for the watchdog's liveness probe. */
  onExchange?: () => void;
}

export interface AtolWebKktEvents {
  connected: [info: DeviceInfo];
  disconnected: [error?: Error];
}

/**
 * What the server holds under a fiscal request id (the job id): the state of the last request of its
 * chain (see `requestUuid`).
 */
export type FiscalRequestState =
  /** The server holds no request under this id: never received, or its results were lost. */
  | { state: 'unknown' }
  /** Still queued or running after the wait. */
  | { state: 'pending'; uuid: string }
  | { state: 'done'; uuid: string; result: FiscalResult }
  /** Every request of the chain finished without effect. */
  | { state: 'refused'; uuid: string; error: KktDriverError | KktWebError }
  /** The last request ended in a way that proves nothing (interrupted, connection lost mid-task…). */
  | { state: 'uncertain'; uuid: string; reason: string };

/** A fiscal operation's identity on the server. */
export interface FiscalRequest {
  /** The chain's base uuid: the agent passes the job id, the same for every attempt. */
  requestId: string;
  /**
   * Uuids of the chain the caller has proven had no effect, by reading the fiscal storage after they ended
   * without a clear verdict (interrupted, connection lost): a 409 on one of them moves the chain on.
   */
  retired?: ReadonlySet<string>;
}

/** What the register's check of one marking code decided (docs/protocol/atol-driver10-marking.md §4). */
export type MarkingCheckOutcome =
  /** Accepted into the FN's table of checked codes: the sale may carry it, with this 2106. */
  | { kind: 'accepted'; checkResult: ItemInfoCheckResult }
  /** Declined (or never answered): the code is not in the table and must not be sold now. */
  | { kind: 'declined'; refusal: MarkingRefusal; detail: string };

/** How many requests one fiscal request id may take (each definite refusal moves on to the next). */
export const MAX_REQUEST_CHAIN = 100;

/**
 * The uuid of the `link`-th request for a fiscal request id: the id itself, then `<id>-1`, `<id>-2`… A
 * repeated print reuses the uuid, so the server's 409 stops a second copy; only a request the server
 * refused for certain (a definite driver error) moves the chain on.
 */
export function requestUuid(requestId: string, link: number): string {
  return link === 0 ? requestId : `${requestId}-${link}`;
}

type Execution =
  | { kind: 'settled'; duplicate: boolean; results: TaskResult[] }
  /** No connection was made: provably not sent. */
  | { kind: 'notSent'; reason: string }
  /** It may have been queued, and its fate cannot be learnt now. */
  | { kind: 'lost'; reason: string }
  /** Still queued or running at the deadline. */
  | { kind: 'pending' };

/**
 * An ATOL register behind driver 10's web server (platform 5.0 registers, and registers whose OFD
 * traffic the driver relays), with the operations of the protocol backend's `Kkt`. Fiscal operations run
 * exactly once per request id: the id is the request's uuid, a repeated submission is refused by the
 * server (409) and its results are read instead, and an answer that was lost is looked up, never resent.
 */
export class AtolWebKkt extends EventEmitter<AtolWebKktEvents> {
  readonly client: AtolWebClient;
  private readonly timeZone: string;
  private readonly taskTimeoutMs: number;
  private info: DeviceInfo | undefined;
  private reachable = false;
  private closing = false;
  private readonly reconnect: ReconnectLoop;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: AtolWebKktOptions = {}) {
    super();
    this.client = new AtolWebClient(options);
    this.timeZone = options.timeZone ?? systemTimeZone();
    this.taskTimeoutMs = options.taskTimeoutMs ?? 120_000;
    this.reconnect = new ReconnectLoop({
      settings: options.reconnect,
      attempt: () => this.connect(),
      closed: () => this.closing,
      onAttemptFailed: (error) =>
        options.logger?.debug({ event: 'kkt-web.reconnect-failed', reason: error.message }),
    });
  }

  get url(): string {
    return this.client.url;
  }

  /** The server answered and the driver reached the register at the last exchange. */
  get isConnected(): boolean {
    return this.reachable && this.info !== undefined;
  }

  get deviceInfoCached(): DeviceInfo | undefined {
    return this.info;
  }

  /** Asks the register (through the server) who it is. */
  async connect(): Promise<DeviceInfo> {
    this.closing = false;
    const info = await this.deviceInfo();
    this.reconnect.succeeded();
    return info;
  }

  /** Connects, and on failure keeps probing in the background with backoff (the server may start later). */
  start(): Promise<void> {
    return this.reconnect.start(() => this.connect());
  }

  /** Stops probing. HTTP holds no connection open, so there is nothing else to close. */
  async close(): Promise<void> {
    this.closing = true;
    this.reconnect.cancel();
    this.reachable = false;
  }

  private markReachable(): void {
    if (this.reachable) return;
    this.reachable = true;
    if (this.info) this.emit('connected', this.info);
  }

  private markUnreachable(error: Error): void {
    const was = this.reachable;
    this.reachable = false;
    if (was) {
      this.options.logger?.warn({ event: 'kkt-web.disconnected', url: this.url, reason: error.message });
      this.emit('disconnected', error);
    }
    this.reconnect.schedule();
  }

  /** Finished tasks say whether the driver reaches the register: the device is usable, or not. */
  private noteVerdicts(verdicts: readonly TaskVerdict[]): void {
    for (const verdict of verdicts) {
      const error = verdict.kind === 'refused' || verdict.kind === 'uncertain' ? verdict.error : undefined;
      if (error && 'driverCode' in error && UNREACHABLE_DRIVER_CODES.has(error.driverCode)) {
        this.markUnreachable(error);
        return;
      }
    }
    this.markReachable();
  }

  /** One operation at a time, like the protocol backend (the agent relies on it between anchor and print). */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ---- the request cycle -------------------------------------------------------------------------

  private async execute(uuid: string, tasks: readonly JsonTask[], operation: string): Promise<Execution> {
    const deadline = Date.now() + this.taskTimeoutMs;
    const submitted = await this.client.submit(uuid, tasks, operation);
    this.options.logger?.debug({ event: 'kkt-web.submitted', operation, uuid, outcome: submitted.kind });
    if (submitted.kind === 'notSent') {
      this.markUnreachable(new KktWebUnreachableError(this.url, submitted.reason));
      return { kind: 'notSent', reason: submitted.reason };
    }
    try {
      if (submitted.kind === 'ambiguous') {
        // The server may hold it: look before concluding anything, and never submit it again from here.
        const found = await this.client.lookup(uuid);
        if (found.kind === 'unknown') {
          return { kind: 'lost', reason: `${submitted.reason}, and the server does not know the request` };
        }
      }
      this.options.onExchange?.();
      if (submitted.kind === 'duplicate') {
        this.options.logger?.info({ event: 'kkt-web.duplicate-request', operation, uuid });
      }
      const settled = await this.client.settle(uuid, deadline);
      this.options.onExchange?.();
      if (settled.kind === 'unknown')
        return { kind: 'lost', reason: 'the server forgot the request while it ran' };
      if (settled.kind === 'pending') return { kind: 'pending' };
      return { kind: 'settled', duplicate: submitted.kind === 'duplicate', results: settled.results };
    } catch (error) {
      if (!(error instanceof LookupFailedError)) throw error;
      if (error.unreachable) this.markUnreachable(new KktWebUnreachableError(this.url, error.reason));
      const lead = submitted.kind === 'ambiguous' ? `${submitted.reason}; ` : '';
      return { kind: 'lost', reason: `${lead}looking the request up failed (${error.reason})` };
    }
  }

  /** Read-only tasks: every one must succeed; a failed exchange may simply be repeated by the caller. */
  private async query(operation: string, tasks: readonly JsonTask[]): Promise<unknown[]> {
    const execution = await this.execute(randomUUID(), tasks, operation);
    switch (execution.kind) {
      case 'notSent':
        throw new KktWebUnreachableError(this.url, execution.reason);
      case 'lost':
        throw new KktWebExchangeError('KKT_WEB_NO_ANSWER', operation, execution.reason);
      case 'pending':
        throw new KktWebExchangeError(
          'KKT_WEB_TASK_TIMEOUT',
          operation,
          `still running after ${this.taskTimeoutMs} ms`,
        );
      case 'settled': {
        const verdicts = execution.results.map((task) => taskVerdict(task, operation));
        this.noteVerdicts(verdicts);
        return verdicts.map((verdict) => {
          if (verdict.kind === 'done') return verdict.result;
          if (verdict.kind === 'refused') throw verdict.error;
          if (verdict.kind === 'uncertain') {
            throw verdict.error ?? new KktWebExchangeError('KKT_WEB_TASK_FAILED', operation, verdict.reason);
          }
          throw new KktWebExchangeError('KKT_WEB_TASK_TIMEOUT', operation, 'the task has not finished');
        });
      }
    }
  }

  /** A state-changing task not tied to a job (shift, report, cash): a lost outcome is `KktOutcomeUnknownError`. */
  private async perform(operation: string, task: JsonTask): Promise<unknown> {
    const execution = await this.execute(randomUUID(), [task], operation);
    if (execution.kind === 'notSent') throw new KktWebUnreachableError(this.url, execution.reason);
    if (execution.kind === 'lost') throw new KktOutcomeUnknownError(operation, execution.reason, undefined);
    if (execution.kind === 'pending') {
      throw new KktOutcomeUnknownError(operation, `still running after ${this.taskTimeoutMs} ms`, undefined);
    }
    const verdict = taskVerdict(execution.results[0]!, operation);
    this.noteVerdicts([verdict]);
    if (verdict.kind === 'done') return verdict.result;
    if (verdict.kind === 'refused') throw verdict.error;
    if (verdict.kind === 'uncertain')
      throw new KktOutcomeUnknownError(operation, verdict.reason, verdict.error);
    throw new KktOutcomeUnknownError(operation, 'the task has not finished', undefined);
  }

  /**
   * The exactly-once path. Each link of the request chain is submitted under its uuid; a 409 means the
   * server holds that request already, and its results decide: done → that is our receipt (never printed
   * again); refused for certain → the next link; anything else → the outcome is unknown and the agent
   * must reconcile.
   */
  private async fiscalOnce(
    request: FiscalRequest,
    operation: string,
    task: JsonTask,
    knownTotalKop: number | undefined,
  ): Promise<FiscalResult> {
    const { requestId } = request;
    for (let link = 0; link < MAX_REQUEST_CHAIN; link++) {
      const uuid = requestUuid(requestId, link);
      const execution = await this.execute(uuid, [task], operation);
      if (execution.kind === 'notSent') throw new KktWebUnreachableError(this.url, execution.reason);
      if (execution.kind === 'lost') throw new KktOutcomeUnknownError(operation, execution.reason, undefined);
      if (execution.kind === 'pending') {
        throw new KktOutcomeUnknownError(
          operation,
          `request ${uuid} still running after ${this.taskTimeoutMs} ms`,
          undefined,
        );
      }
      const verdict = taskVerdict(execution.results[0]!, operation);
      this.noteVerdicts([verdict]);
      if (execution.duplicate && verdict.kind === 'uncertain' && request.retired?.has(uuid)) {
        // The caller proved on the FN that this request did nothing: the chain moves on.
        this.options.logger?.info({
          event: 'kkt-web.request-chain-advanced',
          operation,
          uuid,
          reason: 'retired',
        });
        continue;
      }
      switch (verdict.kind) {
        case 'done':
          try {
            return await this.fiscalResult(verdict.result, knownTotalKop);
          } catch (error) {
            throw new KktOutcomeUnknownError(
              operation,
              `request ${uuid} is done but its result cannot be read`,
              error,
            );
          }
        case 'refused':
          if (!execution.duplicate) throw verdict.error;
          // An earlier attempt under this uuid was refused for certain: this attempt takes the next uuid.
          this.options.logger?.info({
            event: 'kkt-web.request-chain-advanced',
            operation,
            uuid,
            next: requestUuid(requestId, link + 1),
            code: verdict.error.code,
          });
          continue;
        default:
          throw new KktOutcomeUnknownError(
            operation,
            verdict.kind === 'uncertain'
              ? `request ${uuid}: ${verdict.reason}`
              : `request ${uuid} has not finished`,
            verdict.kind === 'uncertain' ? verdict.error : undefined,
          );
      }
    }
    throw new KktWebError(
      'KKT_WEB_REQUEST_CHAIN_EXHAUSTED',
      `Request ${requestId} was refused ${MAX_REQUEST_CHAIN} times; it is not submitted again.`,
      { requestId },
    );
  }

  private async fiscalResult(result: unknown, knownTotalKop: number | undefined): Promise<FiscalResult> {
    const params = parseFiscalParams(result, this.timeZone);
    const totalKop =
      params.totalKop ?? knownTotalKop ?? (await this.readDocument(params.fiscalDocumentNumber)).totalKop;
    if (totalKop === undefined) throw new ValidationError('result.fiscalParams.total', 'is missing');
    return fiscalResultOf(params, totalKop);
  }

  // ---- operations --------------------------------------------------------------------------------

  deviceInfo(): Promise<DeviceInfo> {
    return this.exclusive(async () => {
      const [result] = await this.query('getDeviceInfo', [queryTask('getDeviceInfo')]);
      const info = parseDeviceInfo(result);
      const first = this.info === undefined;
      this.info = info;
      if (first && this.reachable) {
        this.options.logger?.info({
          event: 'kkt-web.connected',
          url: this.url,
          model: info.modelName,
          serial: info.serial,
        });
        this.emit('connected', info);
      }
      return info;
    });
  }

  status(): Promise<WebKktStatus> {
    return this.exclusive(async () => {
      const [device, shift] = await this.query('getDeviceStatus', [
        queryTask('getDeviceStatus'),
        queryTask('getShiftStatus'),
      ]);
      return parseStatus(device, shift, this.timeZone);
    });
  }

  fnInfo(): Promise<FnInfo> {
    return this.exclusive(async () => {
      const [fnInfo, fnStatus, ofd, registration] = await this.query('getFnInfo', [
        queryTask('getFnInfo'),
        queryTask('getFnStatus'),
        queryTask('ofdExchangeStatus'),
        queryTask('getRegistrationInfo'),
      ]);
      const last = parseLastDocumentNumber(fnStatus);
      const lastDocumentDateTime = last > 0 ? (await this.readDocument(last)).dateTime : '';
      return parseFnInfo({ fnInfo, fnStatus, ofd, registration, lastDocumentDateTime }, this.timeZone);
    });
  }

  /** The number of the last fiscal document in the FN: read before every fiscal operation. */
  lastFiscalDocumentNumber(): Promise<number> {
    return this.exclusive(async () => this.readLastDocumentNumber());
  }

  /**
   * The anchor of a print: the last FD number and the FN's serial (a replaced FN counts documents afresh,
   * so a reconcile must know the numbers still refer to the same FN).
   */
  fnAnchor(): Promise<{ lastDocumentNumber: number; fnSerial: string }> {
    return this.exclusive(async () => {
      const [status, info] = await this.query('getFnStatus', [
        queryTask('getFnStatus'),
        queryTask('getFnInfo'),
      ]);
      return { lastDocumentNumber: parseLastDocumentNumber(status), fnSerial: parseFnSerial(info) };
    });
  }

  private async readLastDocumentNumber(): Promise<number> {
    const [result] = await this.query('getFnStatus', [queryTask('getFnStatus')]);
    return parseLastDocumentNumber(result);
  }

  /** The last fiscal document, read back from the FN. */
  lastDocument(): Promise<FiscalDocument> {
    return this.exclusive(async () => this.readDocument(await this.readLastDocumentNumber()));
  }

  /**
   * A fiscal document by its number (tag 1040), read back from the FN with `getFnDocument`: one task
   * answers the whole document, so every extent reads the same.
   */
  document(fiscalDocumentNumber: number, _extent?: 'full' | 'history'): Promise<FiscalDocument> {
    return this.exclusive(() => this.readDocument(fiscalDocumentNumber));
  }

  private async readDocument(fiscalDocumentNumber: number): Promise<FiscalDocument> {
    const [result] = await this.query('getFnDocument', [fnDocumentTask(fiscalDocumentNumber)]);
    return parseFnDocument(result, fiscalDocumentNumber, this.timeZone);
  }

  openShift(operator?: TaskOperator): Promise<ShiftResult> {
    return this.exclusive(async () =>
      shiftResultOf(
        parseFiscalParams(await this.perform('openShift', openShiftTask(operator)), this.timeZone),
      ),
    );
  }

  /** Z report: the task finishes once the register has printed it and closed the shift. */
  closeShift(operator?: TaskOperator): Promise<ShiftResult> {
    return this.exclusive(async () =>
      shiftResultOf(
        parseFiscalParams(await this.perform('closeShift', closeShiftTask(operator)), this.timeZone),
      ),
    );
  }

  reportX(operator?: TaskOperator): Promise<void> {
    return this.exclusive(async () => {
      await this.perform('reportX', reportXTask(operator));
    });
  }

  cashIn(sumKop: number, operator?: TaskOperator): Promise<void> {
    return this.cash('cashIn', sumKop, operator);
  }

  cashOut(sumKop: number, operator?: TaskOperator): Promise<void> {
    return this.cash('cashOut', sumKop, operator);
  }

  private cash(
    type: 'cashIn' | 'cashOut',
    sumKop: number,
    operator: TaskOperator | undefined,
  ): Promise<void> {
    if (!Number.isSafeInteger(sumKop) || sumKop <= 0 || sumKop > 9_999_999_999) {
      return Promise.reject(new ValidationError('sumKop', `must be 1–9999999999 kopecks, got ${sumKop}`));
    }
    return this.exclusive(async () => {
      await this.perform(type, cashTask(type, sumKop, operator));
    });
  }

  /**
   * Fiscalizes a sale exactly once per `requestId` (the agent passes the job id). Throws `ValidationError`,
   * `KktDriverError` (definite refusal) or `KktWebError` when nothing was printed; `KktOutcomeUnknownError`
   * when it may have been.
   */
  sell(receipt: Omit<ReceiptInput, 'type'>, request: FiscalRequest): Promise<FiscalResult> {
    return this.fiscalize({ ...receipt, type: 'sell' }, request);
  }

  sellReturn(receipt: Omit<ReceiptInput, 'type'>, request: FiscalRequest): Promise<FiscalResult> {
    return this.fiscalize({ ...receipt, type: 'sellReturn' }, request);
  }

  /** Any receipt kind (`receipt.type`), exactly once per `requestId`. */
  receipt(receipt: ReceiptInput, request: FiscalRequest): Promise<FiscalResult> {
    return this.fiscalize(receipt, request);
  }

  private fiscalize(input: ReceiptInput, request: FiscalRequest): Promise<FiscalResult> {
    let task: JsonTask;
    let totalKop: number | undefined;
    try {
      if (!/^[\x21-\x7e]{1,64}$/.test(request.requestId)) {
        throw new ValidationError('requestId', 'must be 1–64 printable ASCII characters without spaces');
      }
      const receipt = validateReceipt(input);
      task = receiptTask(receipt);
      totalKop = receipt.totalKop;
    } catch (error) {
      return Promise.reject(error);
    }
    return this.exclusive(() => this.fiscalOnce(request, input.type, task, totalKop));
  }

  // ---- marking (docs/protocol/atol-driver10-marking.md) -------------------------------------------

  /** Runs a marking task that ends nothing important when refused (cancel, clear): a refusal is ignored. */
  private async markingHousekeeping(
    type: 'cancelMarkingCodeValidation' | 'clearMarkingCodeValidationResult',
  ) {
    try {
      await this.query(type, [markingTask(type)]);
    } catch (error) {
      if (!(error instanceof KktDriverError)) throw error;
      this.options.logger?.debug({
        event: 'kkt-web.marking-housekeeping',
        task: type,
        code: error.driverCode,
      });
    }
  }

  /**
   * Leaves no check running and no accepted code waiting in the FN's table: what an interrupted check or a
   * sale that never happened left behind (a crash between accepting a code and the sale). Runs before the
   * codes of every marked sale, so each attempt starts from a clean table and the sale carries exactly the
   * codes this attempt accepted.
   */
  resetMarkingChecks(): Promise<void> {
    return this.exclusive(async () => {
      await this.markingHousekeeping('cancelMarkingCodeValidation');
      await this.markingHousekeeping('clearMarkingCodeValidationResult');
    });
  }

  /**
   * The register's check of one code before the sale: the FN checks the code, the register asks ОИСМ, and
   * the answer decides: accepted (into the FN's table; the sale may carry it) or declined. No answer
   * within `timeoutMs` cancels the check and declines (`oismUnavailable`). No fiscal document is made.
   * Throws when the register refuses to start the check (`KktDriverError`) or cannot be asked.
   */
  checkMarkingCode(input: MarkingCheckInput, options: { timeoutMs: number }): Promise<MarkingCheckOutcome> {
    return this.exclusive(async () => {
      const [begun] = await this.query('beginMarkingCodeValidation', [beginMarkingValidationTask(input)]);
      const offline = parseBeginAnswer(begun).offlineValidation;
      const deadline = Date.now() + options.timeoutMs;
      try {
        for (;;) {
          const [answer] = await this.query('getMarkingCodeValidationStatus', [
            markingTask('getMarkingCodeValidationStatus'),
          ]);
          const status = parseStatusAnswer(answer);
          if (status.ready) {
            const verdict = markingVerdict(offline, status);
            if (!verdict.accept) {
              await this.query('declineMarkingCode', [markingTask('declineMarkingCode')]);
              return { kind: 'declined', refusal: verdict.refusal, detail: verdict.detail };
            }
            const [accepted] = await this.query('acceptMarkingCode', [markingTask('acceptMarkingCode')]);
            return { kind: 'accepted', checkResult: parseAcceptAnswer(accepted).itemInfoCheckResult };
          }
          if (Date.now() + this.client.pollIntervalMs > deadline) {
            await this.markingHousekeeping('cancelMarkingCodeValidation');
            return {
              kind: 'declined',
              refusal: 'oismUnavailable',
              detail: `no answer within ${options.timeoutMs} ms`,
            };
          }
          await sleep(this.client.pollIntervalMs);
        }
      } catch (error) {
        // Never leave a check running on the register: the next one would be refused (401).
        await this.markingHousekeeping('cancelMarkingCodeValidation').catch(() => undefined);
        throw error;
      }
    });
  }

  /**
   * What the server holds under a fiscal request id: walks the chain of uuids and waits up to
   * `waitMs` for a request still running. Throws when the server cannot be asked.
   */
  findRequest(request: FiscalRequest, waitMs = this.taskTimeoutMs): Promise<FiscalRequestState> {
    const { requestId } = request;
    return this.exclusive(async () => {
      const deadline = Date.now() + waitMs;
      let refusal: { uuid: string; error: KktDriverError | KktWebError } | undefined;
      for (let link = 0; link < MAX_REQUEST_CHAIN; link++) {
        const uuid = requestUuid(requestId, link);
        let results: TaskResult[];
        try {
          const found = await this.client.lookup(uuid);
          if (found.kind === 'unknown')
            return refusal ? { state: 'refused', ...refusal } : { state: 'unknown' };
          results = found.results;
          if (taskVerdict(results[0]!, 'lookup').kind === 'pending') {
            const settled = await this.client.settle(uuid, deadline);
            if (settled.kind === 'unknown') return { state: 'unknown' };
            if (settled.kind === 'pending') return { state: 'pending', uuid };
            results = settled.results;
          }
        } catch (error) {
          if (!(error instanceof LookupFailedError)) throw error;
          if (error.unreachable) {
            const unreachable = new KktWebUnreachableError(this.url, error.reason);
            this.markUnreachable(unreachable);
            throw unreachable;
          }
          throw new KktWebExchangeError('KKT_WEB_NO_ANSWER', `the lookup of ${uuid}`, error.reason);
        }
        const verdict = taskVerdict(results[0]!, 'sell');
        this.noteVerdicts([verdict]);
        if (verdict.kind === 'done') {
          try {
            return { state: 'done', uuid, result: await this.fiscalResult(verdict.result, undefined) };
          } catch (error) {
            return {
              state: 'uncertain',
              uuid,
              reason: `done, but its result cannot be read: ${(error as Error).message}`,
            };
          }
        }
        if (verdict.kind === 'refused') {
          refusal = { uuid, error: verdict.error };
          continue;
        }
        if (verdict.kind === 'uncertain') {
          if (!request.retired?.has(uuid)) return { state: 'uncertain', uuid, reason: verdict.reason };
          continue;
        }
        return { state: 'pending', uuid };
      }
      return refusal ? { state: 'refused', ...refusal } : { state: 'unknown' };
    });
  }
}
