import { appendFile, readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { ChaosRig, sleep } from '../lib/rig.js';
import {
  between,
  count,
  pick,
  type Scenario,
  type ScenarioContext,
  type ScenarioRow,
} from '../lib/scenario.js';

const JOURNALS = ['jobs.jsonl', 'outbox.jsonl'] as const;

/** Whole lines of a journal after its header, as they were written (for a plausible torn write). */
async function recordLines(path: string): Promise<string[]> {
  try {
    const lines = (await readFile(path, 'utf8')).split('\n');
    return lines.slice(1).filter((line) => line.length > 1);
  } catch {
    return [];
  }
}

/**
 * The crash came in the middle of an append: part of a line reached the disk, the rest and its fsync
 * did not, so nothing acted on it. Appends a random-length prefix of a real record, cut at a random byte.
 */
async function tearAppend(random: () => number, dataDir: string): Promise<string | undefined> {
  const name = pick(random, JOURNALS);
  const path = join(dataDir, name);
  const lines = await recordLines(path);
  if (lines.length === 0) return undefined;
  const line = Buffer.from(pick(random, lines), 'utf8');
  const cut = between(random, 1, line.length - 1);
  await appendFile(path, line.subarray(0, cut));
  return `${name} +${cut} B`;
}

/**
 * Outside the guarantee: the storage loses writes it had confirmed (fsync'd). Cuts the file at a random
 * offset in its last quarter, so committed records vanish.
 */
async function loseCommittedTail(random: () => number, dataDir: string): Promise<string | undefined> {
  const name = pick(random, JOURNALS);
  const path = join(dataDir, name);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return undefined;
  }
  if (size < 200) return undefined;
  const offset = between(random, Math.floor(size * 0.75), size - 1);
  await truncate(path, offset);
  return `${name} cut at ${offset}/${size}`;
}

async function soak(
  { random, log }: ScenarioContext,
  options: { bills: number; tears: number; tear: typeof tearAppend; label: string; gated: boolean },
): Promise<ScenarioRow> {
  const rig = await ChaosRig.open({
    bills: options.bills,
    firstBillId: options.gated ? 100_001 : 150_001,
    latencyMs: 3,
  });
  try {
    let tears = 0;
    const examples: string[] = [];
    rig.supervisor.start();
    while (tears < options.tears && !rig.ledger.settled(rig.billIds)) {
      await sleep(between(random, 100, 1500));
      await rig.supervisor.kill();
      const done = await options.tear(random, rig.dataDir);
      if (done) {
        tears++;
        if (examples.length < 3) examples.push(done);
      }
      rig.supervisor.start();
    }
    log(`  ${options.label}: ${tears} tears`);
    const settled = await rig.settle(60_000 + options.bills * 300);
    return {
      scenario: options.label,
      runs: rig.supervisor.starts,
      ...rig.verdict(),
      gated: options.gated,
      notes:
        `${count(tears, 'kill')} each followed by a tear (e.g. ${examples.join('; ')})` +
        (rig.supervisor.crashes > 0 ? `; ${rig.supervisor.crashes} exits of its own` : '') +
        (await rig.unsettledNote(settled)),
    };
  } finally {
    await rig.close();
  }
}

export const tornJournalScenario: Scenario = {
  name: 'torn-journal',
  title: 'Torn journal',
  description:
    'The agent is SIGKILLed at a random moment, then the jobs or the outbox journal (chosen at random) is ' +
    'torn before the restart: a random-length prefix of a real record, cut at a random byte, is appended, as ' +
    "when power fails in the middle of an append (the part that reached the disk was never fsync'd, so " +
    'nothing acted on it). The agent must cut it away on open and carry on. The full run adds an ungated row ' +
    'outside the guarantee: the file is cut at a random offset in its last quarter, losing records that ' +
    "had been fsync'd (storage that lies about fsync).",
  async run(context) {
    const rows = [
      await soak(context, {
        bills: context.quick ? 20 : 100,
        tears: context.quick ? 5 : 30,
        tear: tearAppend,
        label: 'Torn journal: write cut mid-line',
        gated: true,
      }),
    ];
    if (!context.quick) {
      rows.push(
        await soak(context, {
          bills: 50,
          tears: 10,
          tear: loseCommittedTail,
          label: "Beyond the guarantee: fsync'd records lost",
          gated: false,
        }),
      );
    }
    return rows;
  },
};
