import { type ErrorCode, KktAgentError, type Outcome } from '../../../lib/errors.js';

/**
 * Errors below the command layer. What matters to the caller is whether the command may have run on the
 * device (`outcome`, lib/errors.ts): `unknown` when it cannot be ruled out, and then nothing may be
 * retried blindly. The subclasses take `mayHaveRun`: false when nothing was sent, or the command only read.
 */
export class AtolTransportError extends KktAgentError {
  constructor(code: ErrorCode, message: string, outcome: Outcome, details: Record<string, unknown> = {}) {
    super(code, message, { ...details, outcome }, { outcome });
  }
}

const outcomeOf = (mayHaveRun: boolean): Outcome => (mayHaveRun ? 'unknown' : 'not-sent');

export class LinkDownError extends AtolTransportError {
  constructor(description: string, mayHaveRun: boolean, cause?: unknown) {
    super(
      'KKT_LINK_DOWN',
      `The connection to the register (${description}) is down. Check the cable or network and the register's power.`,
      outcomeOf(mayHaveRun),
      { link: description, cause: cause instanceof Error ? cause.message : undefined },
    );
  }
}

export class NoAnswerError extends AtolTransportError {
  constructor(description: string, waitedMs: number, mayHaveRun: boolean) {
    super(
      'KKT_NO_ANSWER',
      `The register (${description}) did not answer within ${waitedMs} ms. Check that it is switched on and connected.`,
      outcomeOf(mayHaveRun),
      { link: description, waitedMs },
    );
  }
}

export class TaskBufferError extends AtolTransportError {
  constructor(state: string, meaning: string) {
    super(
      'KKT_TASK_BUFFER',
      `The register's task buffer refused the command: ${meaning} (${state}).`,
      'refused',
      {
        state,
      },
    );
  }
}

export class MalformedAnswerError extends AtolTransportError {
  constructor(what: string, mayHaveRun = true) {
    super(
      'KKT_MALFORMED_ANSWER',
      `The register sent an answer that cannot be understood: ${what}.`,
      outcomeOf(mayHaveRun),
    );
  }
}

/**
 * A command added without a kept result (flags 0) failed on the device: its error came later as an async
 * error (A7), and the commands after it were stopped or, at best, ran on a receipt that is now incomplete.
 * The command layer turns it into the device's error for that command (docs/protocol/atol-v3.md §3.3).
 */
export class DeferredTaskError extends AtolTransportError {
  constructor(
    /** The failed command's body (code and params), so that its answer can be decoded. */
    readonly body: Buffer,
    /** The failed command's answer (`55 ERR …`). */
    readonly answer: Buffer,
  ) {
    super(
      'KKT_DEFERRED_FAILURE',
      `A command sent without waiting for its result (${body.subarray(0, 2).toString('hex')}) failed on the register.`,
      'refused',
      { command: body.subarray(0, 2).toString('hex'), answer: answer.toString('hex') },
    );
  }
}
