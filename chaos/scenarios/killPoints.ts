import {
  type KillOutcome,
  type KillPointRig,
  openKillPointRig,
  PROTOCOL_KILLS,
  STORE_KILLS,
} from '../../test/support/killPoints.js';
import type { Verdict } from '../lib/ledger.js';
import { addVerdicts, count, emptyVerdict, type Scenario } from '../lib/scenario.js';

/** One bill per kill point; its outcome as the ledger would count it. */
function verdictOf(outcome: KillOutcome): Verdict {
  const printed = outcome.receipts.length;
  const reported = outcome.eventIds.length;
  return {
    bills: 1,
    fiscalDocuments: printed,
    duplicateReceipts: Math.max(0, printed - 1),
    duplicateReports: Math.max(0, reported - 1),
    duplicates: Math.max(0, printed - 1) + Math.max(0, reported - 1),
    lost: printed === 0 || reported === 0 ? 1 : 0,
    delivered: reported > 0 ? 1 : 0,
    foreignReceipts: 0,
  };
}

export const killPointsScenario: Scenario = {
  name: 'kill-points',
  title: 'Kill-point matrix',
  description:
    'The harness of `test/e2e/killPoints.e2e.test.ts` (shared in `test/support/killPoints.ts`): one ' +
    '5-position bill from the mock bridge; the agent process is SIGKILLed right after one protocol step of ' +
    'the receipt (open, each position, the marker tag, the close that makes the fiscal document, the ' +
    'read-back), or kills itself at a crash point before/after every store transaction, then restarted until ' +
    'the bill is REPORTED. One run per kill point.',
  async run({ quick, random, log }) {
    const protocol = quick ? [PROTOCOL_KILLS.find((kill) => kill.code === '4A')!] : PROTOCOL_KILLS;
    const store = quick
      ? [STORE_KILLS[Math.floor(random() * STORE_KILLS.length)]!, 'store:job-PRINTING:after']
      : STORE_KILLS;
    let total = emptyVerdict(0);
    let runs = 0;
    const failures: string[] = [];
    const points: Array<{ label: string; kill: (rig: KillPointRig) => Promise<void> }> = [
      ...protocol.map((kill) => ({
        label: kill.step,
        kill: (rig: KillPointRig) => rig.killAfterCommand(kill),
      })),
      ...store.map((point) => ({
        label: point,
        kill: async (rig: KillPointRig) => {
          const crashed = await rig.crashAt(point);
          if (crashed.signal !== 'SIGKILL') throw new Error(`the agent did not die at ${point}`);
        },
      })),
    ];
    for (const point of points) {
      runs++;
      const rig = await openKillPointRig();
      try {
        await point.kill(rig);
        const verdict = verdictOf(await rig.restartUntilReported());
        total = addVerdicts(total, verdict);
        if (verdict.duplicates > 0 || verdict.lost > 0) failures.push(point.label);
        log(`  ${point.label}: ${verdict.fiscalDocuments} document(s), ${verdict.delivered} delivered`);
      } catch (error) {
        total = addVerdicts(total, emptyVerdict(1));
        failures.push(`${point.label} (${(error as Error).message.split('\n')[0]})`);
      } finally {
        await rig.close();
      }
    }
    return [
      {
        scenario: 'Kill-point matrix',
        runs,
        ...total,
        gated: true,
        notes:
          `${count(protocol.length, 'protocol step')} + ${count(store.length, 'store crash point')}` +
          (failures.length > 0 ? `; failed: ${failures.join('; ')}` : ''),
      },
    ];
  },
};
