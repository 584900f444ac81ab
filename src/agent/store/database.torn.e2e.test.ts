import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentDatabase } from './database.js';

/**
 * What a crash in the middle of a commit leaves: a torn WAL frame. SQLite checksums every frame and only
 * replays up to the last frame of a complete commit, so a WAL cut anywhere inside the last commit, or with
 * a flipped byte in it, or with garbage after it, opens as the database before that commit: the commit was
 * never acknowledged, so nothing acted on it. Then a real writer process SIGKILLed again and again: every
 * commit it reported is there after each kill (docs/storage.md, "Crash analysis").
 */

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const writer = join(repoRoot, 'src/agent/store/__fixtures__/databaseWriter.mjs');

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-torn-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rowsOf = (db: AgentDatabase) =>
  db.statement('SELECT file FROM imported_journals ORDER BY rowid').pluck().all() as string[];

/** Opens a copy made of the given main file and WAL bytes; returns its rows. */
async function openCopy(name: string, main: Buffer, wal: Buffer): Promise<string[]> {
  const path = join(dir, `${name}.db`);
  await writeFile(path, main);
  await writeFile(`${path}-wal`, wal);
  const db = AgentDatabase.open(path, { fsync: false });
  try {
    return rowsOf(db);
  } finally {
    db.close();
  }
}

describe('a torn WAL frame', () => {
  let main: Buffer;
  let wal: Buffer;
  let lastCommitStart: number;
  const before: string[] = [];

  beforeAll(async () => {
    const path = join(dir, 'source.db');
    const db = AgentDatabase.open(path, { fsync: false, checkpointEveryCommits: 1_000_000 });
    const insert = db.statement("INSERT INTO imported_journals (file, at, records) VALUES (?, 'now', 0)");
    for (let i = 0; i < 20; i++) db.write('test', () => insert.run(`row-${i}-${'x'.repeat(i * 300)}`));
    before.push(...rowsOf(db));
    lastCommitStart = (await readFile(`${path}-wal`)).length;
    // The last commit spans several pages: several frames, the commit flag on the last one only.
    db.write('test', () => insert.run(`last-${'y'.repeat(20_000)}`));
    // Copied while the connection is open: the WAL holds every commit, the main file none of them yet.
    main = await readFile(path);
    wal = await readFile(`${path}-wal`);
    db.close();
  });

  it('has the last commit when the WAL is whole', async () => {
    const rows = await openCopy('whole', main, wal);
    expect(rows.slice(0, -1)).toEqual(before);
    expect(rows.at(-1)).toMatch(/^last-/);
  });

  it('opens as before the last commit wherever the WAL is cut inside it', async () => {
    const frameBytes = 24 + 4096;
    const cuts = new Set<number>();
    for (let at = lastCommitStart; at < wal.length; at += frameBytes) {
      for (const offset of [at, at + 1, at + 23, at + 24, at + 2000, at + frameBytes - 1]) {
        if (offset < wal.length) cuts.add(offset);
      }
    }
    expect(cuts.size).toBeGreaterThan(10);
    for (const cut of cuts) {
      expect(await openCopy(`cut-${cut}`, main, wal.subarray(0, cut)), `cut at ${cut}`).toEqual(before);
    }
  });

  it('ignores the last commit when a byte of its last frame is flipped', async () => {
    const flipped = Buffer.from(wal);
    const at = wal.length - 100;
    flipped[at] = flipped[at]! ^ 0xff;
    expect(await openCopy('flipped', main, flipped)).toEqual(before);
  });

  it('ignores zeros and garbage after the last commit (the file grew, the data never landed)', async () => {
    const zeros = Buffer.concat([wal, Buffer.alloc(3 * 4120)]);
    const garbage = Buffer.concat([wal, Buffer.from('not a frame at all'.repeat(300))]);
    const whole = await openCopy('whole-again', main, wal);
    expect(await openCopy('zeros', main, zeros)).toEqual(whole);
    expect(await openCopy('garbage', main, garbage)).toEqual(whole);
  });
});

interface Round {
  reported: number[];
  opened: number | undefined;
}

/** Starts the writer, waits for `killAfter` reported commits and a pause, then SIGKILLs it. */
function runAndKill(path: string, killAfter: number, pauseMs: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [writer, path, '7'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const round: Round = { reported: [], opened: undefined };
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let killing = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) {
        round.opened = (JSON.parse(line) as { next: number }).next;
        return;
      }
      round.reported.push(Number(line));
      if (!killing && round.reported.length >= killAfter) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), pauseMs);
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(round);
      else reject(new Error(`writer exited with ${code}: ${stderr}`));
    });
  });
}

describe('a writer process killed at random moments', () => {
  it('keeps every commit it reported, in order, through 12 kills', { timeout: 60_000 }, async () => {
    if (!existsSync(join(repoRoot, 'dist/src/agent/store/database.js'))) {
      throw new Error('dist/ is missing: run `npm run build` (npm test does) before this test');
    }
    const path = join(dir, 'soak.db');
    let confirmed = 0;
    for (let round = 0; round < 12; round++) {
      const { reported, opened } = await runAndKill(path, 5 + ((round * 37) % 60), (round * 13) % 40);
      // The writer found everything the previous rounds confirmed.
      expect(opened).toBeGreaterThanOrEqual(confirmed);
      confirmed = Math.max(confirmed, (reported.at(-1) ?? -1) + 1);
      const db = AgentDatabase.open(path, { fsync: false });
      const rows = rowsOf(db);
      db.close();
      // Every reported commit is there; at most the one in flight beyond; nothing out of order.
      expect(rows.length).toBeGreaterThanOrEqual(confirmed);
      expect(rows.length).toBeLessThanOrEqual(confirmed + 1);
      expect(rows).toEqual(rows.map((_, i) => `row-${i}`));
    }
  });
});
