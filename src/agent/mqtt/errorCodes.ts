import type { CodesIn } from '../../lib/errors.js';

/**
 * The codes of the MQTT service's errors (commands, remote config, the receipt sink, the connection), with
 * what each means (docs/errors.md is made from this list).
 */
export const MQTT_ERROR_CODES = {
  MQTT_NOT_CONNECTED: 'The agent is not connected to the broker; receipts wait, commands cannot be answered.',
  MQTT_PUBLISH_FAILED: 'Publishing to the broker failed; a receipt is retried.',
  MQTT_CONNECTION_CLOSED:
    'The broker closed the connection before accepting it (CONNACK). Check the broker address and credentials.',
  MQTT_SUBSCRIBE_REFUSED: "The broker refused a subscription. Check the broker's ACL for this agent.",
  MQTT_SESSION_WRITE_FAILED:
    'The MQTT session state could not be saved; the connection waits and tries again.',
  MQTT_ERROR: 'The MQTT client reported an error without a code; the message has the details.',
  MQTT_FILE_UNREADABLE: 'A file the MQTT config names (CA, certificate, key, password) cannot be read.',
  MQTT_UNKNOWN_COMMAND: 'A command topic names a command the agent does not know.',
  MQTT_CMDID_REUSED: 'A command reused a cmdId already used for another command; it was not run.',
  MQTT_PAYLOAD_TOO_LARGE: 'A command or desired config payload is larger than accepted; it was not read.',
  MQTT_COMMAND_EXPIRED:
    'A command was issued outside the window the agent accepts (issuedAt too old or in the future).',
  MQTT_COMMAND_OUTCOME_UNKNOWN:
    'The agent restarted while a command ran; it was not run again. Check the status or the journal.',
  MQTT_RESPONSE_TOPIC_REFUSED: "A command's response topic is outside what the agent publishes to.",
  MQTT_SIGNATURE_REQUIRED: 'The agent accepts signed messages only: send {"payload", "sig"}.',
  MQTT_SIGNATURE_INVALID: 'The signature does not match (wrong key, or the message was altered).',
  MQTT_UNKNOWN_REPORT: 'The mqtt sink was given a report kind it does not deliver (dead letter).',
  CONFIG_VERSION_NOT_NEWER:
    'A desired config does not have a version above the one in effect; nothing changed.',
  REMOTE_CONFIG_UNREADABLE: 'The stored remote config cannot be read; the config file is used.',
  REMOTE_CONFIG_OLDER: "The stored remote config's version is not above the file's; the file is used.",
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry {
    mqtt: CodesIn<typeof MQTT_ERROR_CODES>;
  }
}
