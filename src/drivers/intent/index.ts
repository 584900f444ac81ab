/** SmartX (iKassa, Belarus) intent terminal: HTTP client, result codes, SSDP discovery and the wire format. */

export {
  buildMSearch,
  DEFAULT_DISCOVERY_TIMEOUT_MS,
  type DiscoveredIntentTerminal,
  discoverIntentTerminal,
  type IntentDiscoveryOptions,
  isSearchReplyFor,
  parseSsdpMessage,
  SMARTX_SEARCH_TARGET,
  SSDP_MULTICAST_ADDRESS,
  SSDP_PORT,
} from './discovery.js';
export { endpointFromBaseUrl, endpointFromReply, SMARTX_HTTP_PORT, SMARTX_PATH } from './endpoint.js';
export {
  IntentAuthFailedError,
  IntentError,
  IntentNoAnswerError,
  IntentOutcomeUnknownError,
  type IntentOutcomeUnknownReason,
  IntentResultError,
  IntentTerminalNotFoundError,
  IntentUnreachableError,
} from './errors.js';
export {
  AUTH_RESULT_CODES,
  INTENT_RESULT_CODES,
  INTENT_UNKNOWN_RESULT_CODE,
  type IntentResultCategory,
  type IntentResultCodeInfo,
  type IntentResultErrorCode,
  RESULT_CODE_OK,
  resultCodeInfo,
} from './resultCodes.js';
export {
  encodeSale,
  type IntentMarking,
  type IntentModifier,
  type IntentPrintBlock,
  type IntentSale,
  type IntentSaleItem,
  type IntentSection,
  validateSale,
} from './sale.js';
export {
  DEFAULT_AUTH_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_SALE_TIMEOUT_MS,
  type IntentLogger,
  type IntentSaleOptions,
  IntentTerminal,
  type IntentTerminalOptions,
  type IntentTerminalStatus,
} from './terminal.js';
export { AUTH_TOKEN_HEADER, INTENT_OPERATION_HEADER } from './transport.js';
export * from './wireDecimal.js';
export type { IntentPayment, IntentSaleResult } from './wireResponse.js';
