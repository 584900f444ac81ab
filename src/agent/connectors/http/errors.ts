import { type ErrorCode, KktAgentError } from '../../../lib/errors.js';
import type { CloudCodePrefix } from '../errorCodes.js';

/**
 * Failures every cloud's HTTP client meets, as the bases of each cloud's own error classes: the subclass
 * keeps its stable code (`BRIDGE_TIMEOUT`, `OX_TIMEOUT`…) and its wording, while the shared request code
 * (exchange, retries) and the connectors' status recognise the kind. `cloud` is the name a technician
 * knows (`Bridge`, `OX System`); `endpoint` is the request as they would type it (`GET /api/v2/hello`),
 * never a token or a password.
 */

/** The cloud could not be reached: connection refused, DNS failure, reset before a complete answer. */
export abstract class CloudUnreachableError extends KktAgentError {
  readonly endpoint: string;

  constructor(
    code: ErrorCode,
    message: string,
    details: { account: string; endpoint: string; reason: string },
    cause?: unknown,
  ) {
    super(code, message, details, { cause });
    this.endpoint = details.endpoint;
  }
}

/** No complete answer within the per-request timeout. */
export abstract class CloudTimeoutError extends KktAgentError {
  readonly endpoint: string;

  constructor(code: ErrorCode, cloud: string, account: string, endpoint: string, timeoutMs: number) {
    super(code, `${cloud} ${account}: ${endpoint} gave no complete answer within ${timeoutMs} ms.`, {
      account,
      endpoint,
      timeoutMs,
    });
    this.endpoint = endpoint;
  }
}

/** The answer was larger than the configured cap; reading stopped there. */
export abstract class CloudResponseTooLargeError extends KktAgentError {
  readonly endpoint: string;

  constructor(code: ErrorCode, cloud: string, account: string, endpoint: string, limitBytes: number) {
    super(
      code,
      `${cloud} ${account}: the answer to ${endpoint} exceeds ${limitBytes} bytes; it was not read.`,
      {
        account,
        endpoint,
        limitBytes,
      },
    );
    this.endpoint = endpoint;
  }
}

/** A non-2xx answer; `retryAfterMs` is the server's `Retry-After`, if it sent one. */
export abstract class CloudHttpStatusError extends KktAgentError {
  readonly endpoint: string;
  readonly status: number;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    details: { account: string; endpoint: string; status: number; retryAfterMs: number | undefined } & Record<
      string,
      unknown
    >,
  ) {
    super(code, message, details);
    this.endpoint = details.endpoint;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** The cloud is unreachable or unwell right now (as opposed to saying no): its connector shows offline. */
export function isCloudUnavailable(error: unknown): boolean {
  return (
    error instanceof CloudUnreachableError ||
    error instanceof CloudTimeoutError ||
    error instanceof CloudResponseTooLargeError ||
    (error instanceof CloudHttpStatusError && error.status >= 500)
  );
}

/** How a cloud names its transport errors: codes `<codePrefix>_TIMEOUT`…, messages `<label> <account>: …`. */
export interface CloudErrorNames {
  /** `BRIDGE`, `MOYSKLAD`, `OX`. */
  codePrefix: CloudCodePrefix;
  /** What a technician calls the cloud: `Bridge`, `MoySklad`, `OX System`. */
  label: string;
  /** Class names begin with it: `Bridge` → `BridgeTimeoutError`. */
  className: string;
  /** What to check when the cloud cannot be reached. */
  unreachableHint: string;
}

export interface HttpStatusNaming {
  /** The code for a status (`<prefix>_HTTP_STATUS` when it returns undefined) and a hint for the message. */
  codeOf?(status: number): { code: ErrorCode; hint?: string } | undefined;
}

/**
 * A cloud's transport error classes, made from the shared bases above: one definition for every cloud
 * instead of a copy per cloud. Each class keeps the cloud's own name, codes and wording.
 */
export function cloudTransportErrors(names: CloudErrorNames, statuses: HttpStatusNaming = {}) {
  const { codePrefix, label } = names;
  class UnreachableError extends CloudUnreachableError {
    constructor(account: string, endpoint: string, reason: string, cause?: unknown) {
      super(
        `${codePrefix}_UNREACHABLE`,
        `${label} ${account}: ${endpoint} failed before an answer came (${reason}). ${names.unreachableHint}`,
        { account, endpoint, reason },
        cause,
      );
    }
  }
  class TimeoutError extends CloudTimeoutError {
    constructor(account: string, endpoint: string, timeoutMs: number) {
      super(`${codePrefix}_TIMEOUT`, label, account, endpoint, timeoutMs);
    }
  }
  class ResponseTooLargeError extends CloudResponseTooLargeError {
    constructor(account: string, endpoint: string, limitBytes: number) {
      super(`${codePrefix}_RESPONSE_TOO_LARGE`, label, account, endpoint, limitBytes);
    }
  }
  class HttpStatusError extends CloudHttpStatusError {
    constructor(
      account: string,
      endpoint: string,
      status: number,
      options: { retryAfterMs?: number | undefined; serverMessage?: string | undefined } = {},
    ) {
      const named = statuses.codeOf?.(status);
      const said = options.serverMessage ? ` (${options.serverMessage})` : '';
      const hint = named?.hint ? ` ${named.hint}` : '';
      super(
        named?.code ?? `${codePrefix}_HTTP_STATUS`,
        `${label} ${account}: ${endpoint} answered HTTP ${status}${said}.${hint}`,
        {
          account,
          endpoint,
          status,
          retryAfterMs: options.retryAfterMs,
          ...(options.serverMessage !== undefined ? { serverMessage: options.serverMessage } : {}),
        },
      );
    }
  }
  const classes = { UnreachableError, TimeoutError, ResponseTooLargeError, HttpStatusError };
  for (const [suffix, type] of Object.entries(classes)) {
    Object.defineProperty(type, 'name', { value: `${names.className}${suffix}` });
  }
  return classes;
}
