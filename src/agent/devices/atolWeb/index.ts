export { AtolWebDevice, type AtolWebDeviceOptions, RequestStillRunningError } from './atolWebDevice.js';
export { type AtolWebDeviceConfig, type AtolWebDeviceInput, atolWebDeviceSchema } from './config.js';
