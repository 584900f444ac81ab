import { appendFile, readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { ChaosRig, sleep } from '../lib/rig.js';
import { between, count, type Scenario, type ScenarioContext, type ScenarioRow } from '../lib/scenario.js';

/** The agent's write-ahead log: every commit since the last checkpoint, frame by frame. */
const WAL = 'agent.db-wal';
const WAL_HEADER_BYTES = 32;

/**
 * The crash came in the middle of a commit: part of its frames reached the disk, the rest and its fsync
 * did not, so nothing acted on it. Appends a random-length prefix of a real frame of this WAL (so the bytes
 * look like SQLite's own), cut at a random byte, after the last one.
 */
async function tearCommit(random: () => number, dataDir: string): Promise<string | undefined> {
  const path = join(dataDir, WAL);
  let wal: Buffer;
  try {
    wal = await readFile(path);
  } catch {
    return undefined;
  }
  const frameBytes = 24 + 4096;
  const frames = Math.floor((wal.length - WAL_HEADER_BYTES) / frameBytes);
  if (frames < 1) return undefined;
  const frame = Math.floor(random() * frames);
  const start = WAL_HEADER_BYTES + frame * frameBytes;
  const cut = between(random, 1, frameBytes - 1);
  await appendFile(path, wal.subarray(start, start + cut));
  return `${WAL} +${cut} B`;
}

/**
 * Outside the guarantee: the storage loses writes it had confirmed (fsync'd). Cuts the WAL at a random
 * offset in its last quarter, so committed transactions vanish.
 */
async function loseCommittedTail(random: () => number, dataDir: string): Promise<string | undefined> {
  const path = join(dataDir, WAL);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return undefined;
  }
  if (size < 200) return undefined;
  const offset = between(random, Math.floor(size * 0.75), size - 1);
  await truncate(path, offset);
  return `${WAL} cut at ${offset}/${size}`;
}

async function soak(
  { random, log }: ScenarioContext,
  options: { bills: number; tears: number; tear: typeof tearCommit; label: string; gated: boolean },
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
    // Bounded: after lost fsync'd frames the agent may refuse a malformed database (STORE_CORRUPT) and
    // never write a WAL again, so the loop must not wait for a tear that cannot come.
    for (
      let round = 0;
      round < options.tears * 10 && tears < options.tears && !rig.ledger.settled(rig.billIds);
      round++
    ) {
      // Killed once it is serving (its database open and writing), not while node is still loading: on a
      // busy machine start-up alone can outlast the random pause, and there would be no commit to tear.
      await rig.supervisor.ready().catch(() => undefined);
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

export const tornWalScenario: Scenario = {
  name: 'torn-wal',
  title: 'Torn WAL',
  description:
    "The agent is SIGKILLed at a random moment once it is serving, then the database's write-ahead log (`agent.db-wal`) is torn " +
    'before the restart: a random-length prefix of one of its own frames, cut at a random byte, is appended ' +
    'after the last one, as when power fails in the middle of a commit (the part that reached the disk was ' +
    "never fsync'd, so nothing acted on it). SQLite must ignore it on open (its frame checksum does not " +
    'match) and the agent carry on. The full run adds an ungated row outside the guarantee: the WAL is cut ' +
    "at a random offset in its last quarter, losing commits that had been fsync'd (storage that lies about " +
    'fsync).',
  async run(context) {
    const rows = [
      await soak(context, {
        bills: context.quick ? 20 : 100,
        tears: context.quick ? 5 : 30,
        tear: tearCommit,
        label: 'Torn WAL: a commit cut mid-frame',
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
