import { type ErrorCode, KktAgentError, type Outcome } from '../../lib/errors.js';
import {
  INTENT_UNKNOWN_RESULT_CODE,
  type IntentResultCategory,
  type IntentResultErrorCode,
  resultCodeInfo,
} from './resultCodes.js';

/**
 * Errors of the SmartX intent driver. What the agent must know first is whether the operation may have
 * happened on the terminal (`outcome`, lib/errors.ts): `unknown` only when it cannot be ruled out, and then
 * the job must wait for a person, because sending the SALE again could print (and charge) twice.
 */
export class IntentError extends KktAgentError {
  constructor(
    code: ErrorCode,
    message: string,
    outcome: Outcome,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(code, message, { ...details, outcome }, { ...options, outcome });
  }
}

/** What the terminal said alongside a refusal. */
export interface IntentRefusal {
  intent: string;
  resultCode: number;
  /** `messageDetail` as the terminal sent it (Russian). */
  terminalMessage?: string | undefined;
  /** `messageTitle` as the terminal sent it (Russian). */
  terminalTitle?: string | undefined;
}

/**
 * The terminal answered with a resultCode other than 200. The answer is definite: the operation did not
 * happen (`refused`). `code` is the table's stable code, or INTENT_UNKNOWN_RESULT_CODE.
 */
export class IntentResultError extends IntentError {
  override readonly code: IntentResultErrorCode | typeof INTENT_UNKNOWN_RESULT_CODE;
  readonly intent: string;
  readonly resultCode: number;
  readonly terminalMessage: string | undefined;
  readonly terminalTitle: string | undefined;
  readonly category: IntentResultCategory | 'unknown';

  constructor(refusal: IntentRefusal) {
    const info = resultCodeInfo(refusal.resultCode);
    const said = refusal.terminalMessage ? ` The terminal says: "${refusal.terminalMessage}".` : '';
    const message = info
      ? `The terminal refused the ${refusal.intent} (resultCode ${refusal.resultCode}): ${info.explanation}${said}`
      : `The terminal refused the ${refusal.intent} with resultCode ${refusal.resultCode}, which the vendor's documentation does not list.${said} Read the terminal screen and report the code.`;
    const code = (info?.code ?? INTENT_UNKNOWN_RESULT_CODE) as
      | IntentResultErrorCode
      | typeof INTENT_UNKNOWN_RESULT_CODE;
    super(code, message, 'refused', {
      intent: refusal.intent,
      resultCode: refusal.resultCode,
      terminalMessage: refusal.terminalMessage,
      terminalTitle: refusal.terminalTitle,
    });
    this.code = code;
    this.intent = refusal.intent;
    this.resultCode = refusal.resultCode;
    this.terminalMessage = refusal.terminalMessage;
    this.terminalTitle = refusal.terminalTitle;
    this.category = info?.category ?? 'unknown';
  }
}

/** The request provably never reached the terminal (connection refused, DNS failure, no route, connect timeout). */
export class IntentUnreachableError extends IntentError {
  constructor(endpoint: string, reason: string, cause?: unknown) {
    super(
      'INTENT_UNREACHABLE',
      `Could not connect to the SmartX terminal at ${endpoint} (${reason}). Nothing was sent. Check that the terminal is on, on the same network, and that server mode is enabled in its settings.`,
      'not-sent',
      { endpoint, reason },
      cause === undefined ? undefined : { cause },
    );
  }
}

export type IntentOutcomeUnknownReason =
  /** No complete answer within the timeout. */
  | 'timeout'
  /** The connection closed after the request went out. */
  | 'connectionLost'
  /** HTTP 5xx: the terminal's server failed somewhere while handling the request. */
  | 'httpStatus'
  /** The answer is not a BaseResponse we can read. */
  | 'malformedAnswer'
  /** resultCode 200, but the answer lacks what a receipt record needs (number, uid, total). */
  | 'incompleteSuccess';

const OUTCOME_REASON_TEXT: Record<IntentOutcomeUnknownReason, string> = {
  timeout: 'no answer came within the timeout',
  connectionLost: 'the connection closed before an answer came',
  httpStatus: 'the terminal answered with an HTTP server error',
  malformedAnswer: 'the answer could not be read',
  incompleteSuccess: 'the terminal reported success but its answer lacks the receipt data',
};

/**
 * A SALE went out and no valid answer came back: the receipt may or may not exist, and a card may have been
 * charged. The driver never sends the SALE again by itself; a person has to look at the terminal.
 */
export class IntentOutcomeUnknownError extends IntentError {
  readonly reason: IntentOutcomeUnknownReason;
  readonly intent: string;
  readonly operationId: string | undefined;

  constructor(
    intent: string,
    reason: IntentOutcomeUnknownReason,
    context: { endpoint: string; operationId?: string | undefined; detail?: string | undefined },
    cause?: unknown,
  ) {
    const operation =
      context.operationId === undefined ? intent : `${intent} (operationId ${context.operationId})`;
    const detail = context.detail ? ` (${context.detail})` : '';
    super(
      'INTENT_OUTCOME_UNKNOWN',
      `The ${operation} was sent to the terminal at ${context.endpoint} but ${OUTCOME_REASON_TEXT[reason]}${detail}. The receipt may or may not have been printed and a card may have been charged. Check the last receipt on the terminal before doing anything; the driver will not send this sale again.`,
      'unknown',
      {
        intent,
        reason,
        endpoint: context.endpoint,
        operationId: context.operationId,
        detail: context.detail,
      },
      cause === undefined ? undefined : { cause },
    );
    this.reason = reason;
    this.intent = intent;
    this.operationId = context.operationId;
  }
}

/**
 * An operation without side effects (AUTH) got no usable answer. Nothing happened that matters, so the
 * outcome is known: no sale was sent.
 */
export class IntentNoAnswerError extends IntentError {
  constructor(intent: string, endpoint: string, detail: string, cause?: unknown) {
    super(
      'INTENT_NO_ANSWER',
      `The terminal at ${endpoint} gave no usable answer to ${intent} (${detail}). Check that the terminal is on and its server mode is enabled.`,
      'not-sent',
      { intent, endpoint, detail },
      cause === undefined ? undefined : { cause },
    );
  }
}

/** AUTH did not yield a token (wrong PIN, refused, or re-authentication after a token error failed). */
export class IntentAuthFailedError extends IntentError {
  readonly resultCode: number | undefined;
  readonly terminalMessage: string | undefined;

  constructor(
    reason: string,
    refusal?: { resultCode?: number | undefined; terminalMessage?: string | undefined },
  ) {
    const said = refusal?.terminalMessage ? ` The terminal says: "${refusal.terminalMessage}".` : '';
    const code = refusal?.resultCode === undefined ? '' : ` (resultCode ${refusal.resultCode})`;
    super(
      'INTENT_AUTH_FAILED',
      `Authorization on the SmartX terminal failed${code}: ${reason}.${said} Check the PIN configured for the terminal. No sale was sent.`,
      'not-sent',
      { reason, resultCode: refusal?.resultCode, terminalMessage: refusal?.terminalMessage },
    );
    this.resultCode = refusal?.resultCode;
    this.terminalMessage = refusal?.terminalMessage;
  }
}

/** SSDP found no terminal within the timeout. */
export class IntentTerminalNotFoundError extends IntentError {
  constructor(searchTarget: string, waitedMs: number) {
    super(
      'INTENT_NOT_FOUND',
      `No SmartX terminal answered the network search for "${searchTarget}" within ${waitedMs} ms. Check that the terminal is on the same network with server mode enabled, or configure its address.`,
      'not-sent',
      { searchTarget, waitedMs },
    );
  }
}
