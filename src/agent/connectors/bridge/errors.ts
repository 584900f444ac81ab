import { KktAgentError } from '../../../lib/errors.js';
import { cloudTransportErrors } from '../http/errors.js';

/**
 * What can go wrong talking to a CRM bridge. `endpoint` is the request as a technician would type it
 * (`GET /api/v2/list?number=1307620`): never the base URL's credentials, never a token.
 */

/**
 * The transport errors (http/errors.ts makes them for every cloud): unreachable, timeout, an answer over
 * the byte cap, a non-2xx status.
 */
export const {
  UnreachableError: BridgeUnreachableError,
  TimeoutError: BridgeTimeoutError,
  ResponseTooLargeError: BridgeResponseTooLargeError,
  HttpStatusError: BridgeHttpStatusError,
} = cloudTransportErrors(
  {
    codePrefix: 'BRIDGE',
    label: 'Bridge',
    className: 'Bridge',
    unreachableHint: 'Check the network and the bridge URL.',
  },
  {
    codeOf: (status) =>
      status === 401 || status === 403
        ? { code: 'BRIDGE_AUTH_REJECTED', hint: 'Check the credentials configured for this bridge account.' }
        : status === 404
          ? { code: 'BRIDGE_NOT_FOUND' }
          : undefined,
  },
);

/** The answer is not JSON, or not the shape the endpoint returns (HELLO, LIST). */
export class BridgeMalformedResponseError extends KktAgentError {
  readonly endpoint: string;

  constructor(account: string, endpoint: string, reason: string, cause?: unknown) {
    super(
      'BRIDGE_MALFORMED_RESPONSE',
      `Bridge ${account}: the answer to ${endpoint} is not what the /api/v2 protocol returns: ${reason}`,
      { account, endpoint, reason },
      { cause },
    );
    this.endpoint = endpoint;
  }
}

/** HELLO reported a protocol version this agent does not speak. */
export class BridgeProtocolError extends KktAgentError {
  readonly protocol: string;

  constructor(account: string, protocol: string, expected: string) {
    super(
      'BRIDGE_PROTOCOL_UNSUPPORTED',
      `Bridge ${account} speaks protocol "${protocol}"; this agent speaks "${expected}". Nothing was fetched.`,
      { account, protocol, expected },
    );
    this.protocol = protocol;
  }
}

/** A cashier asked for a bill number that LIST does not return (or returns more than once). */
export class BridgeBillLookupError extends KktAgentError {
  constructor(account: string, number: string, found: number) {
    super(
      found === 0 ? 'BRIDGE_BILL_NOT_FOUND' : 'BRIDGE_BILL_AMBIGUOUS',
      found === 0
        ? `Bridge ${account}: no bill with number "${number}".`
        : `Bridge ${account}: ${found} different bills have the number "${number}"; fiscalize one by id.`,
      { account, number, found },
    );
  }
}

/** A fiscalized job that cannot be turned into a ReceiptCreated event (no fiscal data, foreign bill…). */
export class BridgeReportError extends KktAgentError {
  constructor(account: string, jobId: string, reason: string) {
    super('BRIDGE_REPORT_UNAVAILABLE', `Bridge ${account}: no ReceiptCreated for job ${jobId}: ${reason}`, {
      account,
      jobId,
      reason,
    });
  }
}
