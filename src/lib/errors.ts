/**
 * Base class of every error the agent raises on purpose. `code` is stable (technicians and tests match on
 * it); `message` is English and says what to do; `details` carries machine-readable context.
 */
export class KktAgentError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: string; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * Input that fails validation: names the offending field path and the reason. Subclasses give a refusal
 * its own stable `code` (`TEXT_CONTROL_CHARACTER`, `VAT_RATE_NOT_ALLOWED` …) and stay validation errors, so
 * whatever handles "the input is wrong, nothing was done" handles them too.
 */
export class ValidationError extends KktAgentError {
  readonly field: string;

  constructor(
    field: string,
    reason: string,
    details: Record<string, unknown> = {},
    code = 'VALIDATION_FAILED',
  ) {
    super(code, `${field || '(root)'}: ${reason}`, { field, reason, ...details });
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
