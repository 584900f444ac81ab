import { appendFile, readFile, truncate } from 'node:fs/promises';
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

/** The database file a checkpoint copies the WAL's pages into. */
const DB = 'agent.db';
const WAL_FRAME_HEADER_BYTES = 24;

interface WalFrame {
  page: number;
  /** Non-zero on the last frame of a commit (the database size in pages after it). */
  commitSize: number;
  /** The database file holds this frame's page as it is: a checkpoint copied it (or wrote the same bytes). */
  inDatabase: boolean;
  end: number;
}

/**
 * The valid frames of a WAL (SQLite's WAL format: a 32-byte header with the page size and salts, then frames
 * of a 24-byte header and a page, valid while their salts are the header's), each compared with its page
 * in the database file. The agent holds its database in exclusive locking mode, so there is no wal-index
 * file that would say how far a checkpoint got: the pages themselves tell.
 */
function walFrames(wal: Buffer, db: Buffer): WalFrame[] {
  if (wal.length < WAL_HEADER_BYTES) return [];
  const pageSize = wal.readUInt32BE(8);
  const salts = [wal.readUInt32BE(16), wal.readUInt32BE(20)];
  const frameBytes = WAL_FRAME_HEADER_BYTES + pageSize;
  const frames: WalFrame[] = [];
  for (let at = WAL_HEADER_BYTES; at + frameBytes <= wal.length; at += frameBytes) {
    if (wal.readUInt32BE(at + 8) !== salts[0] || wal.readUInt32BE(at + 12) !== salts[1]) break;
    const page = wal.readUInt32BE(at);
    const content = wal.subarray(at + WAL_FRAME_HEADER_BYTES, at + frameBytes);
    const inDb = db.subarray((page - 1) * pageSize, page * pageSize);
    frames.push({
      page,
      commitSize: wal.readUInt32BE(at + 4),
      inDatabase: inDb.length === pageSize && inDb.equals(content),
      end: at + frameBytes,
    });
  }
  return frames;
}

/**
 * Whether cutting the WAL after frame `last` takes the database back to that commit: no frame after it may
 * already be in the database file (a checkpoint, or one killed half-way, copied it) unless the page as of
 * `last` is the same. Otherwise newer pages stay in `agent.db` while the WAL replays older ones: not the
 * newest writes lost but old and new pages mixed, which SQLite reads as a malformed file (STORE_CORRUPT).
 */
function cutIsClean(frames: readonly WalFrame[], last: number): boolean {
  for (let k = last + 1; k < frames.length; k++) {
    const frame = frames[k]!;
    if (!frame.inDatabase) continue;
    let kept: WalFrame | undefined;
    for (let j = last; j >= 0 && !kept; j--) if (frames[j]!.page === frame.page) kept = frames[j];
    if (!kept?.inDatabase) return false;
  }
  return true;
}

/**
 * Outside the guarantee: the storage loses writes it had confirmed (fsync'd), the newest ones, as a card
 * whose cache lies about fsync loses what it held when the power went. Cuts the WAL at a random offset
 * after one of its commits in its last quarter (or its last commit but one), so the commits after it vanish
 * and the database goes back to that commit. A cut that would drop frames a checkpoint had already copied
 * into `agent.db` is not made (see cutIsClean); a kill with no clean cut is not counted as a tear.
 */
async function loseCommittedTail(random: () => number, dataDir: string): Promise<string | undefined> {
  const path = join(dataDir, WAL);
  let wal: Buffer;
  let db: Buffer;
  try {
    [wal, db] = await Promise.all([readFile(path), readFile(join(dataDir, DB))]);
  } catch {
    return undefined;
  }
  const frames = walFrames(wal, db);
  const commits = frames.flatMap((frame, index) => (frame.commitSize !== 0 ? [index] : []));
  // Keep at least one commit, lose at least one; prefer the last quarter of the log.
  const candidates = commits.slice(0, -1).filter((index) => cutIsClean(frames, index));
  if (candidates.length === 0) return undefined;
  const late = candidates.filter((index) => index >= frames.length * 0.75);
  const pool = late.length > 0 ? late : candidates;
  const last = pool[Math.floor(random() * pool.length)]!;
  const next = commits[commits.indexOf(last) + 1]!;
  const offset = between(random, frames[last]!.end, frames[next]!.end - 1);
  await truncate(path, offset);
  const lost = commits.length - 1 - commits.indexOf(last);
  return `${WAL} cut at ${offset}/${wal.length}, ${count(lost, 'commit')} lost`;
}

async function soak(
  { random, log }: ScenarioContext,
  options: { bills: number; tears: number; tear: typeof tearCommit; label: string; gated: boolean },
): Promise<ScenarioRow> {
  const rig = await ChaosRig.open({
    bills: options.bills,
    firstBillId: options.tear === tearCommit ? 100_001 : 150_001,
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
    // Progress-aware: after 30 kills on a loaded 2-core machine the agent can need longer than a fixed deadline
    // to work off 100 bills while making steady progress; only 60 s without a document or report fails.
    const settled = await rig.settle(60_000 + options.bills * 300, rig.billIds, { stallMs: 60_000 });
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
    'match) and the agent carry on. A second row is for storage that lies about fsync: the WAL is cut ' +
    'at a random offset after one of its commits (in its last quarter where it can), never dropping frames a ' +
    'checkpoint had copied into agent.db (that mixes old and new pages: a malformed file, STORE_CORRUPT), ' +
    "losing the newest commits that had been fsync'd, so the database goes back to an earlier commit. Every " +
    "start reads the FN documents after the store's watermark, so receipts whose records were lost are " +
    'found on the register rather than printed again, and reports sent again carry the same ids.',
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
    rows.push(
      await soak(context, {
        bills: context.quick ? 20 : 50,
        tears: context.quick ? 5 : 10,
        tear: loseCommittedTail,
        label: "Storage that lies: fsync'd records lost",
        gated: true,
      }),
    );
    return rows;
  },
};
