import { KktAgentError } from '../../../lib/errors.js';
import {
  CloudHttpStatusError,
  CloudResponseTooLargeError,
  CloudTimeoutError,
  CloudUnreachableError,
} from '../http/errors.js';

/**
 * What can go wrong talking to OX System. `endpoint` is the request as a technician would type it
 * (`GET /sells/990481`): never a token, a password or a body.
 */

/** The server could not be reached: connection refused, DNS failure, reset before a complete answer. */
export class OxUnreachableError extends CloudUnreachableError {
  constructor(account: string, endpoint: string, reason: string, cause?: unknown) {
    super(
      'OX_UNREACHABLE',
      `OX System ${account}: ${endpoint} failed before a complete answer came (${reason}). Check the network and baseUrl.`,
      { account, endpoint, reason },
      cause,
    );
  }
}

/** No complete answer within the per-request timeout. */
export class OxTimeoutError extends CloudTimeoutError {
  constructor(account: string, endpoint: string, timeoutMs: number) {
    super('OX_TIMEOUT', 'OX System', account, endpoint, timeoutMs);
  }
}

/** A non-2xx answer (other than a 401 that a fresh login cured). `page` is an HTML page's title, if any. */
export class OxHttpStatusError extends CloudHttpStatusError {
  constructor(
    account: string,
    endpoint: string,
    status: number,
    options: { retryAfterMs?: number; serverMessage?: string } = {},
  ) {
    const said = options.serverMessage ? ` (${options.serverMessage})` : '';
    super(
      status === 404 ? 'OX_NOT_FOUND' : 'OX_HTTP_STATUS',
      `OX System ${account}: ${endpoint} answered HTTP ${status}${said}.${status === 404 ? ' Check the route templates: the defaults are unconfirmed.' : ''}`,
      { account, endpoint, status, retryAfterMs: options.retryAfterMs, serverMessage: options.serverMessage },
    );
  }
}

/**
 * Login refused, or a request still refused (401/403) with a fresh token. `OX_LOGIN_REJECTED`: check
 * username, password and subdomain; `OX_AUTH_REJECTED`: the user lacks the rights for that request.
 */
export class OxAuthError extends KktAgentError {
  readonly endpoint: string;
  readonly status: number;

  constructor(account: string, endpoint: string, status: number, login: boolean, serverMessage?: string) {
    const said = serverMessage ? ` (${serverMessage})` : '';
    super(
      login ? 'OX_LOGIN_REJECTED' : 'OX_AUTH_REJECTED',
      login
        ? `OX System ${account}: login at ${endpoint} was refused with HTTP ${status}${said}. Check username, password and subdomain.`
        : `OX System ${account}: ${endpoint} answered HTTP ${status}${said} even with a fresh token. Check the user's role in OX.`,
      { account, endpoint, status, serverMessage },
    );
    this.endpoint = endpoint;
    this.status = status;
  }
}

/** The answer was larger than `maxResponseBytes`; reading stopped there. */
export class OxResponseTooLargeError extends CloudResponseTooLargeError {
  constructor(account: string, endpoint: string, limitBytes: number) {
    super('OX_RESPONSE_TOO_LARGE', 'OX System', account, endpoint, limitBytes);
  }
}

/**
 * The answer is not JSON (an HTML error page, an empty body) or lacks what the agent needs. `field` names
 * the first missing or wrong field (`items[2].updatedTime`), `sellId` the sell when it is known.
 */
export class OxMalformedResponseError extends KktAgentError {
  readonly endpoint: string;
  readonly field: string | undefined;

  constructor(
    account: string,
    endpoint: string,
    reason: string,
    options: { field?: string; sellId?: string; cause?: unknown } = {},
  ) {
    const sell = options.sellId ? ` (sell ${options.sellId})` : '';
    super(
      'OX_MALFORMED_RESPONSE',
      `OX System ${account}: the answer to ${endpoint}${sell} is unusable: ${reason}`,
      { account, endpoint, reason, field: options.field, sellId: options.sellId },
      { cause: options.cause },
    );
    this.endpoint = endpoint;
    this.field = options.field;
  }
}

/** The cashdesk offers no payment method the agent can use for a payment of this type. */
export class OxPaymentMethodError extends KktAgentError {
  constructor(account: string, cashdesk: number, type: string) {
    super(
      'OX_PAYMENT_METHOD_MISSING',
      `OX System ${account}: cashdesk ${cashdesk} has no active ${type} payment method. Set payments.${type}MethodId in the account's config.`,
      { account, cashdesk, type },
    );
  }
}

/** A sell cannot be reported: it changed in OX after its receipt was printed, or was never ours. */
export class OxSellStateError extends KktAgentError {
  constructor(account: string, sellId: string, reason: string) {
    super('OX_SELL_STATE', `OX System ${account}: sell ${sellId} cannot be updated: ${reason}`, {
      account,
      sellId,
      reason,
    });
  }
}

/** The connector was used before start() or after stop(). */
export class OxNotStartedError extends KktAgentError {
  constructor(account: string, what: string) {
    super('OX_NOT_STARTED', `OX System ${account}: cannot ${what}: the connector is not running.`, {
      account,
    });
  }
}
