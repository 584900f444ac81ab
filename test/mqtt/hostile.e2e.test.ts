import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CommandAnswer } from '../../src/agent/mqtt/commandLog.js';
import type { ReceiptEvent } from '../../src/agent/mqtt/receiptSink.js';
import type { StateDocument } from '../../src/agent/state/document.js';
import {
  type AtolEmulator,
  EMULATOR_EXTRA_TAX_BYTES,
  type JournalEntry,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import { type MockBridge, SEED_BILLS, startMockBridge } from '../../src/emulators/bridge/index.js';
import { type AgentProcess, runCli, startAgentInDir, until } from '../support/agentProcess.js';
import { sampleBill } from '../support/bills.js';
import { Mosquitto } from '../support/mosquitto.js';
import { Observer, uniqueDeviceId } from './harness.js';

/**
 * Issue 18, "Hostile world", the MQTT items with the real daemon on a real broker: a cloud (or anyone
 * with a broker account) that claims another connector's bills (18.4), and a response topic used as a
 * relay into another box's command tree (18.5).
 */

type Answer = { cmdId?: string } & CommandAnswer;

let broker: Mosquitto;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  broker = await Mosquitto.start();
});

afterAll(async () => {
  await broker.dispose();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kkt-mqtt-hostile-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function emulator(): Promise<{ emulator: AtolEmulator; documents: JournalEntry[] }> {
  const started = await startAtolEmulator({ port: 0, persist: false, timeZone: 'Europe/Moscow' });
  cleanups.push(() => started.close());
  const documents: JournalEntry[] = [];
  started.on('document', (entry) => documents.push(entry));
  return { emulator: started, documents };
}

async function observer(topics: string[]): Promise<Observer> {
  const watcher = await Observer.connect(broker.url, topics);
  cleanups.push(() => watcher.close());
  return watcher;
}

async function box(deviceId: string, config: Record<string, unknown>): Promise<AgentProcess> {
  const agent = await startAgentInDir(await tempDir(), {
    timeZone: 'Europe/Moscow',
    mqtt: { url: broker.url, deviceId, reconnect: { initialDelayMs: 50, maxDelayMs: 300 } },
    ...config,
  });
  cleanups.push(() => agent.kill());
  return agent;
}

const atolDevice = (port: number) => ({
  id: 'kkt',
  kind: 'atol',
  link: { type: 'tcp', host: '127.0.0.1', port },
  operator: { name: 'Кассир' },
  taxBytes: EMULATOR_EXTRA_TAX_BYTES,
});

async function online(watcher: Observer, deviceId: string): Promise<void> {
  await watcher.waitFor<{ state: string }>(`kkt/${deviceId}/status`, (p) => p.state === 'online', 'online');
}

/** Opens the shift on a box's register, so a relayed closeShift would make a Z report (document type 5). */
async function openShift(watcher: Observer, deviceId: string): Promise<void> {
  await watcher.publish(`kkt/${deviceId}/cmd/openShift`, JSON.stringify({ cmdId: 'open-1' }));
  const answer = await watcher.waitFor<Answer>(
    `kkt/${deviceId}/resp/openShift`,
    (a) => a.cmdId === 'open-1',
    'the shift opened',
  );
  expect(answer).toMatchObject({ ok: true });
}

describe('18.5 a response topic is never a relay into a command tree', () => {
  it("a command whose response topic is another box's cmd/closeShift is refused; that box runs nothing", async () => {
    const boxA = uniqueDeviceId();
    const boxB = uniqueDeviceId();
    const { emulator: registerB, documents } = await emulator();
    const watcher = await observer([`kkt/${boxA}/#`, `kkt/${boxB}/#`]);
    await box(boxA, { devices: [{ id: 'paper', kind: 'nonfiscal' }] });
    await box(boxB, { devices: [atolDevice(registerB.port)] });
    await online(watcher, boxA);
    await online(watcher, boxB);
    await openShift(watcher, boxB);
    const before = documents.length;

    await watcher.publish(`kkt/${boxA}/cmd/status`, JSON.stringify({ cmdId: 'relay-1' }), {
      qos: 1,
      properties: { responseTopic: `kkt/${boxB}/cmd/closeShift`, correlationData: Buffer.from('x') },
    });
    const refused = await watcher.waitFor<Answer>(
      `kkt/${boxA}/resp/status`,
      (a) => a.cmdId === 'relay-1',
      'the refusal on resp/status',
    );
    expect(refused).toMatchObject({
      ok: false,
      error: { code: 'MQTT_RESPONSE_TOPIC_REFUSED', field: '(responseTopic)' },
    });
    // Box B's own command, answered: everything published before it has been seen.
    await watcher.publish(`kkt/${boxB}/cmd/status`, JSON.stringify({ cmdId: 'b-1' }));
    await watcher.waitFor<Answer>(`kkt/${boxB}/resp/status`, (a) => a.cmdId === 'b-1', 'box B answers');
    expect(
      watcher.messages.filter((m) => m.topic.startsWith(`kkt/${boxB}/cmd/`)).map((m) => m.topic),
    ).toEqual([`kkt/${boxB}/cmd/openShift`, `kkt/${boxB}/cmd/status`]);
    expect(watcher.on(`kkt/${boxB}/resp/closeShift`)).toEqual([]);
    expect(documents.length).toBe(before);
  });

  it('an answer-shaped payload on cmd/closeShift is refused for its unknown keys, naming one', async () => {
    const boxB = uniqueDeviceId();
    const { emulator: registerB, documents } = await emulator();
    const watcher = await observer([`kkt/${boxB}/#`]);
    await box(boxB, { devices: [atolDevice(registerB.port)] });
    await online(watcher, boxB);
    await openShift(watcher, boxB);
    const before = documents.length;
    // What box A published into B's command tree before the fix: its answer to a status command.
    await watcher.publish(
      `kkt/${boxB}/cmd/closeShift`,
      JSON.stringify({ cmdId: 'relayed-1', ok: true, result: { version: '0.1.0' } }),
    );
    const answer = await watcher.waitFor<Answer>(
      `kkt/${boxB}/resp/closeShift`,
      (a) => a.cmdId === 'relayed-1',
      'the closeShift answer',
    );
    expect(answer).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', field: 'ok' } });
    expect((answer as Extract<Answer, { ok: false }>).error.message).toContain('unknown field');
    expect(documents.length).toBe(before);
  });
});

describe("18.4 MQTT inline bills cannot claim another connector's bills", () => {
  async function bridgeBox(
    deviceId: string,
    extra: { mqtt?: Record<string, unknown>; outbox?: Record<string, unknown> } = {},
  ) {
    const { emulator: register, documents } = await emulator();
    const bridge: MockBridge = await startMockBridge({ port: 0, bills: [SEED_BILLS[0]!] });
    cleanups.push(() => bridge.close());
    const watcher = await observer([`kkt/${deviceId}/#`]);
    const agent = await box(deviceId, {
      devices: [atolDevice(register.port)],
      connectors: { bridge: [{ id: '120', baseUrl: bridge.url }] },
      mqtt: {
        url: broker.url,
        deviceId,
        reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
        ...extra.mqtt,
      },
      state: { intervalMs: 1000, debounceMs: 20 },
      ...(extra.outbox ? { outbox: extra.outbox } : {}),
    });
    await online(watcher, deviceId);
    return { agent, bridge, watcher, documents };
  }

  it("a bill claiming source bridge is refused (bill.source); the bridge's real bill still prints and reports", async () => {
    const deviceId = uniqueDeviceId();
    const { agent, bridge, watcher, documents } = await bridgeBox(deviceId);
    const billId = String(SEED_BILLS[0]!.id);
    const claim = sampleBill(billId, { source: 'bridge', account: '120' });
    await watcher.publish(`kkt/${deviceId}/cmd/fiscalize`, JSON.stringify({ cmdId: 'claim-1', bill: claim }));
    const refused = await watcher.waitFor<Answer>(
      `kkt/${deviceId}/resp/fiscalize`,
      (a) => a.cmdId === 'claim-1',
      'the answer to the claim',
    );
    expect(refused).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', field: 'bill.source' } });
    expect(documents).toEqual([]);

    // The technician fiscalizes the bridge's bill: it is new to the agent, prints once and is reported.
    const cli = await runCli(['fiscalize', '--account', '120', '--id', billId, '--socket', agent.socket]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^Queued: job/);
    await until(() => bridge.receipts.length === 1, 'the ReceiptCreated at the bridge');
    expect(documents.filter((d) => d.documentType === 3)).toHaveLength(1);
  });

  it('with bridge allowed: its failed draft does not cancel the MQTT report; the unreported job is an alert', async () => {
    const deviceId = uniqueDeviceId();
    const { agent, bridge, watcher } = await bridgeBox(deviceId, {
      mqtt: { inlineBillSources: ['mqtt', 'bridge'] },
      outbox: { unreportedAlertMs: 1000 },
    });
    // An inline bill the bridge connector cannot report (no bridge products recorded with it).
    const bill = sampleBill('inline-9', { source: 'bridge', account: '120' });
    await watcher.publish(`kkt/${deviceId}/cmd/fiscalize`, JSON.stringify({ cmdId: 'inline-1', bill }));
    const answer = await watcher.waitFor<Answer>(
      `kkt/${deviceId}/resp/fiscalize`,
      (a) => a.cmdId === 'inline-1',
      'the fiscalize answer',
    );
    expect(answer).toMatchObject({ ok: true });
    const jobId = (answer as { result: { job: { id: string } } }).result.job.id;
    const event = await watcher.waitFor<ReceiptEvent>(
      `kkt/${deviceId}/event/receipt`,
      (e) => e.jobId === jobId,
      'the MQTT receipt event',
    );
    expect(event.bill).toMatchObject({ source: 'bridge', account: '120', billId: 'inline-9' });
    const state = await watcher.waitFor<StateDocument>(
      `kkt/${deviceId}/state`,
      (doc) => (doc.alerts ?? []).some((a) => a.code === 'RECEIPTS_UNREPORTED'),
      'the alert in the state document',
    );
    expect(state.jobs.counts.FISCALIZED).toBe(1);
    const status = await runCli(['status', '--socket', agent.socket]);
    expect(status.stdout).toContain('fiscalized but not reported');
    expect(bridge.receipts).toEqual([]);
  });
});
