import type { CodesIn } from '../../lib/errors.js';

/**
 * The codes of the cloud connectors' errors, with what each means (docs/errors.md is made from this list).
 * Every cloud has the transport and lifecycle codes `<prefix>_UNREACHABLE`, `_TIMEOUT`,
 * `_RESPONSE_TOO_LARGE`, `_HTTP_STATUS`, `_NOT_STARTED` and `_STOPPED` (http/errors.ts, runtime.ts): a new
 * cloud adds its prefix to `CloudCodePrefix` and its rows here.
 */
export const CONNECTORS_ERROR_CODES = {
  BRIDGE_UNREACHABLE:
    'The bridge cannot be reached (refused, DNS, reset); the connector shows offline and retries. Check the network and the URL.',
  BRIDGE_TIMEOUT: 'The bridge gave no complete answer in time; the connector shows offline and retries.',
  BRIDGE_RESPONSE_TOO_LARGE: 'An answer from the bridge is larger than the configured cap; it was not read.',
  BRIDGE_HTTP_STATUS:
    'The bridge answered a non-2xx status with no more specific code; the message gives it.',
  BRIDGE_NOT_STARTED: 'A call needing the running bridge connector came before it started; it is retried.',
  BRIDGE_STOPPED:
    'The bridge connector stopped while a request ran; the request is abandoned and retried after a restart.',
  MOYSKLAD_UNREACHABLE:
    'MoySklad cannot be reached (refused, DNS, reset); the connector shows offline and retries. Check the network and the URL.',
  MOYSKLAD_TIMEOUT: 'MoySklad gave no complete answer in time; the connector shows offline and retries.',
  MOYSKLAD_RESPONSE_TOO_LARGE: 'An answer from MoySklad is larger than the configured cap; it was not read.',
  MOYSKLAD_HTTP_STATUS:
    'Not raised today: every non-2xx answer of MoySklad is MOYSKLAD_API_ERROR or a more specific code.',
  MOYSKLAD_NOT_STARTED:
    'A call needing the running MoySklad connector came before it started; it is retried.',
  MOYSKLAD_STOPPED:
    'The MoySklad connector stopped while a request ran; the request is abandoned and retried after a restart.',
  OX_UNREACHABLE:
    'OX System cannot be reached (refused, DNS, reset); the connector shows offline and retries. Check the network and the URL.',
  OX_TIMEOUT: 'OX System gave no complete answer in time; the connector shows offline and retries.',
  OX_RESPONSE_TOO_LARGE: 'An answer from OX System is larger than the configured cap; it was not read.',
  OX_HTTP_STATUS: 'OX System answered a non-2xx status with no more specific code; the message gives it.',
  OX_NOT_STARTED: 'A call needing the running OX System connector came before it started; it is retried.',
  OX_STOPPED:
    'The OX System connector stopped while a request ran; the request is abandoned and retried after a restart.',
  BRIDGE_AUTH_REJECTED:
    'The bridge refused the credentials (HTTP 401/403). Check those configured for the bridge account.',
  BRIDGE_NOT_FOUND: 'The bridge answered HTTP 404: the URL does not point at an /api/v2 bridge.',
  BRIDGE_MALFORMED_RESPONSE: 'An answer from the bridge is not JSON or not the shape /api/v2 returns.',
  BRIDGE_PROTOCOL_UNSUPPORTED:
    'The bridge speaks a protocol version this agent does not; nothing was fetched.',
  BRIDGE_BILL_NOT_FOUND: 'A cashier asked for a bill number the bridge does not list.',
  BRIDGE_BILL_AMBIGUOUS: 'Several bills have the number asked for; fiscalize one by id.',
  BRIDGE_REPORT_UNAVAILABLE:
    'A fiscalized job cannot become a ReceiptCreated event (no fiscal data, a foreign bill).',
  BRIDGE_REPORT_MALFORMED: 'An outbox entry is not a ReceiptCreated draft of this connector (dead letter).',
  BRIDGE_DELIVERY_FAILED:
    'Delivering a report to the bridge failed for a reason it did not name; it is retried.',
  MOYSKLAD_API_ERROR:
    'MoySklad refused a request with an error code the agent does not classify; the message gives it.',
  MOYSKLAD_REPAIR_REQUIRED:
    'MoySklad no longer accepts the store token. Run `kkt-agent moysklad pair` again; reports wait.',
  MOYSKLAD_RATE_LIMITED:
    'MoySklad kept refusing for its rate limit after the allowed waits; the request is retried later.',
  MOYSKLAD_UNAVAILABLE: 'MoySklad is down or in maintenance after the retries; the request is retried later.',
  MOYSKLAD_SUM_MISMATCH: 'MoySklad refused a retail demand whose payments differ from its sum (error 18000).',
  MOYSKLAD_DUPLICATE:
    'MoySklad refused a duplicate (error 3006); a duplicate syncId means the report was accepted before.',
  MOYSKLAD_SHIFT_UNKNOWN: 'MoySklad does not know the retail shift a document refers to (error 12012).',
  MOYSKLAD_MALFORMED_RESPONSE: 'An answer from MoySklad is not what posap 1.0 returns.',
  MOYSKLAD_CREDENTIALS_UNUSABLE:
    'The stored MoySklad credentials cannot be used. Run `kkt-agent moysklad pair` to create them.',
  MOYSKLAD_ORDER_NOT_FOUND: 'A cashier asked for a customer order posap does not return to this store.',
  MOYSKLAD_ORDER_AMBIGUOUS: 'Several customer orders match what was asked for; name one by id.',
  MOYSKLAD_BILL_UNSUPPORTED:
    'A MoySklad order cannot become a bill (the message names the field); it is not fiscalized.',
  MOYSKLAD_REPORT_UNAVAILABLE: 'A fiscalized job cannot become a MoySklad report; the message says why.',
  MOYSKLAD_REQUEST_ABORTED:
    'A request was abandoned while it waited for a rate-limit slot (the connector stopped).',
  MOYSKLAD_NO_STORES: 'Pairing: the MoySklad account has no retail stores.',
  MOYSKLAD_STORE_AMBIGUOUS:
    'Pairing: the account has several retail stores (or several match); name one with --store.',
  MOYSKLAD_STORE_NOT_FOUND: 'Pairing: no retail store has the name given to --store.',
  MOYSKLAD_LOGIN_REJECTED: 'Pairing: MoySklad refused the login or password (or the user is blocked).',
  MOYSKLAD_STORE_ALREADY_ATTACHED:
    'Pairing: the store is attached to another device; re-run with --force if that is intended.',
  OX_AUTH_REJECTED: 'OX System refused the session token (HTTP 401/403); the connector logs in again.',
  OX_LOGIN_REJECTED: 'OX System refused the login. Check username, password and subdomain.',
  OX_NOT_FOUND: 'OX System answered HTTP 404. Check the route templates: the defaults are unconfirmed.',
  OX_MALFORMED_RESPONSE: 'An answer from OX System is unusable; the message names the field.',
  OX_PAYMENT_METHOD_MISSING:
    "A cashdesk has no active payment method of a kind; set payments.<type>MethodId in the account's config.",
  OX_SELL_STATE: 'A sell in OX System cannot be updated in its state; the message says why.',
  OX_REPORT_MALFORMED: 'An outbox entry is not a sell report of this connector (dead letter).',
  OX_DELIVERY_FAILED: 'Delivering a report to OX System failed for a reason it did not name; it is retried.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry {
    connectors: CodesIn<typeof CONNECTORS_ERROR_CODES>;
  }
}

/** The prefix of each cloud's codes (`BRIDGE_TIMEOUT`, `OX_STOPPED`…). */
export type CloudCodePrefix = 'BRIDGE' | 'MOYSKLAD' | 'OX';
