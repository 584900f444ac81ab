import { type ErrorCode, KktAgentError, type KktAgentErrorOptions } from '../../../lib/errors.js';

/**
 * Errors of the driver-10 web backend that say nothing happened on the register (`outcome`: nothing was
 * sent, unless a subclass says the server refused it). Anything that may have printed is a
 * `KktOutcomeUnknownError` instead.
 */
export class KktWebError extends KktAgentError {
  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options: KktAgentErrorOptions = {},
  ) {
    super(code, message, details, { outcome: 'not-sent', ...options });
  }
}

/** The web server could not be reached at all: no connection was made, so no request was sent. */
export class KktWebUnreachableError extends KktWebError {
  constructor(url: string, reason: string, cause?: unknown) {
    super(
      'KKT_WEB_UNREACHABLE',
      `Cannot connect to the ATOL web server at ${url} (${reason}); nothing was sent. Check that ATOL driver 10's web server is running and listening there.`,
      { url, reason },
      cause === undefined ? undefined : { cause },
    );
  }
}

/** The server refused the request itself (HTTP 4xx on submit): it was not queued. */
export class KktWebRejectedError extends KktWebError {
  readonly status: number;

  constructor(operation: string, status: number, detail: string) {
    const auth = status === 401 || status === 403;
    super(
      auth ? 'KKT_WEB_AUTH' : 'KKT_WEB_REJECTED',
      auth
        ? `The ATOL web server refused the credentials (HTTP ${status}) for ${operation}; nothing was queued. Check the device's auth settings.`
        : `The ATOL web server rejected the ${operation} request (HTTP ${status}: ${detail}); nothing was queued.`,
      { operation, status, detail },
      { outcome: 'refused' },
    );
    this.status = status;
  }
}

/**
 * A read-only or idempotent exchange did not complete (no answer, server error, an answer we cannot read,
 * a task still running after the timeout). Reads may simply be repeated.
 */
export class KktWebExchangeError extends KktWebError {
  constructor(code: ErrorCode, operation: string, detail: string, cause?: unknown) {
    super(
      code,
      `The ATOL web server did not complete ${operation}: ${detail}.`,
      { operation, detail },
      cause === undefined ? undefined : { cause },
    );
  }
}
