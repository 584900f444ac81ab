import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonlJournal } from './journal.js';

/**
 * A real writer process is SIGKILLed at a random moment, again and again on the same journal. Every record
 * it reported after `set` resolved must be there after each kill, and nothing it never wrote.
 * (SIGKILL keeps the page cache, so this proves process-crash safety; power cuts are docs/storage.md.)
 */

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const storeDir = join(repoRoot, 'src/agent/store');
const compiledJournal = join(repoRoot, 'dist/src/agent/store/journal.js');
const writerFixture = join(storeDir, '__fixtures__/journalWriter.mjs');
/** Compacting often makes some kills land inside a compaction and leave a `.compact` file behind. */
const COMPACT_EVERY = 5;

async function newestSourceMtime(): Promise<number> {
  const sources = [
    ...(await readdir(storeDir)).filter((name) => name.endsWith('.ts')).map((name) => join(storeDir, name)),
    ...(await readdir(join(repoRoot, 'src/lib'))).map((name) => join(repoRoot, 'src/lib', name)),
  ].filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'));
  const times = await Promise.all(sources.map(async (file) => (await stat(file)).mtimeMs));
  return Math.max(...times);
}

/** Compiles only the journal and what it imports, so other modules being edited cannot break this test. */
async function ensureCompiledJournal(): Promise<void> {
  const compiledAt = await stat(compiledJournal).then(
    (info) => info.mtimeMs,
    () => 0,
  );
  if (compiledAt >= (await newestSourceMtime())) return;
  await promisify(execFile)(
    process.execPath,
    [
      join(repoRoot, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(storeDir, '__fixtures__/tsconfig.journal.json'),
    ],
    { cwd: repoRoot },
  );
}

type Record = { seq: number; note?: string };

interface Round {
  reported: number[];
  opened: { size: number; next: number } | undefined;
  stderr: string;
}

/** Starts the writer, waits for `killAfter` reported records (plus a random pause), then SIGKILLs it. */
function runAndKill(path: string, killAfter: number, pauseMs: number): Promise<Round> {
  const child: ChildProcess = spawn(process.execPath, [writerFixture, path, String(COMPACT_EVERY)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const round: Round = { reported: [], opened: undefined, stderr: '' };
  child.stderr?.on('data', (chunk: Buffer) => {
    round.stderr += chunk.toString();
  });
  let killing = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) {
      round.opened = JSON.parse(line) as Round['opened'];
      return;
    }
    round.reported.push(Number(line));
    if (!killing && round.reported.length >= killAfter) {
      killing = true;
      setTimeout(() => child.kill('SIGKILL'), pauseMs);
    }
  });
  return new Promise((resolve) => child.on('close', () => resolve(round)));
}

let dir: string;

beforeAll(async () => {
  await ensureCompiledJournal();
  dir = await mkdtemp(join(tmpdir(), 'kkt-journal-crash-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('journal under SIGKILL', () => {
  it('keeps every record reported durable, across repeated kills, compactions included', async () => {
    const path = join(dir, 'jobs.jsonl');
    const allReported: number[] = [];

    for (let round = 0; round < 10; round += 1) {
      const killAfter = 5 + Math.floor(Math.random() * 120);
      const pauseMs = Math.floor(Math.random() * 4);
      const result = await runAndKill(path, killAfter, pauseMs);
      expect(result.stderr).toBe('');
      expect(result.opened).toBeDefined();
      expect(result.reported.length).toBeGreaterThanOrEqual(killAfter);
      allReported.push(...result.reported);

      const journal = await JsonlJournal.open<Record>(path);
      const lastReported = Math.max(...allReported);
      for (const seq of allReported)
        expect(journal.get(`record-${seq}`)).toEqual({ seq, note: 'x'.repeat(seq % 50) });
      // Only the one set that was in flight at the kill may be there unreported; nothing beyond it.
      const stored = [...journal.keys()]
        .filter((key) => key.startsWith('record-'))
        .map((key) => Number(key.slice(7)));
      expect(Math.max(...stored)).toBeLessThanOrEqual(lastReported + 1);
      expect(stored.length).toBe(Math.max(...stored) + 1);
      expect(journal.get('latest')!.seq).toBeGreaterThanOrEqual(lastReported);
      expect(journal.get('latest')!.seq).toBeLessThanOrEqual(lastReported + 1);
      await journal.close();
    }
    // Numbers continue across rounds: each writer resumed after what the previous one left.
    expect(allReported).toEqual([...allReported].sort((a, b) => a - b));
  }, 60_000); // a child process started and killed per round
});
