import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ChaosRig, sleep } from '../lib/rig.js';
import { between, count, notRunRow, type Scenario } from '../lib/scenario.js';

const run = promisify(execFile);

/**
 * "Disk full" for one process without root: RLIMIT_FSIZE set to 0 with prlimit(1). Every write that would
 * grow a file fails (EFBIG, where a full disk says ENOSPC: both are a failed commit to the store), while
 * truncation, reads and sockets still work. Lifting the limit with `prlimit --pid` frees the "disk" live.
 */
async function setFileSizeLimit(pid: number, full: boolean): Promise<void> {
  await run('prlimit', ['--pid', String(pid), full ? '--fsize=0:unlimited' : '--fsize=unlimited:unlimited']);
}

async function prlimitAvailable(): Promise<boolean> {
  try {
    await run('prlimit', ['--version']);
    return true;
  } catch {
    return false;
  }
}

export const fullDiskScenario: Scenario = {
  name: 'full-disk',
  title: 'Full disk',
  description:
    "Bills from the mock bridge while the agent's disk fills up and is freed again, several times: with " +
    '`prlimit --pid <agent> --fsize=0` every write that would grow a file fails (EFBIG; a full disk says ' +
    'ENOSPC: both are a failed commit) while reads, truncation and sockets still work; a restart ' +
    'while the disk is full starts under the same limit (as systemd would restart into a full disk); ' +
    '`--fsize=unlimited` frees it. A loop-mounted or tmpfs file system of a given size needs root (mount), ' +
    'which CI does not have, hence the resource limit.',
  async run({ quick, random, log }) {
    const bills = quick ? 20 : 100;
    if (!(await prlimitAvailable())) {
      return [notRunRow('Full disk', bills, 'prlimit (util-linux) is not installed')];
    }
    let full = false;
    const rig = await ChaosRig.open({
      bills,
      latencyMs: 3,
      wrapper: () => (full ? ['prlimit', '--fsize=0:unlimited', '--'] : []),
    });
    try {
      const episodes = quick ? 2 : 8;
      let fullMs = 0;
      rig.supervisor.countLines(
        'failedWrites',
        /STORAGE_WRITE_FAILED|EFBIG|file too large|disk full|I\/O error/i,
      );
      rig.supervisor.start();
      await rig.supervisor.ready();
      for (let i = 0; i < episodes; i++) {
        // Evenly over the stream, and a little random, so the disk fills during intake, printing, delivery.
        await rig.untilPrinted(Math.floor((i * bills) / episodes) + 1);
        await sleep(between(random, 0, 300));
        full = true;
        const pid = rig.supervisor.pid;
        if (pid !== undefined) await setFileSizeLimit(pid, true).catch(() => undefined);
        const holdMs = between(random, 800, 3000);
        fullMs += holdMs;
        await sleep(holdMs);
        full = false;
        const after = rig.supervisor.pid;
        if (after !== undefined) await setFileSizeLimit(after, false).catch(() => undefined);
      }
      log(`  ${episodes} full-disk episodes, ${rig.supervisor.crashes} exits of its own`);
      const settled = await rig.settle(90_000 + bills * 300);
      return [
        {
          scenario: 'Full disk',
          runs: rig.supervisor.starts,
          ...rig.verdict(),
          gated: true,
          notes:
            `${count(episodes, 'episode')}, ${(fullMs / 1000).toFixed(1)} s full in all; ` +
            `${count(rig.supervisor.counted('failedWrites'), 'failed write')} logged; the agent exited on its own ` +
            `${rig.supervisor.crashes}× (restarted as systemd would)` +
            (await rig.unsettledNote(settled)),
        },
      ];
    } finally {
      await rig.close();
    }
  },
};
