import { hostname } from 'node:os';
import type { Agent } from '../agent.js';
import type { ControlMethods } from '../control/server.js';
import type { ReportSink } from '../outbox/sink.js';
import { buildStateDocument, type StateDocument } from '../state/document.js';
import { StatePoster } from '../state/poster.js';
import { StateReporter } from '../state/reporter.js';
import type { StartupConfig } from './configStore.js';
import { type LiveApplier, type LiveLogger, logLevelApplier, versionApplier } from './liveConfig.js';
import { RemoteConfigManager } from './remoteConfig.js';
import type { MqttService } from './service.js';

export interface RemoteServicesOptions {
  startup: StartupConfig;
  log: LiveLogger;
  version: string;
  fsync?: boolean;
}

export interface RemoteServicesStart {
  agent: Agent;
  methods: ControlMethods;
  /** Stops the daemon cleanly and exits so systemd starts it again with the stored remote config. */
  requestRestart: (reason: string) => void;
  /** More live appliers, for fields whose owners can change them while running. */
  appliers?: LiveApplier[];
  /** Alerts and schedules for the state document. */
  extraState?: () => Pick<StateDocument, 'alerts' | 'schedules'>;
}

/**
 * What the daemon runs beside the agent core to face the outside: the MQTT service (when configured), the
 * state document with its schedule, `POST /state`, and remote config. Opened before the agent (the MQTT
 * receipt sink must be in the outbox from the start), started after it.
 */
export class RemoteServices {
  readonly reporter: StateReporter;
  readonly poster: StatePoster;
  private agent: Agent | undefined;
  private extraState: RemoteServicesStart['extraState'];
  private remoteConfig: RemoteConfigManager | undefined;
  private readonly detach: Array<() => void> = [];

  private constructor(
    private readonly options: RemoteServicesOptions,
    readonly mqtt: MqttService | undefined,
  ) {
    const { config } = options.startup;
    const logger = options.log.module('state');
    this.reporter = new StateReporter({
      collect: () => this.collect(),
      intervalMs: config.state.intervalMs,
      debounceMs: config.state.debounceMs,
      logger,
    });
    this.poster = new StatePoster(config.state, logger);
  }

  static async open(options: RemoteServicesOptions): Promise<RemoteServices> {
    const { startup, log } = options;
    const logger = log.module('config');
    if (startup.notice)
      logger.warn({
        event: 'config.remote.not-used',
        code: startup.notice.code,
        reason: startup.notice.message,
      });
    logger.info({ event: 'config.loaded', source: startup.source, version: startup.version });
    const mqttConfig = startup.config.mqtt;
    // The MQTT client (mqtt.js and its streams) is loaded only when a broker is configured (issue 17).
    const mqtt = mqttConfig
      ? await (await import('./service.js')).MqttService.open({
          config: mqttConfig,
          dataDir: startup.config.dataDir,
          agentVersion: options.version,
          logger: log.module('mqtt'),
          fsync: options.fsync,
        })
      : undefined;
    return new RemoteServices(options, mqtt);
  }

  /** Report sinks to add to the agent's outbox. */
  get sinks(): ReportSink[] {
    return this.mqtt && this.options.startup.config.mqtt?.receipts ? [this.mqtt.receiptSink] : [];
  }

  get deviceId(): string {
    return this.mqtt?.identity.deviceId ?? hostname();
  }

  get remote(): RemoteConfigManager | undefined {
    return this.remoteConfig;
  }

  start({ agent, methods, requestRestart, appliers = [], extraState }: RemoteServicesStart): void {
    this.agent = agent;
    this.extraState = extraState;
    const { log } = this.options;
    const stateApplier: LiveApplier = {
      name: 'state',
      paths: [['state']],
      apply: (config) => {
        this.reporter.reconfigure(config.state);
        this.poster.reconfigure(config.state);
      },
    };
    if (this.mqtt) {
      this.remoteConfig = new RemoteConfigManager({
        startup: this.options.startup,
        appliers: [versionApplier, logLevelApplier(log), stateApplier, ...appliers],
        logger: log.module('config'),
      });
    }
    this.reporter.on('state', (doc) => {
      this.mqtt?.publishState(doc);
      this.poster.offer(doc);
    });
    const changed = () => this.reporter.changed();
    agent.jobs.on('changed', changed);
    this.detach.push(() => agent.jobs.off('changed', changed));
    for (const device of agent.deviceList) {
      device.on('ready', changed);
      device.on('unready', changed);
      device.on('shift', changed);
      this.detach.push(() => {
        device.off('ready', changed);
        device.off('unready', changed);
        device.off('shift', changed);
      });
    }
    this.reporter.start();
    this.mqtt?.start({
      methods,
      remoteConfig: this.remoteConfig,
      requestRestart,
      latestState: () => this.reporter.latest,
      onConnected: () => {
        // Receipts buffered while offline go at once instead of waiting out the outbox backoff (no ids: dead
        // letters stay where they are); the state document gets the new session.
        void agent.outbox.retry({ sink: 'mqtt', ids: [] }).catch(() => undefined);
        this.reporter.changed();
      },
    });
  }

  async collect(): Promise<StateDocument> {
    const agent = this.agent;
    if (!agent) throw new Error('RemoteServices.collect before start');
    const { startup } = this.options;
    const config = this.remoteConfig?.describe() ?? { version: startup.version, source: startup.source };
    return buildStateDocument(await agent.status(), {
      deviceId: this.deviceId,
      version: this.options.version,
      session: this.mqtt?.session,
      config: { version: config.version, source: config.source },
      ...this.extraState?.(),
    });
  }

  /** Sections of the daemon's `status` answer. */
  status(): Record<string, unknown> {
    const { startup } = this.options;
    return {
      mqtt: this.mqtt?.status() ?? { enabled: false },
      state: { post: this.poster.status(), lastGeneratedAt: this.reporter.latest?.generatedAt },
      config: this.remoteConfig?.describe() ?? { version: startup.version, source: startup.source },
    };
  }

  /** Stops publishing: `offline` presence, clean disconnect, no more POSTs. */
  async stop(): Promise<void> {
    this.reporter.stop();
    for (const detach of this.detach.splice(0)) detach();
    await this.mqtt?.stop();
    await this.poster.stop();
  }

  /** After the agent stopped: closes the command log. */
  async close(): Promise<void> {
    await this.mqtt?.close();
  }
}
