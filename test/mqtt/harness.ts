import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import pino, { type Logger } from 'pino';
import { Agent } from '../../src/agent/agent.js';
import { type AgentConfig, parseConfig } from '../../src/agent/config/config.js';
import { agentControlMethods } from '../../src/agent/control/methods.js';
import { type MqttConfigInput, mqttConfigSchema } from '../../src/agent/mqtt/config.js';
import { resolveStartupConfig } from '../../src/agent/mqtt/configStore.js';
import { type LiveLogger, withLiveLevels } from '../../src/agent/mqtt/liveConfig.js';
import { RemoteServices } from '../../src/agent/mqtt/remoteServices.js';
import { MqttService } from '../../src/agent/mqtt/service.js';
import type { ReportSink } from '../../src/agent/outbox/sink.js';
import { FakeDevice } from '../support/fakeDevice.js';
import { untilWith } from '../support/until.js';

/** Waits for a condition with a deadline (never asserts on timing itself). */
export const until = untilWith({ timeoutMs: 8000, intervalMs: 10 });

export async function tempDir(prefix = 'kkt-mqtt-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A logger whose JSON lines are kept in memory, to assert what was (not) logged. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** A fake device that counts the operations the tests check for "ran exactly once". */
export class CountingDevice extends FakeDevice {
  cashIns: number[] = [];
  cashOuts: number[] = [];
  reportsX = 0;

  // Optional only because FakeDevice declares these without parameters; the agent always passes the amount.
  override async cashIn(amountMinor?: number): Promise<void> {
    this.cashIns.push(amountMinor ?? 0);
  }

  override async cashOut(amountMinor?: number): Promise<void> {
    this.cashOuts.push(amountMinor ?? 0);
  }

  override async reportX(): Promise<void> {
    this.reportsX++;
  }
}

let devices = 0;

/** A device id no other test uses, so retained messages never leak between tests on one broker. */
export function uniqueDeviceId(): string {
  devices++;
  return `shop-${process.pid}-${devices}`;
}

export function testMqttConfig(url: string, overrides: Partial<MqttConfigInput> = {}) {
  return mqttConfigSchema.parse({
    url,
    deviceId: 'shop-1',
    reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
    connectTimeoutMs: 3000,
    publishTimeoutMs: 3000,
    ...overrides,
  });
}

export interface Rig {
  agent: Agent;
  device: CountingDevice;
  service: MqttService;
  stop(): Promise<void>;
}

/** A real Agent (fake device) with the MQTT service attached, as the daemon wires them. */
export async function startRig(options: {
  dataDir: string;
  url: string;
  mqtt?: Partial<MqttConfigInput>;
  logger?: Logger;
  device?: CountingDevice;
  sinks?: ReportSink[];
}): Promise<Rig> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const service = await MqttService.open({
    config: testMqttConfig(options.url, options.mqtt),
    dataDir: options.dataDir,
    agentVersion: '9.9.9-test',
    logger,
  });
  const device = options.device ?? new CountingDevice();
  const agent = await Agent.open({
    dataDir: options.dataDir,
    logger,
    devices: [device],
    connectors: [],
    sinks: [service.receiptSink, ...(options.sinks ?? [])],
    router: () => device.id,
    fiscalizer: { retryDelayMs: 10, maxRetryDelayMs: 20, maxAttempts: 3, stopTimeoutMs: 2000 },
    outbox: { initialBackoffMs: 20, maxBackoffMs: 200 },
  });
  await agent.start();
  service.start({
    methods: agentControlMethods(agent, { version: '9.9.9-test' }),
    onConnected: () => void agent.outbox.retry({ sink: 'mqtt', ids: [] }),
  });
  let stopped = false;
  return {
    agent,
    device,
    service,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await service.stop();
      await agent.stop();
      await service.close();
    },
  };
}

export interface Received {
  topic: string;
  text: string;
  json: unknown;
  retain: boolean;
  packet: IPublishPacket;
}

/** A test-side MQTT client that records everything it receives. */
export class Observer {
  readonly messages: Received[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const text = payload.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      this.messages.push({ topic, text, json, retain: packet.retain, packet });
    });
  }

  static async connect(url: string, topics: string[], options: IClientOptions = {}): Promise<Observer> {
    const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 100, ...options });
    const observer = new Observer(client);
    if (topics.length > 0) await client.subscribeAsync(topics, { qos: 1 });
    return observer;
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  jsonOn<T = Record<string, unknown>>(topic: string): T[] {
    return this.on(topic).map((m) => m.json as T);
  }

  waitFor<T = Record<string, unknown>>(
    topic: string,
    predicate: (json: T) => boolean,
    what: string,
    timeoutMs = 8000,
  ): Promise<T> {
    return until(() => this.jsonOn<T>(topic).find(predicate), what, timeoutMs);
  }

  publish(
    topic: string,
    payload: string | Buffer,
    options: Parameters<MqttClient['publishAsync']>[2] = { qos: 1 },
  ): Promise<unknown> {
    return this.client.publishAsync(topic, payload, options);
  }

  /** The retained message of a topic as a fresh subscriber sees it. */
  static async retained(url: string, topic: string): Promise<Record<string, unknown> | undefined> {
    const observer = await Observer.connect(url, [topic]);
    try {
      const message = await until(() => observer.on(topic)[0], `retained ${topic}`, 3000).catch(
        () => undefined,
      );
      return message?.json as Record<string, unknown> | undefined;
    } finally {
      await observer.close();
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export interface ServicesRig {
  agent: Agent;
  device: CountingDevice;
  remote: RemoteServices;
  log: LiveLogger;
  lines: string[];
  restarts: string[];
  fileConfig: AgentConfig;
  stop(): Promise<void>;
}

/** The daemon's composition (RemoteServices around a real Agent with a fake device), from a file config. */
export async function startServices(fileRaw: Record<string, unknown>): Promise<ServicesRig> {
  const fileConfig = parseConfig(fileRaw);
  const startup = await resolveStartupConfig(fileConfig);
  const { logger, lines } = capturingLogger();
  const log = withLiveLevels(
    {
      // As createLogger: a root at the configured level over a base that lets module levels through.
      root: logger.child({}, { level: startup.config.log.level }),
      module: (name, bindings = {}) => logger.child({ module: name, ...bindings }),
      flush: async () => undefined,
    },
    { level: startup.config.log.level, modules: startup.config.log.modules },
  );
  const remote = await RemoteServices.open({ startup, log, version: '9.9.9-test' });
  const device = new CountingDevice();
  const agent = await Agent.open({
    dataDir: startup.config.dataDir,
    logger: log.root,
    loggerFor: log.module,
    devices: [device],
    connectors: [],
    sinks: remote.sinks,
    router: () => device.id,
    fiscalizer: { retryDelayMs: 10, maxRetryDelayMs: 20, maxAttempts: 3, stopTimeoutMs: 2000 },
    outbox: { initialBackoffMs: 20, maxBackoffMs: 200 },
  });
  await agent.start();
  const restarts: string[] = [];
  remote.start({
    agent,
    methods: agentControlMethods(agent, { version: '9.9.9-test', extraStatus: () => remote.status() }),
    requestRestart: (reason) => restarts.push(reason),
  });
  let stopped = false;
  return {
    agent,
    device,
    remote,
    log,
    lines,
    restarts,
    fileConfig,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await remote.stop();
      await agent.stop();
      await remote.close();
    },
  };
}
