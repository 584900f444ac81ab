import { rm } from 'node:fs/promises';
import { ChaosRig, sleep } from '../lib/rig.js';
import { between, type Scenario } from '../lib/scenario.js';

interface RecoveryView {
  origin: string;
  rebuild: string;
  receipts: { found: number; taken: number };
  devices: Array<{ documentsRead: number; startedAt?: string; finishedAt?: string }>;
}

export const sdCardScenario: Scenario = {
  name: 'sd-card',
  title: 'SD card replaced mid-day',
  description:
    'The bridge serves the bills and refuses every ReceiptCreated (HTTP 503) while they print. Once a random ' +
    'share of them (50–90 %) is printed, the agent is SIGKILLed and its data directory deleted, as when the ' +
    'card dies and a technician puts in a fresh one; the bridge then accepts reports again and the agent ' +
    'starts on the empty directory. It must read the register back before it takes any bill, report every ' +
    'bill already printed with the fiscal data of its one receipt, and print the others once. The full run ' +
    'also kills the agent in the middle of that read-back.',
  async run({ quick, random, log }) {
    const bills = quick ? 30 : 200;
    const rig = await ChaosRig.open({ bills, latencyMs: 1, asyncLatencyMs: 1 });
    try {
      rig.bridge.setFault({ kind: 'rejectReceipts', status: 503 });
      rig.supervisor.start();
      const share = between(random, 50, 90) / 100;
      const before = Math.round(bills * share);
      await rig.untilPrinted(before, 120_000 + bills * 300);
      await rig.supervisor.kill();
      const printedBefore = rig.ledger.totalPrinted;
      await rm(rig.dataDir, { recursive: true, force: true });
      rig.bridge.clearFaults();
      rig.supervisor.start();
      let killedInRebuild = false;
      if (!quick) {
        // A second power cut while the new card's store is being rebuilt: the read starts again.
        await sleep(between(random, 100, 400));
        await rig.supervisor.kill();
        killedInRebuild = true;
        rig.supervisor.start();
      }
      const settled = await rig.settle(60_000 + bills * 200);
      const recovery = (await rig.supervisor.call('status').catch(() => undefined)) as
        | { recovery: RecoveryView }
        | undefined;
      const view = recovery?.recovery;
      const device = view?.devices[0];
      const readMs =
        device?.startedAt && device.finishedAt
          ? Date.parse(device.finishedAt) - Date.parse(device.startedAt)
          : 0;
      log(
        `  ${printedBefore} printed before the card died; rebuild read ${device?.documentsRead ?? '?'} documents`,
      );
      return [
        {
          scenario: 'SD card replaced mid-day',
          runs: rig.supervisor.starts,
          ...rig.verdict(),
          gated: true,
          notes:
            `${printedBefore} of ${bills} printed and unreported when the data directory was deleted` +
            (killedInRebuild ? '; killed again during the read-back' : '') +
            (view
              ? `; store ${view.origin}, rebuild ${view.rebuild}: ${device?.documentsRead ?? 0} documents read in ${readMs} ms, ` +
                `${view.receipts.found} receipts of ours found, ${view.receipts.taken} taken by their bills`
              : '') +
            (await rig.unsettledNote(settled)),
        },
      ];
    } finally {
      await rig.close();
    }
  },
};
