import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBill, buildPosition } from '../../src/agent/domain/bill.js';
import type { CommandAnswer } from '../../src/agent/mqtt/commandLog.js';
import type { ReceiptEvent } from '../../src/agent/mqtt/receiptSink.js';
import {
  type AtolEmulator,
  EMULATOR_EXTRA_TAX_BYTES,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import { type AgentProcess, startAgentInDir } from '../support/agentProcess.js';
import { Mosquitto } from '../support/mosquitto.js';
import { Observer, tempDir, uniqueDeviceId } from './harness.js';

/**
 * The cloud asks over MQTT (real broker, real daemon process, emulated register): an inline sale with
 * change, then its return by command; each receipt comes back on `event/receipt` with its kind, the change,
 * and for the return the sale it returns — and never the buyer's contact.
 */

let broker: Mosquitto;
let atol: AtolEmulator;
let agent: AgentProcess;
let watcher: Observer;
let root: string;
let dir: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  broker = await Mosquitto.start();
  atol = await startAtolEmulator({ port: 0, persist: false, timeZone: 'Europe/Moscow', asyncLatencyMs: 5 });
  dir = await tempDir('kkt-mqtt-kinds-');
  const deviceId = uniqueDeviceId();
  root = `kkt/${deviceId}`;
  watcher = await Observer.connect(broker.url, [`${root}/resp/+`, `${root}/event/+`, `${root}/status`]);
  agent = await startAgentInDir(dir.path, {
    devices: [
      {
        id: 'kkt',
        kind: 'atol',
        link: { type: 'tcp', host: '127.0.0.1', port: atol.port },
        operator: { name: 'Кассир' },
        taxBytes: EMULATOR_EXTRA_TAX_BYTES,
      },
    ],
    mqtt: { url: broker.url, deviceId, reconnect: { initialDelayMs: 50, maxDelayMs: 300 } },
  });
  // Commands are taken once the agent has announced itself (its birth message).
  await watcher.waitFor<{ state: string }>(`${root}/status`, (p) => p.state === 'online', 'birth', 20_000);
});

afterAll(async () => {
  await agent?.stop();
  await watcher?.close();
  await atol?.close();
  await broker?.dispose();
  await dir?.remove();
});

const answer = (name: string, cmdId: string) =>
  watcher.waitFor<{ cmdId: string } & CommandAnswer>(
    `${root}/resp/${name}`,
    (a) => a.cmdId === cmdId,
    `${name} answer`,
  );

const receiptOf = (jobId: string) =>
  watcher.waitFor<ReceiptEvent>(
    `${root}/event/receipt`,
    (e) => e.jobId === jobId,
    `receipt of ${jobId}`,
    20_000,
  );

describe('receipt kinds asked for over MQTT', () => {
  it('sells with change and returns by command; the events carry the kind, the change and the related sale', async () => {
    const bill = buildBill({
      source: 'mqtt',
      account: 'web',
      billId: 'm-1',
      number: 'M1',
      currency: 'RUB',
      taxationSystem: 'osn',
      customer: { emailOrPhone: 'buyer@example.com' },
      positions: [buildPosition({ name: 'Чай', priceMinor: 12_500, quantityMilli: 2000, vat: 'vat22' })],
      payments: [{ type: 'cash', amountMinor: 30_000 }],
    });
    await watcher.publish(`${root}/cmd/fiscalize`, JSON.stringify({ cmdId: 'k-1', bill }));
    const sold = await answer('fiscalize', 'k-1');
    expect(sold.ok).toBe(true);
    const saleId = (sold as { result: { job: { id: string } } }).result.job.id;
    const saleEvent = await receiptOf(saleId);
    expect(saleEvent).toMatchObject({ operation: 'sell', bill: { totalMinor: 25_000, changeMinor: 5_000 } });

    await watcher.publish(
      `${root}/cmd/refund`,
      JSON.stringify({ cmdId: 'k-2', jobId: saleId, positions: [{ index: 0, quantityMilli: 1000 }] }),
    );
    const refunded = await answer('refund', 'k-2');
    expect(refunded.ok).toBe(true);
    const returnId = (refunded as { result: { job: { id: string } } }).result.job.id;
    const returnEvent = await receiptOf(returnId);
    expect(returnEvent).toMatchObject({
      operation: 'sellReturn',
      bill: { totalMinor: 12_500, payments: [{ type: 'cash', amountMinor: 12_500 }] },
      related: { jobId: saleId, fiscalDocumentNumber: saleEvent.fiscal?.fiscalDocumentNumber },
    });

    await watcher.publish(
      `${root}/cmd/refund`,
      JSON.stringify({ cmdId: 'k-3', jobId: saleId, positions: [{ index: 0, quantityMilli: 1001 }] }),
    );
    expect(await answer('refund', 'k-3')).toMatchObject({
      ok: false,
      error: { code: 'RETURN_EXCEEDS_SALE', field: 'totalMinor' },
    });
    const everything = JSON.stringify(watcher.jsonOn(`${root}/event/receipt`));
    expect(everything).not.toContain('buyer@example.com');
    expect(agent.output()).not.toContain('buyer@example.com');
  });
});
