/**
 * ATOL driver 10's web server (`/api/v2/requests`, docs/protocol/atol-v3.md §12) in front of the emulated register, for
 * the `atol-web` backend's tests and the demo. See docs/atol-backends.md.
 */
export {
  type AtolWebEmulatorCliOptions,
  atolWebEmulatorCliOptionsSchema,
  runAtolWebEmulatorCli,
} from './cli.js';
export { fnDocumentResult } from './documentTlv.js';
export {
  NO_WEB_FAULTS,
  splitWebFaultSpecs,
  WEB_FAULT_DEFAULTS,
  WEB_FAULT_NAMES,
  type WebFaultName,
  type WebFaultSettings,
  type WebFaultSpec,
} from './faults.js';
export { TaskFailure } from './registerPort.js';
export {
  AtolWebEmulator,
  type AtolWebEmulatorEvents,
  type AtolWebEmulatorOptions,
  DEFAULT_WEB_EMULATOR_PORT,
  startAtolWebEmulator,
  type WebFaultTarget,
  type WebRequestEvent,
  type WebTaskEvent,
  type WebTaskStatus,
} from './server.js';
