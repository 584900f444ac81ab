import type { LIB_ERROR_CODES } from './errorCodes.js';

/**
 * Every stable error code, by room: each room lists its codes with their meaning in its `errorCodes.ts`
 * (docs/errors.md is made from those lists) and adds them here by declaration merging
 * (`declare module '…/lib/errors.js'`), so lib names no room above it and a code that no list registers
 * fails `tsc`.
 */
export interface ErrorCodeRegistry {
  lib: CodesIn<typeof LIB_ERROR_CODES>;
}

/** A code some room registered (see `ErrorCodeRegistry`). */
export type ErrorCode = ErrorCodeRegistry[keyof ErrorCodeRegistry];

/**
 * The codes a room's list declares: its keys, where a key ending in a `<placeholder>` (`HTTP_<status>`)
 * stands for a family of codes that end in a number (`HTTP_404`, `HTTP_503`…).
 */
export type CodesIn<List> = {
  [K in keyof List & string]: K extends `${infer Head}<${string}>` ? `${Head}${number}` : K;
}[keyof List & string];

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
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly outcome: Outcome | undefined;

  constructor(
    code: ErrorCode,
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

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
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
    code: ErrorCode = 'VALIDATION_FAILED',
  ) {
    super(code, `${field || '(root)'}: ${reason}`, { field, reason, ...details }, { outcome: 'not-sent' });
    this.field = field;
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The stable code of an error the agent raised on purpose; `UNEXPECTED` for anything else. */
export function errorCode(error: unknown): ErrorCode {
  return error instanceof KktAgentError ? error.code : 'UNEXPECTED';
}
