export {
  ACCEPT,
  CONTENT_TYPE,
  headerMs,
  type MoyskladAnswer,
  type MoyskladAuth,
  MoyskladClient,
  type MoyskladClientOptions,
  type MoyskladClientStats,
  parseErrorItems,
} from './client.js';
export {
  MOYSKLAD_MODES,
  MOYSKLAD_PAYMENT_TYPES,
  type MoyskladAccountConfig,
  type MoyskladAccountInput,
  type MoyskladMode,
  type MoyskladPaymentType,
  moyskladAccountSchema,
} from './config.js';
export { MOYSKLAD_CLOUD, MoyskladConnector, type MoyskladConnectorOptions } from './connector.js';
export {
  CREDENTIALS_VERSION,
  type LoadedCredentials,
  type MoyskladCredentials,
  moyskladCredentialsSchema,
  readCredentials,
  writeCredentials,
} from './credentials.js';
export {
  AUTH_ERROR_CODES,
  apiErrorFrom,
  MOYSKLAD_ERROR_MEANINGS,
  MoyskladApiError,
  type MoyskladApiErrorItem,
  MoyskladAuthError,
  MoyskladBillError,
  MoyskladCredentialsError,
  MoyskladDuplicateError,
  MoyskladMalformedResponseError,
  MoyskladOrderLookupError,
  MoyskladPairingError,
  MoyskladRateLimitError,
  MoyskladReportError,
  MoyskladResponseTooLargeError,
  MoyskladShiftUnknownError,
  MoyskladSumMismatchError,
  MoyskladTimeoutError,
  MoyskladUnavailableError,
  MoyskladUnreachableError,
  RATE_LIMIT_CODES,
  TRANSIENT_CODES,
} from './errors.js';
export {
  type CustomerOrderSourceData,
  customerOrderBillId,
  customerOrderSkipReason,
  type MasterOperationKey,
  type MasterSourceData,
  MOYSKLAD_CURRENCY,
  MOYSKLAD_SOURCE,
  type MoyskladSourceData,
  mapCustomerOrder,
  mapMasterOperation,
  masterOperationKey,
  moyskladSourceDataSchema,
  parseCustomerOrder,
  readSourceData,
  vatTypeOf,
} from './mapping.js';
export {
  listRetailStores,
  type PairOptions,
  type PairResult,
  pairMoysklad,
  pickStore,
  type StoreSummary,
} from './pairing.js';
export {
  DEFAULT_RATE_LIMIT,
  RateLimiter,
  RateLimiterAbortedError,
  type RateLimiterOptions,
  type RateLimiterStats,
  type Release,
} from './rateLimiter.js';
export {
  type ApproveDraft,
  type ChequeDraft,
  type CloseShiftDraft,
  type OpenShiftDraft,
  REPORT_KINDS,
  type RejectDraft,
  type RetailDemandDraft,
  type ShiftRef,
} from './reports.js';
export { SHIFTS_STORE_KEY, type ShiftCheque, type ShiftRecord, ShiftRegistry } from './shifts.js';
export type { MoyskladPollResult } from './source.js';
export { buildStateBody, chequePrinterOf, type StateBody, stateFingerprint } from './state.js';
export {
  DEFAULT_BASE_URL,
  formatMoment,
  MOYSKLAD_TAX_SYSTEMS,
  type MoyskladTaxSystem,
  moyskladTaxSystemOf,
  syncIdHref,
  syncIdOf,
  taxationSystemOf,
} from './wire.js';
