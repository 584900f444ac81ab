import { KktAgentError } from '../../../lib/errors.js';

/**
 * Errors below the command layer. What matters to the caller is whether the command may have run on the
 * device: `outcomeUnknown` is true when it cannot be ruled out, and then nothing may be retried blindly.
 */
export class AtolTransportError extends KktAgentError {
  readonly outcomeUnknown: boolean;

  constructor(code: string, message: string, outcomeUnknown: boolean, details: Record<string, unknown> = {}) {
    super(code, message, { ...details, outcomeUnknown });
    this.outcomeUnknown = outcomeUnknown;
  }
}

export class LinkDownError extends AtolTransportError {
  constructor(description: string, outcomeUnknown: boolean, cause?: unknown) {
    super(
      'KKT_LINK_DOWN',
      `The connection to the register (${description}) is down. Check the cable or network and the register's power.`,
      outcomeUnknown,
      { link: description, cause: cause instanceof Error ? cause.message : undefined },
    );
  }
}

export class NoAnswerError extends AtolTransportError {
  constructor(description: string, waitedMs: number, outcomeUnknown: boolean) {
    super(
      'KKT_NO_ANSWER',
      `The register (${description}) did not answer within ${waitedMs} ms. Check that it is switched on and connected.`,
      outcomeUnknown,
      { link: description, waitedMs },
    );
  }
}

export class TaskBufferError extends AtolTransportError {
  constructor(state: string, meaning: string) {
    super(
      'KKT_TASK_BUFFER',
      `The register's task buffer refused the command: ${meaning} (${state}).`,
      false,
      {
        state,
      },
    );
  }
}

export class MalformedAnswerError extends AtolTransportError {
  constructor(what: string, outcomeUnknown = true) {
    super(
      'KKT_MALFORMED_ANSWER',
      `The register sent an answer that cannot be understood: ${what}.`,
      outcomeUnknown,
    );
  }
}
