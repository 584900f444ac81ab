/** The SmartX intent terminal emulator: a real HTTP server speaking the driver's wire format. */

export type { EmulatedSale } from './emulatedTerminal.js';
export type { IntentFault, IntentFaultKind } from './faults.js';
export { LINE_SUM_TOO_LARGE_TEXT, UNDERPAID_TEXT } from './saleRules.js';
export {
  type IntentEmulator,
  type IntentEmulatorOptions,
  type IntentEmulatorRequest,
  startIntentEmulator,
} from './server.js';
export type { SsdpResponderOptions } from './ssdpResponder.js';
