export {
  type NonfiscalDeviceConfig,
  type NonfiscalDeviceInput,
  nonfiscalDeviceSchema,
  nonfiscalDirectory,
} from './config.js';
export {
  createNonfiscalDevice,
  NONFISCAL_COUNTER_FILE,
  NonfiscalDevice,
  type NonfiscalDeviceOptions,
  NonfiscalOutcomeUnknownError,
  receiptFileName,
} from './nonfiscalDevice.js';
export {
  formatAmount,
  formatTrailer,
  parseTrailer,
  type ReceiptTrailer,
  renderReceipt,
} from './receiptText.js';
