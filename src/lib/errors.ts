/**
 * What an operation on a device did when it failed: `not-sent` (nothing reached the device), `refused` (the
 * device answered no: nothing happened), or `unknown` (it may have happened: reconcile, never retry blindly).
 */
export type Outcome = 'not-sent' | 'refused' | 'unknown';

export interface KktAgentErrorOptions extends ErrorOptions {
  /** For errors of an operation on a device: what it did (see `Outcome`). */
  outcome?: Outcome;
}

/**
 * Base class of every error the agent raises on purpose. `code` is stable (technicians and tests match on
 * it); `message` is English and says what to do; `details` carries machine-readable context; `outcome`
 * says, for an operation on a device, whether anything reached it.
 */
export class KktAgentError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly outcome: Outcome | undefined;

  constructor(
    code: string,
    message: string,
    details: Record<string, unknown> = {},
    options?: KktAgentErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
    this.outcome = options?.outcome;
  }

  toJSON(): { code: string; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * The one check of "did anything happen on the device?": true when the error proves the operation did not
 * happen (nothing was sent, or the device refused it), so trying again cannot do it twice. Anything else,
 * an error without an outcome included, may have happened.
 */
export function provesNothingHappened(error: unknown): boolean {
  return error instanceof KktAgentError && (error.outcome === 'not-sent' || error.outcome === 'refused');
}

/**
 * Input that fails validation: names the offending field path and the reason. Nothing was sent. Subclasses
 * give a refusal its own stable `code` (`TEXT_CONTROL_CHARACTER`, `VAT_RATE_NOT_ALLOWED` …) and stay
 * validation errors, so whatever handles "the input is wrong, nothing was done" handles them too.
 */
export class ValidationError extends KktAgentError {
  readonly field: string;

  constructor(
    field: string,
    reason: string,
    details: Record<string, unknown> = {},
    code = 'VALIDATION_FAILED',
  ) {
    super(code, `${field || '(root)'}: ${reason}`, { field, reason, ...details }, { outcome: 'not-sent' });
    this.field = field;
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The stable code of an error the agent raised on purpose; `UNEXPECTED` for anything else. */
export function errorCode(error: unknown): string {
  return error instanceof KktAgentError ? error.code : 'UNEXPECTED';
}
