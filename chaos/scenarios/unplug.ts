import type { CommandEvent, FaultSettings } from '../../src/emulators/atol/index.js';
import { ChaosRig, sleep } from '../lib/rig.js';
import {
  between,
  count,
  pick,
  type Scenario,
  type ScenarioContext,
  type ScenarioRow,
} from '../lib/scenario.js';

type LinkFault = Partial<Pick<FaultSettings, 'dropOnCommand' | 'executeThenDrop' | 'dropAfterCommands'>>;

/** Link faults of the emulator: the connection drops before a command runs, after it ran, or after N. */
function randomFault(random: () => number): LinkFault {
  switch (pick(random, ['drop', 'execute', 'after'] as const)) {
    case 'drop':
      return { dropOnCommand: pick(random, ['EB', 'E8', '4A', 'A4 30', 'A4 46']) };
    case 'execute':
      return { executeThenDrop: pick(random, ['4A', '4A', 'EB', '92', 'A4 46']) };
    case 'after':
      return { dropAfterCommands: between(random, 1, 20) };
  }
}

async function emulatorFaults({ quick, random, log }: ScenarioContext): Promise<ScenarioRow> {
  const bills = quick ? 10 : 100;
  const rig = await ChaosRig.open({ bills });
  try {
    let pending = false;
    let injected = 0;
    const fired: Record<string, number> = {};
    rig.emulator.on('fault', (event) => {
      pending = false;
      fired[event.name] = (fired[event.name] ?? 0) + 1;
    });
    rig.emulator.on('command', (event: CommandEvent) => {
      // At the start of about every other receipt, arm one link fault for what follows.
      if (event.code !== '92' || pending || random() < 0.5) return;
      const fault = randomFault(random);
      pending = true;
      injected++;
      for (const [name, value] of Object.entries(fault) as Array<[keyof LinkFault, string & number]>) {
        rig.emulator.setFault(name, value);
      }
    });
    rig.supervisor.start();
    const settled = await rig.settle(60_000 + bills * 400);
    rig.emulator.clearFaults();
    log(`  faults fired: ${JSON.stringify(fired)}`);
    return {
      scenario: 'Register unplugged: emulator link faults',
      runs: 1,
      ...rig.verdict(),
      gated: true,
      notes:
        `${count(injected, 'fault')} armed at receipt starts; fired: ` +
        Object.entries(fired)
          .map(([name, count]) => `${name} ${count}`)
          .join(', ') +
        (await rig.unsettledNote(settled)),
    };
  } finally {
    await rig.close();
  }
}

export async function ptyTeardown({ quick, random, log }: ScenarioContext): Promise<ScenarioRow> {
  const bills = quick ? 6 : 60;
  const rig = await ChaosRig.open({ bills, link: 'pty', latencyMs: 2 });
  try {
    let unplugs = 0;
    let busy = false;
    rig.emulator.on('command', (event: CommandEvent) => {
      if (event.code !== '92' || busy || random() < 0.5) return;
      busy = true;
      void (async () => {
        // Mid-receipt: a few commands into it.
        await sleep(between(random, 0, 40));
        await rig.unplug();
        unplugs++;
        await sleep(quick ? between(random, 100, 600) : between(random, 200, 1500));
        await rig.replug();
        busy = false;
      })();
    });
    rig.supervisor.start();
    const settled = await rig.settle(60_000 + bills * 1500);
    while (busy) await sleep(50);
    log(`  ${unplugs} PTY teardowns`);
    return {
      scenario: 'Register unplugged: socat PTY torn down',
      runs: 1,
      ...rig.verdict(),
      gated: true,
      notes:
        `serial link over a socat PTY; ${unplugs} times torn down mid-receipt and recreated at the same path ` +
        `${quick ? '0.1–0.6' : '0.2–1.5'} s later` +
        (await rig.unsettledNote(settled)),
    };
  } finally {
    await rig.close();
  }
}

export const unplugScenario: Scenario = {
  name: 'unplug',
  title: 'Register unplugged mid-receipt',
  description:
    'Two ways. (1) TCP to the emulator, which at the start of about every other receipt arms one link fault: drop ' +
    'the connection when a given command arrives (position, tag, close, read-back) without running it; run ' +
    'it and drop instead of answering (the close `4A` makes the fiscal document, its answer never comes); ' +
    'or drop after N more commands. (2) The serial link through a socat PTY, as a USB register appears: ' +
    'socat is killed a few ms into about every other receipt (the PTY disappears) and started again at the same ' +
    'path 0.2–1.5 s later.',
  async run(context) {
    return [await emulatorFaults(context), await ptyTeardown(context)];
  },
};
