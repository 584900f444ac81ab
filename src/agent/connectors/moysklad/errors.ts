import { type ErrorCode, KktAgentError } from '../../../lib/errors.js';
import { cloudTransportErrors } from '../http/errors.js';

/**
 * What can go wrong talking to MoySklad's POS API (posap 1.0). `endpoint` is the request as a technician
 * would type it (`PUT /rpc/openshift/`): never a token, a password or a cashier's credentials.
 */

/** One entry of MoySklad's `{"errors":[…]}` body (docs/protocol/moysklad-posap.md §5). */
export interface MoyskladApiErrorItem {
  code?: number;
  error?: string;
  parameter?: string;
  moreInfo?: string;
}

/**
 * English meanings of the posap codes the agent may meet (docs/protocol/moysklad-posap.md §5); the server's
 * text is kept too.
 */
export const MOYSKLAD_ERROR_MEANINGS: Readonly<Record<number, string>> = {
  1021: 'object not found',
  1035: 'bad date format',
  1044: 'request larger than 10 MB',
  1048: 'too many login attempts',
  1049: 'request-rate limit exceeded',
  1052: 'bad UUID',
  1056: 'authentication failed',
  1057: 'no /syncid/ in meta.href',
  1062: 'bad Accept header',
  1065: 'concurrent modification',
  1073: 'parallel-request limit exceeded',
  1074: 'maintenance in progress',
  2001: 'the request is not JSON',
  2016: 'a field has the wrong type',
  2025: 'bad date format',
  3000: 'a required field is missing',
  3005: 'bad enum value',
  3006: 'uniqueness violated',
  3008: 'value above 9 999 999 999',
  4000: 'the retail store is not active',
  12003: 'the shift is in the recycle bin',
  12006: 'retailShift missing or malformed (open)',
  12007: 'retailShift missing or malformed (close)',
  12008: 'shift name missing',
  12009: 'openmoment missing',
  12010: 'closemoment missing',
  12012: 'the shift does not exist',
  12013: 'the user is not a cashier of this store',
  12016: 'the cashier is deactivated',
  12017: 'token wrong or expired',
  12018: 'session only allowed for an attached store',
  12021: "cannot close another store's shift",
  12022: 'the user is not a cashier anywhere',
  12023: 'the shift is in the recycle bin',
  12025: 'wrong login or password',
  16010: 'vatEnabled without vat (product)',
  17007: 'VAT above 100',
  17008: 'discount above 100',
  17021: 'vatEnabled without vat (position)',
  18000: 'payment sums differ from the document sum',
  47000: 'tariff limit',
};

/** Codes that mean the store's token or cashier is no longer accepted: a person must pair again. */
export const AUTH_ERROR_CODES: ReadonlySet<number> = new Set([
  1056, 12013, 12016, 12017, 12018, 12022, 12025,
]);
/** Codes that mean "slow down" (docs/protocol/moysklad-posap.md §5, §6). */
export const RATE_LIMIT_CODES: ReadonlySet<number> = new Set([1049, 1073]);
/** Codes worth retrying later without anyone's help. */
export const TRANSIENT_CODES: ReadonlySet<number> = new Set([1065, 1074]);

function describeCodes(errors: readonly MoyskladApiErrorItem[]): string {
  const parts = errors.slice(0, 3).map((item) => {
    const meaning = item.code === undefined ? undefined : MOYSKLAD_ERROR_MEANINGS[item.code];
    const head = item.code === undefined ? 'error' : `${item.code}${meaning ? ` (${meaning})` : ''}`;
    const parameter = item.parameter ? ` [${item.parameter}]` : '';
    return item.error ? `${head}${parameter}: ${truncate(item.error, 200)}` : `${head}${parameter}`;
  });
  return parts.join('; ');
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * The transport errors (http/errors.ts makes them for every cloud): unreachable, timeout, an answer over
 * the byte cap.
 */
export const {
  UnreachableError: MoyskladUnreachableError,
  TimeoutError: MoyskladTimeoutError,
  ResponseTooLargeError: MoyskladResponseTooLargeError,
} = cloudTransportErrors({
  codePrefix: 'MOYSKLAD',
  label: 'MoySklad',
  className: 'Moysklad',
  unreachableHint: 'Check the network.',
});

/** The answer is not JSON, or not the shape posap documents for the endpoint. */
export class MoyskladMalformedResponseError extends KktAgentError {
  constructor(account: string, endpoint: string, reason: string, cause?: unknown) {
    super(
      'MOYSKLAD_MALFORMED_RESPONSE',
      `MoySklad ${account}: the answer to ${endpoint} is not what posap 1.0 returns: ${reason}`,
      { account, endpoint, reason },
      { cause },
    );
  }
}

/**
 * A non-2xx answer. `apiCode` is the first `errors[].code` (the HTTP status when there is none);
 * subclasses name the cases the agent treats differently.
 */
export class MoyskladApiError extends KktAgentError {
  readonly status: number;
  readonly apiCode: number;
  readonly errors: readonly MoyskladApiErrorItem[];
  readonly endpoint: string;

  constructor(
    account: string,
    endpoint: string,
    status: number,
    errors: readonly MoyskladApiErrorItem[],
    code: ErrorCode = 'MOYSKLAD_API_ERROR',
    hint = '',
  ) {
    const apiCode = errors.find((item) => item.code !== undefined)?.code ?? status;
    const described = errors.length > 0 ? describeCodes(errors) : 'no error body';
    super(code, `MoySklad ${account}: ${endpoint} answered HTTP ${status}: ${described}.${hint}`, {
      account,
      endpoint,
      status,
      apiCode,
      errors: errors.slice(0, 5),
    });
    this.status = status;
    this.apiCode = apiCode;
    this.errors = errors;
    this.endpoint = endpoint;
  }

  hasCode(code: number): boolean {
    return this.apiCode === code || this.errors.some((item) => item.code === code);
  }
}

/** 401 or an auth code (12017 above all): the token is gone. `repairRequired`: run `moysklad pair` again. */
export class MoyskladAuthError extends MoyskladApiError {
  readonly repairRequired = true;

  constructor(account: string, endpoint: string, status: number, errors: readonly MoyskladApiErrorItem[]) {
    super(
      account,
      endpoint,
      status,
      errors,
      'MOYSKLAD_REPAIR_REQUIRED',
      ' MoySklad no longer accepts this store token (another device may have attached the store). ' +
        'Run `kkt-agent moysklad pair` again; queued reports wait and are sent once it is done.',
    );
  }
}

/** 429, 1049 or 1073, still refused after the allowed waits. */
export class MoyskladRateLimitError extends MoyskladApiError {
  readonly retryAfterMs: number | undefined;

  constructor(
    account: string,
    endpoint: string,
    status: number,
    errors: readonly MoyskladApiErrorItem[],
    retryAfterMs: number | undefined,
  ) {
    super(account, endpoint, status, errors, 'MOYSKLAD_RATE_LIMITED');
    this.retryAfterMs = retryAfterMs;
  }
}

/** 5xx or 1074 (maintenance), still failing after the retries. */
export class MoyskladUnavailableError extends MoyskladApiError {
  constructor(account: string, endpoint: string, status: number, errors: readonly MoyskladApiErrorItem[]) {
    super(account, endpoint, status, errors, 'MOYSKLAD_UNAVAILABLE');
  }
}

/** 18000: cashSum + noCashSum + qrSum + prepayments differ from the document sum by more than 10 kopecks. */
export class MoyskladSumMismatchError extends MoyskladApiError {
  constructor(account: string, endpoint: string, status: number, errors: readonly MoyskladApiErrorItem[]) {
    super(account, endpoint, status, errors, 'MOYSKLAD_SUM_MISMATCH');
  }
}

/** 3006: a uniqueness rule was violated (a syncId or a document number that already exists). */
export class MoyskladDuplicateError extends MoyskladApiError {
  constructor(account: string, endpoint: string, status: number, errors: readonly MoyskladApiErrorItem[]) {
    super(account, endpoint, status, errors, 'MOYSKLAD_DUPLICATE');
  }

  /** True when the duplicate is the syncId itself, i.e. this very create was accepted before. */
  get isSyncIdDuplicate(): boolean {
    return this.errors.some(
      (item) => item.code === 3006 && /sync|meta/i.test(`${item.parameter ?? ''} ${item.error ?? ''}`),
    );
  }
}

/** 12012: the shift a document or a close refers to does not exist in MoySklad. */
export class MoyskladShiftUnknownError extends MoyskladApiError {
  constructor(account: string, endpoint: string, status: number, errors: readonly MoyskladApiErrorItem[]) {
    super(account, endpoint, status, errors, 'MOYSKLAD_SHIFT_UNKNOWN');
  }
}

/** The classified error for a non-2xx answer. */
export function apiErrorFrom(
  account: string,
  endpoint: string,
  status: number,
  errors: readonly MoyskladApiErrorItem[],
  retryAfterMs?: number,
): MoyskladApiError {
  const codes = new Set(errors.flatMap((item) => (item.code === undefined ? [] : [item.code])));
  const has = (set: ReadonlySet<number>) => [...codes].some((code) => set.has(code));
  if (status === 429 || has(RATE_LIMIT_CODES)) {
    return new MoyskladRateLimitError(account, endpoint, status, errors, retryAfterMs);
  }
  if (status === 401 || has(AUTH_ERROR_CODES))
    return new MoyskladAuthError(account, endpoint, status, errors);
  if (status >= 500 || has(TRANSIENT_CODES)) {
    return new MoyskladUnavailableError(account, endpoint, status, errors);
  }
  if (codes.has(18000)) return new MoyskladSumMismatchError(account, endpoint, status, errors);
  if (codes.has(3006)) return new MoyskladDuplicateError(account, endpoint, status, errors);
  if (codes.has(12012)) return new MoyskladShiftUnknownError(account, endpoint, status, errors);
  return new MoyskladApiError(account, endpoint, status, errors);
}

/** The credentials file is missing, unreadable or not what `moysklad pair` writes. */
export class MoyskladCredentialsError extends KktAgentError {
  constructor(path: string, reason: string, cause?: unknown) {
    super(
      'MOYSKLAD_CREDENTIALS_UNUSABLE',
      `MoySklad credentials ${path}: ${reason}. Run \`kkt-agent moysklad pair\` to create them.`,
      { path, reason },
      { cause },
    );
  }
}

/** Pairing could not pick or attach a store. */
export class MoyskladPairingError extends KktAgentError {
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
  }
}

/** The connector was asked to do something before it started (its credentials are not loaded yet). */
/** A command named a customer order that MoySklad does not return (or returns more than once). */
export class MoyskladOrderLookupError extends KktAgentError {
  constructor(account: string, what: string, found: number) {
    super(
      found === 0 ? 'MOYSKLAD_ORDER_NOT_FOUND' : 'MOYSKLAD_ORDER_AMBIGUOUS',
      found === 0
        ? `MoySklad ${account}: no customer order ${what} among the orders posap returns to this store.`
        : `MoySklad ${account}: ${found} customer orders match ${what}; fiscalize one by id.`,
      { account, what, found },
    );
  }
}

/** An operation or order that cannot become a bill (unsupported type, VAT, amounts that do not add up). */
export class MoyskladBillError extends KktAgentError {
  readonly field: string;

  constructor(field: string, reason: string) {
    super('MOYSKLAD_BILL_UNSUPPORTED', `${field}: ${reason}`, { field, reason });
    this.field = field;
  }
}

/** A drafted report that cannot be delivered as it stands (not this connector's, or no shift to put it in). */
export class MoyskladReportError extends KktAgentError {
  constructor(account: string, reason: string, details: Record<string, unknown> = {}) {
    super('MOYSKLAD_REPORT_UNAVAILABLE', `MoySklad ${account}: ${reason}`, { account, ...details });
  }
}
