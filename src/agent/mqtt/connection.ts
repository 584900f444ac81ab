import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { jitteredBackoffMs } from '../../lib/backoff.js';
import { type ErrorCode, errorMessage } from '../../lib/errors.js';
import type { MqttConfig } from './config.js';
import { MqttError, MqttNotConnectedError, MqttPublishError } from './errors.js';
import type { SessionCounter } from './sessionCounter.js';

/** A message as the agent sees it, with the MQTT 5 request/response properties when present. */
export interface InboundMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
  qos: number;
  responseTopic?: string;
  correlationData?: Buffer;
}

export interface ConnectionInfo {
  session: number;
  protocolVersion: 4 | 5;
  connectedAt: string;
  sessionPresent: boolean;
}

export interface MqttCredentials {
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface MqttConnectionOptions {
  config: MqttConfig;
  clientId: string;
  credentials: MqttCredentials;
  sessions: SessionCounter;
  /** The will of a session: the broker publishes it (retained, QoS 1) if that connection dies. */
  will: (session: number) => { topic: string; payload: string };
  /**
   * Runs for every inbound message before its PUBACK is sent. Incoming packets are processed one at a
   * time, so this must not wait for anything from the broker (a publish's PUBACK would never come).
   */
  onMessage: (message: InboundMessage) => Promise<void>;
  logger: Logger;
}

export interface PublishOptions {
  qos: 0 | 1;
  retain?: boolean;
  properties?: IPublishPacket['properties'];
}

interface ConnectionEvents {
  connected: [info: ConnectionInfo];
  disconnected: [reason: string];
}

/** CONNACK codes meaning "I do not speak MQTT 5": 1 (3.1.1 "unacceptable protocol version"), 132 (v5). */
const PROTOCOL_REFUSED = new Set([1, 132]);

function errorCode(error: unknown): number | string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'number' || typeof code === 'string') return code;
  }
  return undefined;
}

/**
 * One broker connection, kept up by its own reconnect loop (backoff with jitter) instead of mqtt.js's, so
 * that every CONNECT carries a will with a freshly incremented, durably stored session number. With
 * protocol `auto` it speaks MQTT 5 and falls back to 3.1.1 for good when the broker refuses version 5.
 */
export class MqttConnection extends EventEmitter<ConnectionEvents> {
  private client: MqttClient | undefined;
  private connecting: MqttClient | undefined;
  private info: ConnectionInfo | undefined;
  private protocol: 4 | 5;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly pending = new Set<(error: Error) => void>();
  private connects = 0;
  lastError: { code: string; message: string; at: string } | undefined;
  lastConnectedAt: string | undefined;

  constructor(private readonly options: MqttConnectionOptions) {
    super();
    this.protocol = options.config.protocol === '3.1.1' ? 4 : 5;
  }

  get connected(): boolean {
    return this.client?.connected === true && this.info !== undefined;
  }

  get connection(): ConnectionInfo | undefined {
    return this.connected ? this.info : undefined;
  }

  get protocolVersion(): 4 | 5 {
    return this.protocol;
  }

  /** Successful connects since start. */
  get connectCount(): number {
    return this.connects;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Publishes and resolves on PUBACK (QoS 1) or once written (QoS 0). Rejects when not connected. */
  publish(topic: string, payload: string | Buffer, options: PublishOptions): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) return Promise.reject(new MqttNotConnectedError(`publish to ${topic}`));
    const timeoutMs = this.options.config.publishTimeoutMs;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pending.delete(settle);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () => settle(new MqttPublishError(topic, `no acknowledgement within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.pending.add(settle);
      client.publish(
        topic,
        payload,
        { qos: options.qos, retain: options.retain ?? false, properties: options.properties },
        (error) => settle(error ? new MqttPublishError(topic, error.message, error) : undefined),
      );
    });
  }

  async subscribe(subscriptions: Array<{ topic: string; qos: 0 | 1 }>): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) throw new MqttNotConnectedError('subscribe');
    const granted = await client.subscribeAsync(
      Object.fromEntries(subscriptions.map((s) => [s.topic, { qos: s.qos }])),
    );
    const refused = granted.filter((g) => g.qos === 128 || g.qos > 2);
    if (refused.length > 0) {
      throw new MqttError(
        'MQTT_SUBSCRIBE_REFUSED',
        `The broker refused the subscription to ${refused.map((g) => g.topic).join(', ')} (check its ACL).`,
      );
    }
  }

  /**
   * Drops the connection without DISCONNECT, as a network failure would: the broker publishes the will,
   * and the loop reconnects with a new session.
   */
  dropConnection(): void {
    this.client?.stream.destroy();
  }

  /** Ends the connection cleanly (no will) and reconnects at once with a new session. */
  reconnect(): void {
    this.client?.end(false);
  }

  /**
   * Stops for good: `beforeDisconnect` runs while still connected (the offline presence), then DISCONNECT
   * is sent so the broker discards the will.
   */
  async stop(beforeDisconnect?: () => Promise<void>): Promise<void> {
    if (this.stopped) {
      await this.loop;
      return;
    }
    this.stopped = true;
    this.wake?.();
    this.connecting?.end(true);
    const client = this.client;
    if (client && this.connected) {
      try {
        await beforeDisconnect?.();
      } catch (error) {
        this.options.logger.warn({
          event: 'mqtt.stop.before-disconnect-failed',
          reason: errorMessage(error),
        });
      }
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    } else {
      client?.end(true);
    }
    await this.loop;
  }

  private async run(): Promise<void> {
    const { logger, config } = this.options;
    let failures = 0;
    while (!this.stopped) {
      let session: number;
      try {
        session = await this.options.sessions.next();
      } catch (error) {
        failures++;
        this.recordError('MQTT_SESSION_WRITE_FAILED' satisfies ErrorCode, errorMessage(error));
        logger.error({ event: 'mqtt.session-write-failed', reason: errorMessage(error) });
        await this.sleep(this.backoff(failures));
        continue;
      }
      const protocolVersion = this.protocol;
      const client = mqtt.connect(config.url, this.clientOptions(session, protocolVersion));
      client.on('error', (error) => {
        this.recordError(String(errorCode(error) ?? ('MQTT_ERROR' satisfies ErrorCode)), error.message);
        logger.debug({ event: 'mqtt.client-error', code: errorCode(error), reason: error.message });
      });
      client.handleMessage = (packet, done) => {
        this.options
          .onMessage({
            topic: packet.topic,
            payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
            retain: packet.retain,
            qos: packet.qos,
            responseTopic: packet.properties?.responseTopic,
            correlationData: packet.properties?.correlationData,
          })
          .catch((error: unknown) => {
            logger.error({
              event: 'mqtt.message-handler-failed',
              topic: packet.topic,
              reason: errorMessage(error),
            });
          })
          .finally(() => done());
      };
      this.connecting = client;
      const outcome = await this.awaitConnack(client);
      this.connecting = undefined;
      if ('error' in outcome) {
        client.end(true);
        if (this.stopped) break;
        const code = errorCode(outcome.error);
        if (config.protocol === 'auto' && protocolVersion === 5 && PROTOCOL_REFUSED.has(Number(code))) {
          this.protocol = 4;
          logger.info({ event: 'mqtt.protocol-fallback', from: 5, to: 4, code });
          continue;
        }
        failures++;
        const delayMs = this.backoff(failures);
        logger.warn({
          event: 'mqtt.connect-failed',
          session,
          attempt: failures,
          code,
          reason: outcome.error.message,
          retryInMs: delayMs,
        });
        await this.sleep(delayMs);
        continue;
      }
      if (this.stopped) {
        client.end(true);
        break;
      }
      failures = 0;
      this.connects++;
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      this.client = client;
      this.info = {
        session,
        protocolVersion,
        connectedAt: new Date().toISOString(),
        sessionPresent: outcome.sessionPresent,
      };
      this.lastConnectedAt = this.info.connectedAt;
      logger.info({
        event: 'mqtt.connected',
        session,
        protocolVersion,
        sessionPresent: outcome.sessionPresent,
      });
      this.emit('connected', this.info);
      await closed;
      this.client = undefined;
      this.info = undefined;
      for (const settle of [...this.pending]) settle(new MqttNotConnectedError('finish the publish'));
      client.end(true);
      if (this.stopped) break;
      logger.warn({ event: 'mqtt.disconnected', session });
      this.emit('disconnected', 'connection closed');
      await this.sleep(this.backoff(1));
    }
    logger.info({ event: 'mqtt.stopped' });
  }

  private awaitConnack(client: MqttClient): Promise<{ sessionPresent: boolean } | { error: Error }> {
    return new Promise((resolve) => {
      const done = (outcome: { sessionPresent: boolean } | { error: Error }) => {
        client.off('connect', onConnect);
        client.off('error', onError);
        client.off('close', onClose);
        resolve(outcome);
      };
      const onConnect = (connack: { sessionPresent?: boolean }) =>
        done({ sessionPresent: connack.sessionPresent === true });
      const onError = (error: Error) => done({ error });
      const onClose = () =>
        done({ error: new MqttError('MQTT_CONNECTION_CLOSED', 'the connection closed before CONNACK') });
      client.on('connect', onConnect);
      client.on('error', onError);
      client.on('close', onClose);
    });
  }

  private clientOptions(session: number, protocolVersion: 4 | 5): IClientOptions {
    const { config, credentials, clientId } = this.options;
    const will = this.options.will(session);
    const persistent = config.sessionExpirySeconds > 0;
    return {
      clientId,
      protocolVersion,
      clean: !persistent,
      keepalive: config.keepaliveSeconds,
      connectTimeout: config.connectTimeoutMs,
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
      username: config.username,
      password: credentials.password,
      ca: credentials.ca,
      cert: credentials.cert,
      key: credentials.key,
      rejectUnauthorized: config.tls?.rejectUnauthorized ?? true,
      servername: config.tls?.servername,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
      properties:
        protocolVersion === 5 && persistent
          ? { sessionExpiryInterval: config.sessionExpirySeconds }
          : undefined,
    };
  }

  private backoff(failures: number): number {
    const { initialDelayMs, maxDelayMs } = this.options.config.reconnect;
    return jitteredBackoffMs(failures - 1, {
      firstDelayMs: initialDelayMs,
      maxDelayMs,
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private recordError(code: string, message: string): void {
    this.lastError = { code, message, at: new Date().toISOString() };
  }
}
