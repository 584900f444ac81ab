import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bridgeBill } from '../../test/support/bridgeBills.js';
import { ChaosRig, sleep } from '../lib/rig.js';
import { between, count, type Scenario, type ScenarioContext, type ScenarioRow } from '../lib/scenario.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function registerClock({ quick, log }: ScenarioContext): Promise<ScenarioRow> {
  const bills = quick ? 12 : 60;
  const jumps = quick ? 1 : 3;
  const rig = await ChaosRig.open({ bills, latencyMs: 2 });
  try {
    // Each jump lands in the middle of a receipt, at evenly spaced points of the stream.
    const jumpAt = new Set(
      Array.from({ length: jumps }, (_, i) => Math.floor(((i + 1) * bills) / (jumps + 1))),
    );
    let receiptsStarted = 0;
    let jumped = 0;
    rig.emulator.on('command', (event) => {
      if (event.code !== '92') return;
      receiptsStarted++;
      if (!jumpAt.has(receiptsStarted)) return;
      jumpAt.delete(receiptsStarted);
      // Past the 24-hour shift limit: the register answers 88 until the shift is closed and opened again.
      rig.emulator.advanceClock(25 * HOUR);
      jumped++;
    });
    rig.supervisor.start();
    const settled = await rig.settle(60_000 + bills * 400);
    const shift = rig.emulator.device.shift.number;
    log(`  register clock jumped ${jumped}× by +25 h; shift ${shift}`);
    return {
      scenario: 'Clock jump: the register +25 h',
      runs: 1,
      ...rig.verdict(),
      gated: true,
      notes:
        `${count(jumped, 'jump')} of +25 h, each in the middle of a receipt (the open shift expires under it); ended in ` +
        `shift ${shift}` +
        (await rig.unsettledNote(settled)),
    };
  } finally {
    await rig.close();
  }
}

/** An agent whose wall clock the scenario moves: the preload and the file it reads its offset from. */
async function clockRig(bills: number, firstBillId: number) {
  const preload = pathToFileURL(fileURLToPath(new URL('../lib/clockShift.js', import.meta.url))).href;
  const clockFile = join(tmpdir(), `kkt-chaos-clock-${process.pid}-${firstBillId}`);
  await writeFile(clockFile, '0');
  const rig = await ChaosRig.open({
    bills,
    firstBillId,
    latencyMs: 2,
    env: {
      NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import=${preload}`.trim(),
      KKT_CHAOS_CLOCK_FILE: clockFile,
    },
  });
  let offsetMs = 0;
  return {
    rig,
    /** Steps the agent's wall clock by `stepMs` (cumulative) now; a restart keeps the stepped clock. */
    async step(stepMs: number) {
      offsetMs += stepMs;
      await writeFile(clockFile, String(offsetMs));
      const pid = rig.supervisor.pid;
      if (pid !== undefined) process.kill(pid, 'SIGUSR2');
    },
    async close() {
      await rig.close();
      await rm(clockFile, { force: true });
    },
  };
}

const describeStep = (ms: number) => (Math.abs(ms) >= DAY ? `${ms / DAY} d` : `${ms / HOUR} h`);

async function agentClock({ quick, random, log }: ScenarioContext): Promise<ScenarioRow> {
  const bills = quick ? 15 : 80;
  const clock = await clockRig(bills, 100_001);
  const { rig } = clock;
  try {
    const steps = quick ? [2 * HOUR, -3 * HOUR] : [2 * HOUR, -3 * HOUR, 8 * DAY, -DAY, -9 * DAY, 30 * DAY];
    let kills = 0;
    rig.supervisor.start();
    for (const [index, step] of steps.entries()) {
      // Evenly over the stream, so bills are still printing and being reported around each step.
      await rig.untilPrinted(Math.floor(((index + 1) * bills) / (steps.length + 1)));
      await clock.step(step);
      // Now and then a power cut right after the jump: the restart comes up with the jumped clock.
      if (random() < 0.4) {
        await sleep(between(random, 50, 600));
        await rig.supervisor.kill();
        kills++;
        rig.supervisor.start();
      }
    }
    const settled = await rig.settle(60_000 + bills * 400);
    log(`  agent clock steps ${steps.map(describeStep).join(', ')}`);
    return {
      scenario: "Clock jump: the agent's wall clock",
      runs: rig.supervisor.starts,
      ...rig.verdict(),
      gated: true,
      notes:
        `steps ${steps.map(describeStep).join(', ')} (cumulative), ${count(kills, 'SIGKILL')} right after a step` +
        (await rig.unsettledNote(settled)),
    };
  } finally {
    await clock.close();
  }
}

/**
 * A deterministic probe: the register refuses a receipt (no paper), so the fiscalizer schedules a retry;
 * then the agent's wall clock steps back 2 hours before the retry is due. The refused bill must still
 * print within seconds once the paper is back.
 */
async function stepBackDuringRetry({ log }: ScenarioContext): Promise<ScenarioRow> {
  const bills = 6;
  const clock = await clockRig(bills, 120_001);
  const { rig } = clock;
  try {
    rig.supervisor.start();
    await rig.untilPrinted(2);
    rig.emulator.setFault('noPaper', true);
    // The refusal is journaled (the job back to RECEIVED with its failure) and its retry scheduled.
    const requeued = async () => {
      const { jobs } = (await rig.supervisor.call('jobs.list', { limit: 100 })) as {
        jobs: Array<{ state: string; attempts: number; failure?: string }>;
      };
      return jobs.some((job) => job.state === 'RECEIVED' && job.attempts > 0 && job.failure !== undefined);
    };
    const deadline = Date.now() + 20_000;
    while (!(await requeued()) && Date.now() < deadline) await sleep(10);
    await clock.step(-2 * HOUR);
    await sleep(300);
    rig.emulator.setFault('noPaper', false);
    const settled = await rig.settle(6_000);
    log(`  settled ${settled}`);
    return {
      scenario: 'Clock jump: back 2 h during a retry backoff',
      runs: 1,
      ...rig.verdict(),
      gated: true,
      notes:
        `paper out → the receipt is refused and a retry scheduled; the wall clock steps back 2 h; paper back ` +
        `300 ms later; waited 6 s` +
        (await rig.unsettledNote(settled)),
    };
  } finally {
    await clock.close();
  }
}

/**
 * A deterministic probe: the agent dies right after committing a receipt FISCALIZED with its report drafted
 * (crash point `store:job-FISCALIZED:after`: one transaction holds both, nothing delivered yet), and comes
 * back with its wall clock 30 days ahead (a Pi without a real-time clock that printed on a stale clock until
 * NTP corrected it, or a box left off for a month). The report must still be delivered, once.
 */
async function restartLaterAfterCrash({ log }: ScenarioContext): Promise<ScenarioRow> {
  const clock = await clockRig(1, 130_001);
  const { rig } = clock;
  try {
    // A first bill settles normally, so the shift is open: the crash point below then hits the second
    // bill's FISCALIZED commit.
    rig.supervisor.start();
    await rig.settle(30_000);
    await rig.supervisor.kill();
    rig.bridge.addBill(bridgeBill(130_002));
    const billIds = ['130001', '130002'];
    rig.supervisor.start({ env: { KKT_AGENT_CRASH_AT: 'store:job-FISCALIZED:after' }, expectExit: true });
    await rig.supervisor.exit();
    await clock.step(30 * DAY);
    rig.supervisor.start();
    const settled = await rig.settle(6_000, billIds);
    log(`  restarted 30 d later; settled ${settled}`);
    return {
      scenario: 'Clock jump: restart 30 d later after a crash before the report went out',
      runs: rig.supervisor.starts,
      ...rig.verdict(billIds),
      gated: true,
      notes:
        'SIGKILL at `store:job-FISCALIZED:after` of the second bill (receipt FISCALIZED, report drafted, not sent), ' +
        'restart with the clock 30 days ahead; waited 6 s' +
        (await rig.unsettledNote(settled)),
    };
  } finally {
    await clock.close();
  }
}

export const clockJumpScenario: Scenario = {
  name: 'clock-jump',
  title: 'Clock jumps',
  description:
    "Two clocks. (1) The register's: `emulator.advanceClock(+25 h)` in the middle of receipts spread over " +
    'the stream, so the open shift expires under the agent (the register answers 88 until the shift is ' +
    "closed and a new one opened). (2) The agent's wall clock: a module preloaded into the agent process " +
    '(`chaos/lib/clockShift.ts`) shifts `Date.now()` and `new Date()` by an offset re-read on SIGUSR2; ' +
    'steps of hours and days, forward and back, some followed by a SIGKILL so the restart comes up with ' +
    'the jumped clock. Monotonic time (timers, `performance.now()`) is untouched, as by a real NTP step. ' +
    'Two deterministic probes on the agent clock: a step back of 2 h while a refused receipt (paper out) ' +
    'waits for its retry; and a crash right after the FISCALIZED commit followed by a restart with the ' +
    'clock 30 days ahead.',
  async run(context) {
    return [
      await registerClock(context),
      await agentClock(context),
      await stepBackDuringRetry(context),
      await restartLaterAfterCrash(context),
    ];
  },
};
