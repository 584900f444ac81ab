import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AtolEmulator, JournalEntry } from '../../src/emulators/atol/index.js';
import type { MockBridge } from '../../src/emulators/bridge/index.js';
import { Observer, uniqueDeviceId } from '../mqtt/harness.js';
import { receiptsOf, useAgentBox } from '../support/agentBox.js';
import { runCli, until } from '../support/agentProcess.js';
import { Mosquitto } from '../support/mosquitto.js';
import { shopConfig } from '../support/shopConfig.js';

/**
 * A dead SD card (issue 19): the data directory is lost while receipts wait for their reports. The real
 * daemon, started again on an empty directory, reads the register's FN back before it takes any bill, so
 * every bill the bridge lists again is reported with the fiscal data of its one receipt and none prints twice.
 */

const box = useAgentBox('kkt-sdcard-');
let emulator: AtolEmulator;
let bridge: MockBridge;
let receipts: JournalEntry[];

interface JobRow {
  id: string;
  state: string;
  key: string;
}

const startAgent = (extra?: Record<string, unknown>) =>
  box.startAgent(
    shopConfig({ registerPort: emulator.port, bridgeUrl: bridge.url, ...(extra ? { extra } : {}) }),
  );
const jobs = async () => ((await box.agent.call('jobs.list', { limit: 1000 })) as { jobs: JobRow[] }).jobs;
const inState = async (state: string) => (await jobs()).filter((j) => j.state === state);

beforeEach(async () => {
  emulator = await box.startRegister();
  receipts = receiptsOf(emulator);
  bridge = await box.startBridge();
});

describe('the SD card dies while reports wait', () => {
  it('rebuilds from the FN on an empty data directory: every bill reported with its one receipt, none printed twice', async () => {
    bridge.setFault({ kind: 'rejectReceipts', status: 503, times: 100_000 });
    await startAgent();
    const expected = bridge.bills().length;
    await until(async () => (await inState('FISCALIZED')).length === expected, 'all printed', 30_000);
    expect(receipts).toHaveLength(expected);
    await box.agent.kill();
    // The card is replaced: nothing of the data directory survives.
    await rm(join(box.dir, 'data'), { recursive: true, force: true });
    bridge.clearFaults();

    await startAgent();
    await until(async () => (await inState('REPORTED')).length === expected, 'all reported', 30_000);
    expect(receipts).toHaveLength(expected);
    // Each report carries the time and shift of the bill's one receipt, as the FN keeps them.
    const byMarker = new Map(receipts.map((r) => [r.marker, r]));
    const delivered = bridge.receipts.map(
      (r) => (r.body as { data: { dateTime: string; shiftId: string; extras: { billId: string } } }).data,
    );
    expect(new Set(delivered.map((d) => d.extras.billId)).size).toBe(expected);
    for (const job of await jobs()) {
      const shown = (await box.agent.call('jobs.show', { id: job.id })) as {
        job: { fiscal: { fiscalDocumentNumber: number; fiscalSign: string }; resolution?: { by: string } };
      };
      const receipt = byMarker.get(job.id);
      expect(receipt, `a receipt with marker ${job.id}`).toBeDefined();
      expect(shown.job.fiscal).toMatchObject({
        fiscalDocumentNumber: receipt!.documentNumber,
        fiscalSign: receipt!.fiscalSign,
      });
      expect(shown.job.resolution?.by).toBe('recovery');
      const report = delivered.find((d) => d.extras.billId === job.key.split('/')[2]);
      expect(report?.shiftId).toBe(String(receipt!.shiftNumber));
      expect(Date.parse(report!.dateTime)).toBe(Date.parse(receipt!.dateTime));
    }
    const status = JSON.parse((await runCli(['status', '--json', '--socket', box.agent.socket])).stdout) as {
      recovery: {
        origin: string;
        rebuild: string;
        receipts: { found: number; taken: number };
        devices: Array<{ documentsRead: number; phase: string }>;
      };
    };
    expect(status.recovery).toMatchObject({
      origin: 'new',
      rebuild: 'done',
      receipts: { found: expected, taken: expected },
    });
    // The emulator's FN: a shift opening and the receipts, all of it read (the FN is young).
    expect(status.recovery.devices[0]).toMatchObject({ phase: 'done', documentsRead: expected + 1 });
  }, 60_000);

  it('recover --from-register: refused while the agent runs, then the next start reads the register back again', async () => {
    bridge.setFault({ kind: 'rejectReceipts', status: 503, times: 100_000 });
    await startAgent();
    const expected = bridge.bills().length;
    await until(async () => (await inState('FISCALIZED')).length === expected, 'all printed', 30_000);
    const config = join(box.dir, 'config.json');

    const running = await runCli(['recover', '--from-register', '--config', config]);
    expect(running.code).not.toBe(0);
    expect(running.stderr).toContain(String(box.agent.child.pid));
    const confirm = await runCli(['recover', '--confirm', 'kkt', '--config', config]);
    expect(confirm.stderr).toContain('RECOVERY_NOTHING_TO_CONFIRM');
    await box.agent.stop();

    const declared = await runCli([
      'recover',
      '--from-register',
      '--note',
      'restored copy',
      '--config',
      config,
    ]);
    expect(declared.code).toBe(0);
    expect(declared.stdout).toContain('declared lost');
    expect(declared.stdout).toMatch(/Device kkt: its FN is read back/);
    expect(declared.stdout).toMatch(
      /Bridge 120: userId, storeId, deviceId, employeeId are not in the config/,
    );
    bridge.clearFaults();

    await startAgent();
    await until(async () => (await inState('REPORTED')).length === expected, 'all reported', 30_000);
    expect(receipts).toHaveLength(expected);
    const shown = await runCli(['recover', '--config', config]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/Store: declared-lost \(rebuild done\).*restored copy/);
    // Read again to the FN's first document; the jobs were in the store, so none needed a receipt taken.
    expect(shown.stdout).toContain(
      `kkt: done (rebuild), ${expected + 1} of at most ${expected + 1} documents`,
    );
    expect(shown.stdout).toContain(`Receipts read back: ${expected} found, 0 taken`);
  }, 60_000);

  it('reports delivered before the card died are sent again with the same ids: each cloud sees one report per bill', async () => {
    const broker = await Mosquitto.start();
    box.own({ close: () => broker.dispose() });
    const deviceId = uniqueDeviceId();
    const topic = `kkt/${deviceId}/event/receipt`;
    const watcher = box.own(await Observer.connect(broker.url, [topic]));
    const extra = {
      mqtt: { url: broker.url, deviceId, reconnect: { initialDelayMs: 50, maxDelayMs: 300 } },
    };
    await startAgent(extra);
    const expected = bridge.bills().length;
    // Every report is delivered while the card still works.
    await until(async () => (await inState('REPORTED')).length === expected, 'all reported', 30_000);
    await until(() => watcher.on(topic).length >= expected, 'every MQTT receipt event', 10_000);
    expect(bridge.receipts).toHaveLength(expected);
    await box.agent.kill();
    await rm(join(box.dir, 'data'), { recursive: true, force: true });

    await startAgent(extra);
    // The rebuilt store knows no report was delivered: each is sent again, once the connectors run.
    await until(async () => (await inState('REPORTED')).length === expected, 'all reported again', 30_000);
    await until(() => watcher.on(topic).length >= 2 * expected, 'the MQTT events again', 10_000);
    expect(receipts).toHaveLength(expected);
    const bridgeEvents = bridge.receipts.map((r) => r.body as { id: string; data: { id: string } });
    expect(bridgeEvents.length).toBeGreaterThanOrEqual(2 * expected);
    // The same ids a second time, so a bridge that deduplicates by them keeps one receipt per bill.
    expect(new Set(bridgeEvents.map((e) => e.id)).size).toBe(expected);
    expect(new Set(bridgeEvents.map((e) => e.data.id)).size).toBe(expected);
    const mqttEvents = watcher.jsonOn<{ eventId: string; jobId: string }>(topic);
    expect(new Set(mqttEvents.map((e) => e.eventId)).size).toBe(expected);
    expect(new Set(mqttEvents.map((e) => e.jobId)).size).toBe(expected);
  }, 90_000);
});

describe("another register at the device's address", () => {
  it('blocks the device with both serials named until a technician takes the new register; then its FN is read back and it prints', async () => {
    await startAgent();
    const expected = bridge.bills().length;
    await until(async () => (await inState('REPORTED')).length === expected, 'all reported', 30_000);
    await box.agent.stop();
    const oldSerial = emulator.device.identity.serial;

    // The register is swapped for another box's: another factory serial and another FN.
    const other = await box.startRegister({
      identity: { serial: '00555000000777', fnSerial: '7281440500009999' },
    });
    const printedOnOther = receiptsOf(other);
    const template = bridge.bills()[0]!;
    bridge.addBill({ ...template, id: 7777, number: '7777' });
    await box.startAgent(shopConfig({ registerPort: other.port, bridgeUrl: bridge.url }));
    const alertOf = async () =>
      (
        (await box.agent.call('status')) as {
          alerts: Array<{ code: string; message: string; device?: string }>;
        }
      ).alerts.find((a) => a.code === 'REGISTER_CHANGED');
    const alert = await until(alertOf, 'the REGISTER_CHANGED alert', 20_000);
    expect(alert.device).toBe('kkt');
    expect(alert.message).toContain('register 00555000000777 with FN 7281440500009999');
    expect(alert.message).toContain(`this store knew register ${oldSerial}`);
    expect(alert.message).toContain('kkt-agent recover --confirm kkt');
    // The new bill is taken but not printed, and nothing is read from the other register's FN.
    await until(
      async () => (await jobs()).some((j) => j.key.endsWith('/7777')),
      'the new bill taken',
      20_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(printedOnOther).toHaveLength(0);
    expect((await jobs()).find((j) => j.key.endsWith('/7777'))?.state).toBe('RECEIVED');
    const status = JSON.parse((await runCli(['status', '--json', '--socket', box.socket])).stdout) as {
      recovery: {
        devices: Array<{ phase: string; registerSerial?: string; previousRegisterSerial?: string }>;
      };
    };
    expect(status.recovery.devices[0]).toMatchObject({
      phase: 'blocked',
      registerSerial: '00555000000777',
      previousRegisterSerial: oldSerial,
    });

    const confirmed = await runCli(['recover', '--confirm', 'kkt', '--socket', box.socket]);
    expect(confirmed.code).toBe(0);
    expect(confirmed.stdout).toContain(`now takes register 00555000000777 (was ${oldSerial})`);
    await until(
      async () => (await jobs()).find((j) => j.key.endsWith('/7777'))?.state === 'REPORTED',
      'the new bill printed on the new register',
      20_000,
    );
    expect(printedOnOther).toHaveLength(1);
    expect(await alertOf()).toBeUndefined();
    // The earlier bills stay as they were: nothing of theirs printed again.
    expect(receipts).toHaveLength(expected);
  }, 90_000);
});
