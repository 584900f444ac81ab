/**
 * The second ATOL backend: ATOL driver 10's web server (`http://127.0.0.1:16732/api/v2/`), for platform
 * 5.0 registers and registers whose OFD traffic the driver relays. See docs/atol-backends.md.
 */
export {
  FISCAL_DOCUMENT_TYPES,
  type TaskResult,
  type TaskVerdict,
  taskVerdict,
  type WebKktStatus,
} from './answers.js';
export {
  AtolWebClient,
  type AtolWebClientOptions,
  DEFAULT_WEB_SERVER_URL,
  type LookupOutcome,
  type SettleOutcome,
  type SubmitOutcome,
} from './client.js';
export { parseDeviceDate, parseDeviceDateTime } from './dateTime.js';
export {
  DRIVER_CODE_BY_EXTENDED_CODE,
  DRIVER_CODE_BY_PROTOCOL_CODE,
  DriverError,
  describeDriverError,
  KktDriverError,
  PROTOCOL_CODE_BY_DRIVER_CODE,
  UNCERTAIN_DRIVER_CODES,
  UNREACHABLE_DRIVER_CODES,
} from './driverErrors.js';
export { KktWebError, KktWebExchangeError, KktWebRejectedError, KktWebUnreachableError } from './errors.js';
export { type MarkingRefusal, markingVerdict } from './markingAnswers.js';
export { type JsonTask, receiptTask, roubles, type TaskOperator, units } from './tasks.js';
export {
  AtolWebKkt,
  type AtolWebKktEvents,
  type AtolWebKktOptions,
  type FiscalRequest,
  type FiscalRequestState,
  MAX_REQUEST_CHAIN,
  requestUuid,
} from './webKkt.js';
