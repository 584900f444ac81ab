import { KktAgentError } from '../../../lib/errors.js';
import { cloudTransportErrors } from '../http/errors.js';

/**
 * What can go wrong talking to OX System. `endpoint` is the request as a technician would type it
 * (`GET /sells/990481`): never a token, a password or a body.
 */

/**
 * The transport errors (http/errors.ts makes them for every cloud): unreachable, timeout, an answer over
 * the byte cap, a non-2xx status.
 */
export const {
  UnreachableError: OxUnreachableError,
  TimeoutError: OxTimeoutError,
  ResponseTooLargeError: OxResponseTooLargeError,
  HttpStatusError: OxHttpStatusError,
} = cloudTransportErrors(
  {
    codePrefix: 'OX',
    label: 'OX System',
    className: 'Ox',
    unreachableHint: 'Check the network and baseUrl.',
  },
  {
    codeOf: (status) =>
      status === 404
        ? { code: 'OX_NOT_FOUND', hint: 'Check the route templates: the defaults are unconfirmed.' }
        : undefined,
  },
);

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
