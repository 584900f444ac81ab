export {
  type HotplugEvent,
  type HotplugSource,
  UsbBinaryUnsupportedError,
  UsbPackageHotplug,
  type UsbPackageHotplugOptions,
  usbBinaryRunsHere,
} from './hotplug.js';
export { type AtolSerialPortCandidate, listAtolSerialPorts } from './serialPorts.js';
export {
  ATOL_USB_VENDOR_ID,
  type AtolUsbDevice,
  type AtolUsbPort,
  type SysfsScanOptions,
  scanAtolUsbDevices,
} from './sysfs.js';
export {
  type AtolUsbWarning,
  AtolUsbWatcher,
  type AtolUsbWatcherOptions,
  watchAtolDevices,
} from './watcher.js';
