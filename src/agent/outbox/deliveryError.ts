import { type ErrorCode, KktAgentError } from '../../lib/errors.js';

/**
 * A report could not be delivered. `permanent` means retrying cannot help (the cloud rejected it: a 4xx
 * other than 408/429); such entries go to the dead letter for a person to look at.
 */
export class DeliveryError extends KktAgentError {
  readonly permanent: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      permanent: boolean;
      retryAfterMs?: number;
      details?: Record<string, unknown>;
      cause?: unknown;
    },
  ) {
    super(code, message, { ...options.details, permanent: options.permanent }, { cause: options.cause });
    this.permanent = options.permanent;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Classifies an HTTP status the way every sink should: 408, 429 and 5xx are worth retrying. */
  static fromHttpStatus(
    status: number,
    message: string,
    details: Record<string, unknown> = {},
    retryAfterMs?: number,
  ) {
    const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
    return new DeliveryError(`HTTP_${status}`, message, {
      permanent,
      retryAfterMs,
      details: { status, ...details },
    });
  }
}
