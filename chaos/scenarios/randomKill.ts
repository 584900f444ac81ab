import { ChaosRig, sleep } from '../lib/rig.js';
import { between, count, type Scenario } from '../lib/scenario.js';

export const randomKillScenario: Scenario = {
  name: 'random-kill',
  title: 'Random-kill soak',
  description:
    'Bills from the mock bridge (1–3 positions each, polled every 200 ms); the agent process is SIGKILLed ' +
    'at a random moment 100–1500 ms after each start (during start-up, polling, printing, delivering) and ' +
    'started again 0–300 ms later, until every bill is printed and reported or the kill budget is spent; ' +
    'then it runs to the end undisturbed.',
  async run({ quick, random, log }) {
    const bills = quick ? 20 : 200;
    const maxKills = quick ? 6 : 60;
    const rig = await ChaosRig.open({ bills, latencyMs: 3 });
    try {
      rig.supervisor.start();
      while (!rig.ledger.settled(rig.billIds) && rig.supervisor.kills < maxKills) {
        await sleep(between(random, 100, 1500));
        await rig.supervisor.kill();
        await sleep(between(random, 0, 300));
        rig.supervisor.start();
      }
      log(`  ${rig.supervisor.kills} kills; settling`);
      const settled = await rig.settle(60_000 + bills * 200);
      const verdict = rig.verdict();
      return [
        {
          scenario: 'Random-kill soak',
          runs: rig.supervisor.starts,
          ...verdict,
          gated: true,
          notes:
            `${count(rig.supervisor.kills, 'SIGKILL')} at random moments` +
            (rig.supervisor.crashes > 0 ? `; ${rig.supervisor.crashes} exits of its own` : '') +
            (await rig.unsettledNote(settled)),
        },
      ];
    } finally {
      await rig.close();
    }
  },
};
