import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import pino from 'pino';
import { agentControlMethods } from '../src/agent/control/methods.js';
import { mqttConfigSchema } from '../src/agent/mqtt/config.js';
import { MqttService } from '../src/agent/mqtt/service.js';
import { sampleBill } from '../test/support/bills.js';
import { FirstByteProbe, openBenchAgent, tempDir } from './lib/agentRig.js';
import { startBenchBroker } from './lib/broker.js';
import { startEmulatorProcess } from './lib/emulatorProcess.js';
import { type Distribution, distribution } from './lib/stats.js';

/**
 * MQTT `cmd/fiscalize` with an inline bill → the first byte the driver writes to the register for it.
 * Measured from just before the cloud's client publishes (QoS 1, loopback broker) to the driver's first
 * write: the broker hop, the command log's "running" record (fsync), validation, the intake's RECEIVED
 * record (fsync), waking the fiscalizer and reading the FN anchor's request. One bill at a time, the
 * register idle; the next bill goes once the previous one is REPORTED.
 */

export interface MqttLatencyOptions {
  bills: number;
}

export interface MqttLatencyResult {
  bills: number;
  broker: string;
  firstByteMs: Distribution;
}

export async function benchMqttLatency(options: MqttLatencyOptions): Promise<MqttLatencyResult> {
  const broker = await startBenchBroker();
  const emulator = await startEmulatorProcess();
  const dir = await tempDir();
  const deviceId = `bench-${process.pid}`;
  // BENCH_LOG=info shows why a bench's job did not finish.
  const logger = pino({ level: process.env.BENCH_LOG ?? 'silent' });
  const service = await MqttService.open({
    config: mqttConfigSchema.parse({
      url: broker.url,
      deviceId,
      protocol: '3.1.1',
      reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
    }),
    dataDir: dir.path,
    agentVersion: 'bench',
    logger,
  });
  const probe = new FirstByteProbe();
  const rig = await openBenchAgent({
    emulatorPort: emulator.port,
    dataDir: dir.path,
    sinks: [service.receiptSink],
    probe,
  });
  service.start({ methods: agentControlMethods(rig.agent, { version: 'bench' }) });
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clean: true });
  try {
    // The agent publishes its birth once it has subscribed to its commands.
    let online = false;
    client.on('message', (_topic, payload) => {
      online = (JSON.parse(payload.toString('utf8')) as { state?: string }).state === 'online';
    });
    await client.subscribeAsync(service.topics.status, { qos: 1 });
    const started = performance.now();
    while (!online) {
      if (performance.now() - started > 10_000)
        throw new Error('bench: the agent did not come online on MQTT');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const topic = service.topics.command('fiscalize');
    const send = async (index: number) => {
      const bill = { ...sampleBill(`mq-${index}`, { positions: 10 }), source: 'mqtt' };
      const firstByte = probe.arm();
      const publishedAt = performance.now();
      await client.publishAsync(topic, JSON.stringify({ cmdId: `bench-${index}`, bill }), { qos: 1 });
      const latency = (await firstByte) - publishedAt;
      await rig.watcher.counted('REPORTED', index + 4, 30_000);
      return latency;
    };
    // Warm-up: the shift opens, the connection settles.
    for (let i = -3; i < 0; i++) await send(i);
    const latencies: number[] = [];
    for (let i = 0; i < options.bills; i++) latencies.push(await send(i));
    return { bills: options.bills, broker: broker.kind, firstByteMs: distribution(latencies) };
  } finally {
    await client.endAsync(true);
    await service.stop();
    await rig.stop();
    await service.close();
    await emulator.stop();
    await broker.close();
    await dir.remove();
  }
}
