import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { parseConfig } from '../agent/config/config.js';
import { type RunningDaemon, startDaemon } from '../agent/daemon.js';
import type { Job } from '../agent/jobs/job.js';
import { startEmbeddedBroker } from '../agent/mqtt/embeddedBroker.js';
import { EMULATOR_EXTRA_TAX_BYTES, startAtolEmulator } from '../emulators/atol/index.js';
import { startMockBridge } from '../emulators/bridge/index.js';
import { money } from './format.js';

export interface DemoOptions {
  /** Stop after every sample bill is fiscalized and reported (exit 0). */
  once: boolean;
  out?: NodeJS.WritableStream;
  /** Give up a `--once` round after this long. */
  timeoutMs?: number;
}

const DEMO_TIME_ZONE = 'Europe/Moscow';

/** A bill as a cloud pushes it inline: the agent's own Bill JSON, money in kopecks. */
const PUSHED_BILL = {
  source: 'mqtt',
  account: 'demo-cloud',
  billId: 'push-1',
  number: 'MQTT-1',
  currency: 'RUB',
  positions: [
    {
      name: 'Капучино 300 мл',
      priceMinor: 18_000,
      quantityMilli: 2000,
      amountMinor: 36_000,
      unit: 'piece',
      vat: 'vat22',
      vatMinor: 6_492,
      paymentMethod: 'fullPayment',
      paymentObject: 'commodity',
    },
  ],
  payments: [{ type: 'card', amountMinor: 36_000 }],
  totalMinor: 36_000,
};

/** Plays the cloud: pushes one bill as a `fiscalize` command and prints what comes back. */
async function cloudPushesABill(url: string, say: (text: string) => void, onReceipt: () => void) {
  const client = await mqtt.connectAsync(url, { clientId: 'demo-cloud', protocolVersion: 4 });
  // Like a real cloud, wait for the box's retained presence to say it is online (and subscribed).
  const online = new Promise<void>((resolve) => {
    client.on('message', (topic, payload) => {
      if (topic.endsWith('/status')) {
        if ((JSON.parse(payload.toString()) as { state?: string }).state === 'online') resolve();
        return;
      }
      if (topic.endsWith('/event/receipt')) onReceipt();
      say(`◀ MQTT ${topic}: ${payload.toString()}`);
    });
  });
  await client.subscribeAsync(['kkt/demo/status', 'kkt/demo/resp/fiscalize', 'kkt/demo/event/receipt'], {
    qos: 1,
  });
  await online;
  const command = { cmdId: 'demo-push-1', bill: PUSHED_BILL };
  say(`▶ MQTT kkt/demo/cmd/fiscalize: ${JSON.stringify(command)}`);
  await client.publishAsync('kkt/demo/cmd/fiscalize', JSON.stringify(command), { qos: 1 });
  return client;
}

/**
 * `kkt-agent demo`: everything on this machine, no hardware, no network. The ATOL emulator plays the
 * register, a mock CRM bridge serves sample bills, an embedded MQTT broker carries one pushed bill, and
 * the real agent polls, fiscalizes and reports.
 */
export async function runDemo(options: DemoOptions): Promise<boolean> {
  const out = options.out ?? process.stdout;
  const say = (text: string) => out.write(`${text}\n`);
  const dir = await mkdtemp(join(tmpdir(), 'kkt-agent-demo-'));
  const emulator = await startAtolEmulator({
    port: 0,
    persist: false,
    timeZone: DEMO_TIME_ZONE,
    zReportStepMs: 100,
  });
  const bridge = await startMockBridge({ port: 0, timeZone: DEMO_TIME_ZONE, system: 'demo-crm' });
  const broker = await startEmbeddedBroker({ port: 0 });
  let daemon: RunningDaemon | undefined;
  let cloud: mqtt.MqttClient | undefined;
  let mqttReceipts = 0;

  emulator.on('printed', (printout) => say(`\n${printout.text}`));
  bridge.events.on('receipt', (receipt) => {
    const body = receipt.body as {
      data?: { extras?: { number?: string }; totalAmount?: number; dateTime?: string };
    };
    say(
      `◀ ReceiptCreated posted to the CRM: bill ${body.data?.extras?.number}, total ${body.data?.totalAmount}, ${body.data?.dateTime}`,
    );
    say(`  ${JSON.stringify(receipt.body)}`);
  });

  try {
    const config = parseConfig({
      dataDir: join(dir, 'data'),
      timeZone: DEMO_TIME_ZONE,
      log: { level: 'warn' },
      mqtt: { url: broker.url, deviceId: 'demo' },
      devices: [
        {
          id: 'kkt',
          kind: 'atol',
          link: { type: 'tcp', host: '127.0.0.1', port: emulator.port },
          operator: { name: 'Демо Кассир' },
          // The sample bills include 5 % and 7 %, which only УСН may charge (docs/money.md).
          taxationType: 'usnIncome',
          // The demo's register is the emulator: its bytes for the 2026 rates (docs/emulator.md).
          taxBytes: EMULATOR_EXTRA_TAX_BYTES,
        },
      ],
      connectors: {
        bridge: [
          {
            id: 'demo',
            baseUrl: bridge.url,
            autoFiscalize: { enabled: true, intervalMs: 1000 },
            defaultPayment: 'card',
          },
        ],
      },
    });
    say(
      `kkt-agent demo: ATOL emulator on 127.0.0.1:${emulator.port}, mock CRM bridge on ${bridge.url}, MQTT broker on ${broker.url}`,
    );
    say(
      'The agent polls the bridge, prints each bill on the register exactly once and posts a ReceiptCreated event back;',
    );
    say('a "cloud" also pushes one bill over MQTT (kkt/demo/cmd/fiscalize) and receives its receipt event.');
    daemon = await startDaemon(config);
    const agent = daemon.agent;
    agent.jobs.on('changed', (job: Job) => {
      if (job.state === 'RECEIVED' && job.attempts === 0) {
        say(
          `▶ bill ${job.summary.number} (${job.bill?.positions.length ?? 0} position(s), ${money(job.summary.totalMinor)} ${job.summary.currency}) → job ${job.id}`,
        );
      } else if (job.state === 'FAILED') {
        say(`✗ bill ${job.summary.number}: ${job.failure?.message}`);
      }
    });
    cloud = await cloudPushesABill(broker.url, say, () => {
      mqttReceipts++;
    });
    if (!options.once) {
      say('Ctrl-C stops the demo.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      return true;
    }
    const expected = bridge.bills().length + 1;
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const jobs = agent.jobs.all();
      const done = jobs.filter((job) => job.state === 'REPORTED' || job.state === 'FAILED').length;
      if (jobs.length >= expected && done === jobs.length) break;
      if (Date.now() > deadline) {
        say(`The demo round did not finish in time: ${done} of ${expected} bills done.`);
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const reported = agent.jobs.inState('REPORTED').length;
    say(
      `\nDone: ${reported} receipt(s) printed and reported, ${emulator.device.lastDocumentNumber} fiscal documents on the register, ` +
        `${bridge.receipts.length} ReceiptCreated events received by the CRM, ${mqttReceipts} receipt events over MQTT.`,
    );
    return reported === expected;
  } finally {
    await cloud?.endAsync();
    await daemon?.stop('demo finished');
    await broker.close();
    await bridge.close();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}
