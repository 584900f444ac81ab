export {
  apiRootOf,
  BRIDGE_PROTOCOL_VERSION,
  BridgeClient,
  type BridgeClientOptions,
  type BridgeHello,
  type BridgeListFilter,
  type BridgeListItem,
  type BridgePostResult,
  DEFAULT_MAX_RESPONSE_BYTES,
} from './client.js';
export {
  BRIDGE_PAYMENT_TYPES,
  BRIDGE_USER_ID_PATTERN,
  type BridgeAccountConfig,
  type BridgeAccountInput,
  type BridgeAuth,
  type BridgePaymentType,
  bridgeAccountSchema,
  bridgeAuthSchema,
  EVOTOR_ID_PATTERN,
} from './config.js';
export { BRIDGE_CLOUD, BridgeConnector, type BridgeConnectorOptions } from './connector.js';
export {
  BridgeBillLookupError,
  BridgeHttpStatusError,
  BridgeMalformedResponseError,
  BridgeProtocolError,
  BridgeReportError,
  BridgeResponseTooLargeError,
  BridgeTimeoutError,
  BridgeUnreachableError,
} from './errors.js';
export {
  type BridgeIdentity,
  type BuildReceiptCreatedInput,
  buildReceiptCreated,
  type PaymentSource,
  paymentSourceOf,
  RECEIPT_CREATED_TYPE,
  RECEIPT_CREATED_VERSION,
  RECEIPT_CUSTOMER_KEYS,
  type ReceiptCreatedCustomer,
  type ReceiptCreatedData,
  type ReceiptCreatedDraft,
  type ReceiptCreatedEvent,
  type ReceiptCreatedItem,
  type ReceiptCreatedPayload,
  receiptCreatedPayloadSchema,
  withTimestamp,
} from './event.js';
export {
  generateEvotorId,
  generateUserId,
  IDENTITY_KEYS,
  IDENTITY_STORE_KEY,
  type IdentityKey,
  type ResolvedIdentity,
  resolveBridgeIdentity,
} from './identity.js';
export {
  BRIDGE_CURRENCY,
  BRIDGE_SOURCE,
  type BridgeSourceData,
  type BridgeSourceProduct,
  bridgeSourceDataSchema,
  type MapBridgeBillOptions,
  mapBridgeBill,
  type RawBridgeBill,
  readBridgeSourceData,
} from './mapping.js';
export { RECEIPT_CREATED_KIND } from './sink.js';
export type { BridgePollResult, FiscalizeOptions } from './source.js';
