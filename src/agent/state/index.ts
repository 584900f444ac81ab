export { DEFAULT_STATE_CONFIG, type StateConfig, stateConfigSchema } from './config.js';
export {
  buildStateDocument,
  type DeviceState,
  type StateContext,
  type StateDocument,
  stateFingerprint,
} from './document.js';
export { StatePoster, type StatePosterConfig, type StatePosterStatus } from './poster.js';
export { StateReporter, type StateReporterOptions } from './reporter.js';
