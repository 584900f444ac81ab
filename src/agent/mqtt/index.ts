export { type MqttConfig, type MqttConfigInput, mqttConfigSchema } from './config.js';
export {
  changedPaths,
  combineConfigs,
  LOCAL_ONLY_PATHS,
  planChange,
  RemoteConfigFile,
  resolveStartupConfig,
  restartRequiredPaths,
  type StartupConfig,
} from './configStore.js';
export { type EmbeddedBroker, startEmbeddedBroker } from './embeddedBroker.js';
export { type LiveApplier, type LiveLogger, withLiveLevels } from './liveConfig.js';
export { MQTT_RECEIPT_KIND, MqttReceiptSink, type ReceiptEvent } from './receiptSink.js';
export { type ConfigReported, RemoteConfigManager } from './remoteConfig.js';
export { RemoteServices } from './remoteServices.js';
export { MqttService, mqttIdentity, type PresencePayload } from './service.js';
export { openEnvelope, signatureOf, signEnvelope } from './signing.js';
export { MqttTopics } from './topics.js';
