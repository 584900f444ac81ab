import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { z } from 'zod';
import { errorMessage } from '../../lib/errors.js';
import type { ControlMethods } from '../control/server.js';
import { type CommandAnswer, CommandLog } from './commandLog.js';
import { CommandProcessor } from './commands.js';
import type { MqttConfig } from './config.js';
import {
  type ConnectionInfo,
  type InboundMessage,
  MqttConnection,
  type MqttCredentials,
} from './connection.js';
import { MqttError } from './errors.js';
import { MqttReceiptSink } from './receiptSink.js';
import type { DesiredOutcome, RemoteConfigManager } from './remoteConfig.js';
import { SessionCounter } from './sessionCounter.js';
import { openEnvelope } from './signing.js';
import { insideCommandTree, MqttTopics, responseTopicRefusal } from './topics.js';

/** `…/status` (retained, QoS 1). */
export interface PresencePayload {
  state: 'online' | 'offline' | 'lost';
  /** Incremented at every connect; the will of a connection carries the same number as its birth. */
  session: number;
  /** When this session began (for `lost`, too: the will is built at connect time). */
  since: string;
  version: string;
}

const presenceSchema = z.object({
  state: z.enum(['online', 'offline', 'lost']),
  session: z.number().int().min(0),
});

export interface MqttServiceOptions {
  config: MqttConfig;
  dataDir: string;
  agentVersion: string;
  logger: Logger;
  /** Turn fsync off: tests of behaviour other than durability only. */
  fsync?: boolean;
}

export interface MqttBindings {
  methods: ControlMethods;
  remoteConfig?: RemoteConfigManager;
  /** Called after `config/reported` says `restarting`: the daemon stops cleanly and exits. */
  requestRestart?: (reason: string) => void;
  /** The latest state document, republished at every connect and on `rebirth`. */
  latestState?: () => unknown;
  /** Called at every connect (the daemon wakes the outbox so buffered receipts go at once). */
  onConnected?: (info: ConnectionInfo) => void;
}

export interface MqttIdentity {
  deviceId: string;
  clientId: string;
  topics: MqttTopics;
}

export function mqttIdentity(config: MqttConfig): MqttIdentity {
  const deviceId = config.deviceId ?? hostname().replace(/[/+#]/g, '_');
  return {
    deviceId,
    clientId: config.clientId ?? `kkt-agent-${deviceId}`,
    topics: new MqttTopics(config.topicPrefix, deviceId),
  };
}

async function readSecretFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new MqttError(
      'MQTT_FILE_UNREADABLE',
      `Cannot read the MQTT ${what} file ${path}: ${errorMessage(error)}`,
      {
        path,
      },
    );
  }
}

/** Reads the password, TLS material and signing key named by the config (files are read once, at start). */
export async function readMqttSecrets(
  config: MqttConfig,
): Promise<{ credentials: MqttCredentials; signingKey?: Buffer }> {
  const text = async (path: string, what: string) =>
    (await readSecretFile(path, what)).toString('utf8').replace(/\r?\n$/, '');
  const credentials: MqttCredentials = {
    password:
      config.password ?? (config.passwordFile ? await text(config.passwordFile, 'password') : undefined),
    ca: config.tls?.caFile ? await readSecretFile(config.tls.caFile, 'CA') : undefined,
    cert: config.tls?.certFile ? await readSecretFile(config.tls.certFile, 'client certificate') : undefined,
    key: config.tls?.keyFile ? await readSecretFile(config.tls.keyFile, 'client key') : undefined,
  };
  const key =
    config.signingKey ??
    (config.signingKeyFile ? await text(config.signingKeyFile, 'signing key') : undefined);
  return { credentials, signingKey: config.requireSigned && key ? Buffer.from(key, 'utf8') : undefined };
}

/** `mqtts://host:8883`, without path or credentials (URL.origin is "null" for mqtt: schemes). */
function brokerAddress(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
}

interface Outgoing {
  topic: string;
  payload: string;
  correlationData?: Buffer;
}

const MAX_QUEUED_RESPONSES = 1000;

/**
 * The agent's MQTT face: presence with a session counter, commands (deduplicated, mapped onto the control
 * methods), remote config, the retained state, and the receipt sink. Topics and payloads: docs/mqtt.md.
 */
export class MqttService {
  readonly receiptSink: MqttReceiptSink;
  readonly connection: MqttConnection;
  private bindings: MqttBindings | undefined;
  private processor: CommandProcessor | undefined;
  private latestState: string | undefined;
  private readonly queued: Outgoing[] = [];
  private stopping = false;
  private raisedSession = false;
  /** The session whose birth is out; a lower session's status arriving before it is simply replaced. */
  private bornSession: number | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly options: MqttServiceOptions,
    readonly identity: MqttIdentity,
    private readonly sessions: SessionCounter,
    private readonly commandLog: CommandLog,
    credentials: MqttCredentials,
    private readonly signingKey: Buffer | undefined,
  ) {
    const { topics, clientId } = identity;
    this.connection = new MqttConnection({
      config: options.config,
      clientId,
      credentials,
      sessions,
      will: (session) => ({
        topic: topics.status,
        payload: this.presence('lost', session, new Date().toISOString()),
      }),
      onMessage: (message) => this.dispatch(message),
      logger: options.logger,
    });
    this.connection.on('connected', (info) => void this.onConnected(info));
    this.receiptSink = new MqttReceiptSink(this.connection, topics.eventReceipt);
  }

  static async open(options: MqttServiceOptions): Promise<MqttService> {
    const { credentials, signingKey } = await readMqttSecrets(options.config);
    const sessions = await SessionCounter.open(options.dataDir);
    const commandLog = await CommandLog.open(options.dataDir, {
      ttlMs: options.config.commandTtlHours * 3_600_000,
      fsync: options.fsync,
    });
    return new MqttService(
      options,
      mqttIdentity(options.config),
      sessions,
      commandLog,
      credentials,
      signingKey,
    );
  }

  get topics(): MqttTopics {
    return this.identity.topics;
  }

  /** The session of the current connection (or the last attempt). */
  get session(): number {
    return this.connection.connection?.session ?? this.sessions.current;
  }

  start(bindings: MqttBindings): void {
    this.bindings = bindings;
    const ttlMs = this.options.config.commandTtlHours * 3_600_000;
    this.processor = new CommandProcessor({
      methods: bindings.methods,
      log: this.commandLog,
      local: { rebirth: () => this.rebirth() },
      maxPayloadBytes: this.options.config.maxPayloadBytes,
      ttlMs,
      signingKey: this.signingKey,
      refuseResponseTopic: responseTopicRefusal,
      logger: this.options.logger,
    });
    this.pruneTimer = setInterval(() => {
      this.commandLog
        .prune()
        .catch((error: unknown) =>
          this.options.logger.warn({ event: 'mqtt.command-log.prune-failed', reason: errorMessage(error) }),
        );
    }, 3_600_000);
    this.pruneTimer.unref();
    this.connection.start();
  }

  /** Publishes the state document retained (now, when connected; at the next connect otherwise). */
  publishState(doc: unknown): void {
    this.latestState = JSON.stringify(doc);
    if (!this.connection.connected) return;
    this.connection
      .publish(this.topics.state, this.latestState, { qos: 1, retain: true })
      .catch((error: unknown) =>
        this.options.logger.debug({ event: 'mqtt.state.publish-failed', reason: errorMessage(error) }),
      );
  }

  /** Republishes everything retained: presence, state, config/reported. */
  async rebirth(): Promise<{ republished: string[] }> {
    const info = this.connection.connection;
    if (!info) throw new MqttError('MQTT_NOT_CONNECTED', 'Not connected to the broker.');
    const republished = [this.topics.status];
    await this.publishBirth(info);
    const state = this.bindings?.latestState?.();
    if (state !== undefined) this.latestState = JSON.stringify(state);
    if (this.latestState !== undefined) {
      await this.connection.publish(this.topics.state, this.latestState, { qos: 1, retain: true });
      republished.push(this.topics.state);
    }
    const remote = this.bindings?.remoteConfig;
    if (remote) {
      await this.publishReported(remote.reported);
      republished.push(this.topics.configReported);
    }
    return { republished };
  }

  status() {
    const info = this.connection.connection;
    return {
      enabled: true,
      broker: brokerAddress(this.options.config.url),
      deviceId: this.identity.deviceId,
      clientId: this.identity.clientId,
      topicRoot: this.topics.root,
      connected: info !== undefined,
      protocolVersion: info?.protocolVersion ?? this.connection.protocolVersion,
      session: this.session,
      connectedAt: info?.connectedAt,
      lastConnectedAt: this.connection.lastConnectedAt,
      lastError: this.connection.lastError,
      requireSigned: this.signingKey !== undefined,
      queuedResponses: this.queued.length,
      commands: this.processor?.stats,
    };
  }

  /** Publishes `offline` (retained), then disconnects cleanly so the broker drops the will. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.pruneTimer);
    await this.connection.stop(async () => {
      const info = this.connection.connection;
      if (!info) return;
      await this.connection.publish(
        this.topics.status,
        this.presence('offline', info.session, new Date().toISOString()),
        { qos: 1, retain: true },
      );
    });
  }

  /** Closes the command log; call after the agent has stopped, so commands still running record their answer. */
  async close(): Promise<void> {
    await this.commandLog.close();
  }

  private presence(state: PresencePayload['state'], session: number, since: string): string {
    const payload: PresencePayload = { state, session, since, version: this.options.agentVersion };
    return JSON.stringify(payload);
  }

  private async publishBirth(info: ConnectionInfo): Promise<void> {
    await this.connection.publish(
      this.topics.status,
      this.presence('online', info.session, info.connectedAt),
      {
        qos: 1,
        retain: true,
      },
    );
    this.bornSession = info.session;
  }

  private publishReported(reported: unknown): Promise<void> {
    return this.connection.publish(this.topics.configReported, JSON.stringify(reported), {
      qos: 1,
      retain: true,
    });
  }

  private async onConnected(info: ConnectionInfo): Promise<void> {
    const { logger } = this.options;
    try {
      // Subscribed before the birth, so the retained status left by an earlier session (or install) is seen
      // before our birth replaces it (see onPresence).
      const subscriptions: Array<{ topic: string; qos: 0 | 1 }> = [
        { topic: this.topics.status, qos: 1 },
        { topic: this.topics.commandFilter, qos: 1 },
      ];
      if (this.bindings?.remoteConfig) subscriptions.push({ topic: this.topics.configDesired, qos: 1 });
      await this.connection.subscribe(subscriptions).catch((error: unknown) => {
        // An ACL refusing one topic must not keep the box from saying it is online.
        if (!this.connection.connected) throw error;
        logger.error({ event: 'mqtt.subscribe-failed', session: info.session, reason: errorMessage(error) });
      });
      await this.publishBirth(info);
      if (this.bindings?.remoteConfig) await this.publishReported(this.bindings.remoteConfig.reported);
      const state = this.bindings?.latestState?.();
      if (state !== undefined) this.latestState = JSON.stringify(state);
      if (this.latestState !== undefined) {
        await this.connection.publish(this.topics.state, this.latestState, { qos: 1, retain: true });
      }
      for (const out of this.queued.splice(0)) void this.send(out);
      this.bindings?.onConnected?.(info);
    } catch (error) {
      // The connection went away meanwhile; the next connect does all of this again.
      logger.warn({ event: 'mqtt.birth-failed', session: info.session, reason: errorMessage(error) });
    }
  }

  /** Runs before the PUBACK: must not wait for the broker (see MqttConnectionOptions.onMessage). */
  private async dispatch(message: InboundMessage): Promise<void> {
    if (this.stopping) return;
    const { topics } = this;
    if (message.topic === topics.status) return this.onPresence(message.payload);
    if (message.topic === topics.configDesired) return this.onDesired(message);
    const name = topics.commandName(message.topic);
    if (name !== undefined) return this.onCommand(name, message);
  }

  /** A stale `lost` (an older session's will) over our birth is answered by publishing the birth again. */
  private onPresence(payload: Buffer): void {
    const info = this.connection.connection;
    if (!info) return;
    let seen: z.output<typeof presenceSchema> | undefined;
    try {
      seen = presenceSchema.parse(JSON.parse(payload.toString('utf8')));
    } catch {
      seen = undefined;
    }
    const { logger } = this.options;
    if (seen && seen.session > info.session) {
      // A session above ours: the data dir was reset (or another box uses this device id).
      logger.error({ event: 'mqtt.presence.session-behind', session: info.session, seen: seen.session });
      if (this.raisedSession) return;
      this.raisedSession = true;
      void this.sessions.raiseAbove(seen.session).then(
        () => this.connection.reconnect(),
        (error: unknown) => logger.error({ event: 'mqtt.session-write-failed', reason: errorMessage(error) }),
      );
      return;
    }
    if (seen && seen.session === info.session && seen.state === 'online') return;
    // Before our birth is out, the retained status is the previous session's: the birth replaces it anyway.
    if (this.bornSession !== info.session) return;
    logger.warn({
      event: 'mqtt.presence.stale',
      session: info.session,
      seen: seen?.session,
      state: seen?.state,
    });
    void this.publishBirth(info).catch((error: unknown) =>
      logger.warn({ event: 'mqtt.birth-failed', session: info.session, reason: errorMessage(error) }),
    );
  }

  private async onDesired(message: InboundMessage): Promise<void> {
    const remote = this.bindings?.remoteConfig;
    if (!remote || message.payload.length === 0) return;
    let outcome: DesiredOutcome | undefined;
    if (message.payload.length > this.options.config.maxPayloadBytes) {
      outcome = {
        reported: remote.reject(
          new MqttError(
            'MQTT_PAYLOAD_TOO_LARGE',
            `The desired config has ${message.payload.length} bytes; at most ${this.options.config.maxPayloadBytes} are accepted.`,
          ),
        ),
        restart: false,
      };
    } else {
      let text = message.payload.toString('utf8');
      if (this.signingKey) {
        try {
          text = openEnvelope(this.signingKey, message.topic, text);
        } catch (error) {
          outcome = { reported: remote.reject(error), restart: false };
        }
      }
      outcome ??= await remote.handleDesired(text);
    }
    const { reported, restart } = outcome;
    void this.publishReported(reported)
      .catch((error: unknown) =>
        this.options.logger.warn({ event: 'mqtt.reported.publish-failed', reason: errorMessage(error) }),
      )
      .finally(() => {
        if (restart) this.bindings?.requestRestart?.('remote config');
      });
  }

  private async onCommand(name: string, message: InboundMessage): Promise<void> {
    const processor = this.processor;
    if (!processor) return;
    const accepted = await processor.accept(message.topic, name, message.payload, message.responseTopic);
    void accepted.answer.then((answer) => this.respond(name, accepted.cmdId, answer, message));
  }

  /**
   * MQTT 5 requests with a response topic are answered there (with their correlation data); others on
   * `…/resp/<name>`. A response topic inside this box's own tree (other than resp/) is not honoured; one
   * inside any command tree was refused with the command and is never published to.
   */
  private respond(
    name: string,
    cmdId: string | undefined,
    answer: CommandAnswer,
    request: InboundMessage,
  ): Promise<void> {
    const payload = JSON.stringify(cmdId === undefined ? answer : { cmdId, ...answer });
    const responseTopic = request.responseTopic;
    if (responseTopic && this.allowedResponseTopic(responseTopic)) {
      return this.send({ topic: responseTopic, payload, correlationData: request.correlationData });
    }
    if (cmdId === undefined) {
      this.options.logger.warn({ event: 'mqtt.command.unanswerable', command: name });
      return Promise.resolve();
    }
    return this.send({ topic: this.topics.response(name), payload });
  }

  private allowedResponseTopic(topic: string): boolean {
    if (topic.length === 0 || topic.includes('+') || topic.includes('#') || insideCommandTree(topic))
      return false;
    return !this.topics.isOwn(topic) || topic.startsWith(`${this.topics.root}/resp/`);
  }

  private async send(out: Outgoing): Promise<void> {
    const properties =
      out.correlationData && this.connection.protocolVersion === 5
        ? { correlationData: out.correlationData }
        : undefined;
    try {
      await this.connection.publish(out.topic, out.payload, { qos: 1, properties });
    } catch {
      // Answered at the next connect; a sender retrying the same cmdId gets the stored answer anyway.
      if (this.queued.length >= MAX_QUEUED_RESPONSES) this.queued.shift();
      this.queued.push(out);
    }
  }
}
