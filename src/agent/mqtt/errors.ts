import { KktAgentError } from '../../lib/errors.js';

/** Something about the MQTT face went wrong; `code` says what (MQTT_NOT_CONNECTED, MQTT_SIGNATURE_INVALID…). */
export class MqttError extends KktAgentError {}

export class MqttNotConnectedError extends MqttError {
  constructor(action: string) {
    super('MQTT_NOT_CONNECTED', `Cannot ${action}: the agent is not connected to the MQTT broker.`);
  }
}

export class MqttPublishError extends MqttError {
  constructor(topic: string, reason: string, cause?: unknown) {
    super('MQTT_PUBLISH_FAILED', `Publishing to ${topic} failed: ${reason}`, { topic }, { cause });
  }
}

/** A command or desired config that must be signed was not, or its signature does not match. */
export class MqttSignatureError extends MqttError {}
