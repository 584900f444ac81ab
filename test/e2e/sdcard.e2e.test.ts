import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AtolEmulator, JournalEntry } from '../../src/emulators/atol/index.js';
import type { MockBridge } from '../../src/emulators/bridge/index.js';
import { receiptsOf, useAgentBox } from '../support/agentBox.js';
import { runCli, until } from '../support/agentProcess.js';
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

const startAgent = () => box.startAgent(shopConfig({ registerPort: emulator.port, bridgeUrl: bridge.url }));
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
});
