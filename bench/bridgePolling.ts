import { performance } from 'node:perf_hooks';
import { BridgeConnector } from '../src/agent/connectors/bridge/connector.js';
import { startMockBridge } from '../src/emulators/bridge/index.js';
import { bridgeBill } from '../test/support/bridgeBills.js';
import { BENCH_TZ, FirstByteProbe, openBenchAgent, tempDir } from './lib/agentRig.js';
import { startEmulatorProcess } from './lib/emulatorProcess.js';
import { type Distribution, distribution } from './lib/stats.js';

/**
 * The same figure as the MQTT bench for a bill the agent finds by polling the bridge: the bill appears in
 * the mock bridge at a random moment of the poll cycle; measured to the driver's first byte for it. Also
 * the fetch part alone: from the LIST answer that listed it (then BILL, validation, the RECEIVED fsync) to
 * that first byte. The production figure is the poll interval's wait (uniform over the interval) plus it.
 */

export interface BridgePollingOptions {
  bills: number;
  intervalMs: number;
}

export interface BridgePollingResult {
  bills: number;
  intervalMs: number;
  firstByteMs: Distribution;
  fetchMs: Distribution;
}

export async function benchBridgePolling(options: BridgePollingOptions): Promise<BridgePollingResult> {
  const emulator = await startEmulatorProcess();
  const bridge = await startMockBridge({ port: 0, timeZone: BENCH_TZ, bills: [] });
  const dir = await tempDir();
  const probe = new FirstByteProbe();
  const connector = new BridgeConnector({
    id: 'b1',
    baseUrl: bridge.url,
    timeoutMs: 2000,
    autoFiscalize: { enabled: true, intervalMs: options.intervalMs },
  });
  let lastListAt = 0;
  bridge.events.on('request', (request) => {
    if (request.endpoint === 'list') lastListAt = performance.now();
  });
  const rig = await openBenchAgent({
    emulatorPort: emulator.port,
    dataDir: dir.path,
    connectors: [connector],
    probe,
  });
  try {
    const firstByte: number[] = [];
    const fetch: number[] = [];
    for (let i = -2; i < options.bills; i++) {
      // A random phase of the poll cycle, so the wait for the next poll is sampled evenly.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * options.intervalMs));
      const written = probe.arm();
      const addedAt = performance.now();
      bridge.addBill(bridgeBill(200_000 + i, { positions: 10 }));
      const at = await written;
      if (i >= 0) {
        firstByte.push(at - addedAt);
        fetch.push(at - lastListAt);
      }
      await rig.watcher.counted('REPORTED', i + 3, 30_000);
    }
    return {
      bills: options.bills,
      intervalMs: options.intervalMs,
      firstByteMs: distribution(firstByte),
      fetchMs: distribution(fetch),
    };
  } finally {
    await rig.stop();
    await bridge.close();
    await emulator.stop();
    await dir.remove();
  }
}
