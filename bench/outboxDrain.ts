import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { Agent } from '../src/agent/agent.js';
import { BridgeConnector } from '../src/agent/connectors/bridge/connector.js';
import { mapBridgeBill } from '../src/agent/connectors/bridge/mapping.js';
import { type MockBridge, startMockBridge } from '../src/emulators/bridge/index.js';
import { parseJsonLossless } from '../src/lib/json.js';
import { bridgeBill } from '../test/support/bridgeBills.js';
import { FakeDevice } from '../test/support/fakeDevice.js';
import { BENCH_TZ, tempDir } from './lib/agentRig.js';

/**
 * The outbox after an outage: `receipts` ReceiptCreated events queued for a bridge account (printed by an
 * in-memory device while the bridge refused them), then the agent restarts with the bridge back and drains
 * them over HTTP to the mock bridge on loopback, fsync on. Measured from the restart to the last event
 * received: the agent's start (journal load, draft recovery) plus the drain, as after a real outage.
 */

export interface OutboxDrainOptions {
  receipts: number;
}

export interface OutboxDrainResult {
  receipts: number;
  seconds: number;
  receiptsPerSecond: number;
  /** From the restart to the first event received. */
  firstDeliveryMs: number;
  /** Events the bridge received a second time, with the same id (at-least-once delivery). */
  redeliveries: number;
}

const ACCOUNT = 'b1';

function connector(bridge: MockBridge): BridgeConnector {
  return new BridgeConnector({ id: ACCOUNT, baseUrl: bridge.url, timeoutMs: 5000 });
}

async function until(probe: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!probe()) {
    if (performance.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function benchOutboxDrain(options: OutboxDrainOptions): Promise<OutboxDrainResult> {
  const n = options.receipts;
  const bridge = await startMockBridge({ port: 0, timeZone: BENCH_TZ, bills: [] });
  const dir = await tempDir();
  const logger = pino({ level: 'silent' });
  try {
    // Fill: the bridge refuses every receipt; the outbox tries once and backs off for longer than this takes.
    bridge.setFault({ kind: 'rejectReceipts', status: 503 });
    const filling = await Agent.open({
      dataDir: dir.path,
      logger,
      devices: [new FakeDevice('kkt')],
      connectors: [connector(bridge)],
      router: () => 'kkt',
      outbox: { initialBackoffMs: 3_600_000, maxBackoffMs: 3_600_000 },
      fsync: false,
    });
    await filling.start();
    for (let i = 0; i < n; i++) {
      const raw = parseJsonLossless(JSON.stringify(bridgeBill(300_000 + i)));
      const bill = mapBridgeBill(raw, { account: ACCOUNT, payment: 'card' });
      await filling.intake.submit({ bill, trigger: { kind: 'test' } });
    }
    await until(
      () => filling.outbox.entries({ state: 'pending' }).length === n,
      'the receipts queued',
      120_000 + n * 20,
    );
    await filling.stop();

    bridge.clearFaults();
    let firstAt = 0;
    bridge.events.once('receipt', () => {
      firstAt = performance.now();
    });
    const restartedAt = performance.now();
    const draining = await Agent.open({
      dataDir: dir.path,
      logger,
      devices: [new FakeDevice('kkt')],
      connectors: [connector(bridge)],
      router: () => 'kkt',
      outbox: { initialBackoffMs: 50, maxBackoffMs: 1000 },
      fsync: true,
    });
    try {
      await draining.start();
      // Delivery is at least once with stable ids: an event sent again (a POST whose answer came too late)
      // carries the id the bridge already has, so the drain is done when every id has arrived once.
      const distinct = () =>
        new Set(bridge.receipts.map((r) => (r.body as { data: { id: string } }).data.id));
      await until(() => distinct().size >= n, 'the drain', 600_000);
      const seconds = (performance.now() - restartedAt) / 1000;
      const ids = distinct().size;
      if (ids !== n) throw new Error(`bench: ${ids} distinct events for ${n} receipts`);
      return {
        receipts: n,
        seconds,
        receiptsPerSecond: n / seconds,
        firstDeliveryMs: firstAt - restartedAt,
        redeliveries: bridge.receipts.length - ids,
      };
    } finally {
      await draining.stop();
    }
  } finally {
    await bridge.close();
    await dir.remove();
  }
}
