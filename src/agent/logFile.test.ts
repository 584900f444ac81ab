import { mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogFile } from './logFile.js';

async function fileContains(path: string, text: string): Promise<void> {
  for (let tries = 0; tries < 500; tries++) {
    if ((await readFile(path, 'utf8').catch(() => '')).includes(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${path} never contained ${text}`);
}

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-logfile-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const end = (file: LogFile) => new Promise<void>((resolve) => file.end(() => resolve()));

async function writeLines(file: LogFile, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve) =>
      file.write(`${prefix}-${String(i).padStart(4, '0')}\n`, () => resolve()),
    );
  }
}

describe('LogFile', () => {
  it('writes the named file with mode 0640 and rotates beside it, keeping `keep` copies', async () => {
    const path = join(dir, 'logs', 'agent.log');
    const file = new LogFile({ path, maxSizeBytes: 100, keep: 2 });
    // 10 bytes a line: a rotation every ten lines; four rotations, of which the two newest are kept.
    await writeLines(file, 'line', 45);
    await end(file);
    expect((await readdir(join(dir, 'logs'))).sort()).toEqual(['agent.log', 'agent.log.1', 'agent.log.2']);
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect(await readFile(path, 'utf8')).toBe(
      Array.from({ length: 5 }, (_, i) => `line-${String(40 + i).padStart(4, '0')}\n`).join(''),
    );
    const lines = (from: number) =>
      Array.from({ length: 10 }, (_, i) => `line-${String(from + i).padStart(4, '0')}\n`).join('');
    expect(await readFile(`${path}.1`, 'utf8')).toBe(lines(30));
    expect(await readFile(`${path}.2`, 'utf8')).toBe(lines(20));
  });

  it('reopen starts a fresh file at the path after the old one was moved away', async () => {
    const path = join(dir, 'agent.log');
    const file = new LogFile({ path, maxSizeBytes: 1024 * 1024, keep: 2 });
    await writeLines(file, 'before', 2);
    // Writes are acknowledged before they reach the disk: wait for them, as logrotate would find them.
    await fileContains(path, 'before-0001');
    await rename(path, `${path}.moved`);
    await file.reopen();
    await writeLines(file, 'after', 2);
    await end(file);
    expect(await readFile(`${path}.moved`, 'utf8')).toBe('before-0000\nbefore-0001\n');
    expect(await readFile(path, 'utf8')).toBe('after-0000\nafter-0001\n');
  });

  it('a file that cannot be written is reported once and the writer carries on', async () => {
    const errors: Error[] = [];
    // A directory where the file should be: every open fails.
    const file = new LogFile({
      path: dir,
      maxSizeBytes: 1024,
      keep: 1,
      onError: (error) => errors.push(error),
    });
    await writeLines(file, 'lost', 3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await end(file);
    expect(errors).toHaveLength(1);
  });
});
