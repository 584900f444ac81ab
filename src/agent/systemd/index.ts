export { SystemdNotifyError } from './errors.js';
export { SystemdIntegration, type SystemdIntegrationOptions } from './integration.js';
export {
  type DatagramSender,
  formatNotifyMessage,
  type NotifyFields,
  type SystemdEnv,
  SystemdNotifier,
} from './notify.js';
export { listenUnixDatagram, sendUnixDatagram, type UnixDatagramListener } from './unixDatagram.js';
export {
  type LivenessProbe,
  type SystemdLogger,
  Watchdog,
  type WatchdogHealth,
  type WatchdogNotifier,
  type WatchdogOptions,
  watchdogTimeoutMsFromEnv,
} from './watchdog.js';
