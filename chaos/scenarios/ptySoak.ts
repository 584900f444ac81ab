import { addVerdicts, emptyVerdict, type Scenario, type ScenarioRow } from '../lib/scenario.js';
import { ptyTeardown } from './unplug.js';

/**
 * The "socat PTY torn down" row of the unplug scenario, round after round, each with a fresh rig (a new
 * emulator, socat and agent): a stall that shows once in dozens of quick runs shows here. Opt-in
 * (`npm run chaos -- --quick --only pty-soak`): too long for every CI run. `KKT_CHAOS_SOAK_ROUNDS` sets
 * the number of rounds (default 20 quick, 60 full).
 */
export const ptySoakScenario: Scenario = {
  name: 'pty-soak',
  title: 'Soak: socat PTY torn down, round after round',
  description:
    'The serial row of "Register unplugged mid-receipt" repeated with a fresh emulator, socat and agent each ' +
    'round (`--only pty-soak`, opt-in; `KKT_CHAOS_SOAK_ROUNDS` rounds). A round that does not settle keeps ' +
    "the agent's output in a file its note names. Kept as the guard of issue 18.13: once in about 47 quick " +
    'runs the agent stopped answering after the first teardown.',
  optIn: true,
  async run(context) {
    const rounds = Number(process.env.KKT_CHAOS_SOAK_ROUNDS ?? (context.quick ? 20 : 60));
    let verdict = emptyVerdict(0);
    let settled = 0;
    const unsettled: string[] = [];
    for (let round = 1; round <= rounds; round++) {
      const row = await ptyTeardown(context);
      verdict = addVerdicts(verdict, row);
      const roundSettled = row.lost === 0 && row.duplicates === 0 && row.delivered === row.bills;
      if (roundSettled) settled++;
      else unsettled.push(`round ${round}: ${row.notes.split('; not settled: ')[1] ?? row.notes}`);
      context.log(`  round ${round}/${rounds}: ${roundSettled ? 'settled' : 'NOT SETTLED'}`);
    }
    const row: ScenarioRow = {
      scenario: 'Soak: socat PTY torn down',
      runs: rounds,
      ...verdict,
      gated: true,
      notes: `${settled}/${rounds} rounds settled${unsettled.length > 0 ? `; ${unsettled.join('; ')}` : ''}`,
    };
    return [row];
  },
};
