export { OxClient, type OxClientOptions, type OxTokenStatus, type SellListPage } from './client.js';
export {
  OX_DEFAULT_LIST_QUERY,
  OX_DEFAULT_ROUTES,
  OX_ROUTE_PLACEHOLDERS,
  OX_SELL_KINDS,
  type OxAccountConfig,
  type OxAccountInput,
  type OxListQuery,
  type OxRouteName,
  type OxRoutes,
  type OxSellKind,
  oxAccountSchema,
} from './config.js';
export { OX_CLOUD, type OxConnectorOptions, OxSystemConnector } from './connector.js';
export {
  OxAuthError,
  OxHttpStatusError,
  OxMalformedResponseError,
  OxPaymentMethodError,
  OxResponseTooLargeError,
  OxSellStateError,
  OxTimeoutError,
  OxUnreachableError,
} from './errors.js';
export {
  type MapOxSellInput,
  mapOxSell,
  OX_SOURCE,
  type OxAddedPayment,
  type OxPositionSource,
  type OxSourceData,
  oxSourceDataSchema,
  readOxSourceData,
  splitLine,
} from './mapping.js';
export {
  appendFiscalNote,
  FISCAL_NOTE_MARKER,
  type FiscalNote,
  fiscalNoteOf,
  formatFiscalNote,
  hasFiscalNote,
  parseFiscalNote,
} from './note.js';
export {
  classifySell,
  type OxSellClass,
  type Selection,
  type SelectionPolicy,
  selectSell,
} from './selection.js';
export { OX_REPORT_KIND, type OxReportPayload, oxReportPayloadSchema } from './sink.js';
export { OX_CURSOR_KEY, type OxPollResult } from './source.js';
export { formatOxDateTime, OX_DATETIME_PATTERN, oxInstant, oxTimeToIso } from './time.js';
export { jwtExpirySeconds, type TokenTimes, tokenTimes } from './token.js';
export { OX_CURRENCY, type OxCashdesk, type OxSell, type OxSellRecord, type OxVariation } from './wire.js';
