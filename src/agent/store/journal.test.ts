import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JsonlJournal } from './journal.js';
import { HEADER_LINE } from './journalFormat.js';

interface Job {
  state: string;
  sumKop: number;
}

const JobSchema = z.object({ state: z.string(), sumKop: z.number().int() });
const validate = (value: unknown): Job => JobSchema.parse(value);

let dir: string;
let path: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-journal-'));
  path = join(dir, 'jobs.jsonl');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileLines(): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n');
}

describe('JsonlJournal basics', () => {
  it('creates a journal with a version header', async () => {
    const journal = await JsonlJournal.open<Job>(path, { validate });
    expect(journal.recovery).toEqual({ created: true, tornTail: null, compactFile: 'none' });
    expect(journal.size).toBe(0);
    await journal.close();
    expect(await readFile(path, 'utf8')).toBe(`${HEADER_LINE}\n`);
  });

  it('keeps set and delete across a reopen, the last record winning', async () => {
    const journal = await JsonlJournal.open<Job>(path, { validate });
    await journal.set('bill-1', { state: 'RECEIVED', sumKop: 100 });
    await journal.set('bill-2', { state: 'RECEIVED', sumKop: 250 });
    await journal.set('bill-1', { state: 'PRINTING', sumKop: 100 });
    await journal.set('bill-3', { state: 'RECEIVED', sumKop: 7 });
    expect(await journal.delete('bill-2')).toBe(true);
    expect(await journal.delete('never-was')).toBe(false);
    await journal.close();

    const reopened = await JsonlJournal.open<Job>(path, { validate });
    expect(reopened.recovery).toEqual({ created: false, tornTail: null, compactFile: 'none' });
    expect(reopened.get('bill-1')).toEqual({ state: 'PRINTING', sumKop: 100 });
    expect(reopened.has('bill-2')).toBe(false);
    expect(reopened.get('bill-2')).toBeUndefined();
    expect([...reopened.keys()].sort()).toEqual(['bill-1', 'bill-3']);
    expect(reopened.size).toBe(2);
    expect(reopened.lineCount).toBe(5);
    await reopened.close();
  });

  it('writes lines in call order when calls are not awaited one by one', async () => {
    const journal = await JsonlJournal.open<Job>(path, { validate });
    const calls = Array.from({ length: 50 }, (_, index) =>
      journal.set(`k${index % 7}`, { state: `S${index}`, sumKop: index }),
    );
    calls.push(journal.delete('k3').then(() => undefined));
    calls.push(journal.set('k3', { state: 'AFTER-DELETE', sumKop: -1 }));
    await Promise.all(calls);
    await journal.close();

    const lines = await fileLines();
    const records = lines.slice(1, -1).map((line) => JSON.parse(line) as { k: string; v?: Job });
    expect(records.slice(0, 50).map((record) => record.v?.sumKop)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    expect(records[50]).toEqual({ k: 'k3' });
    expect(records[51]).toEqual({ k: 'k3', v: { state: 'AFTER-DELETE', sumKop: -1 } });

    const reopened = await JsonlJournal.open<Job>(path, { validate });
    expect(reopened.get('k3')).toEqual({ state: 'AFTER-DELETE', sumKop: -1 });
    expect(reopened.get('k6')).toEqual({ state: 'S48', sumKop: 48 });
    await reopened.close();
  });

  it('changes memory only once the write is durable', async () => {
    const journal = await JsonlJournal.open<Job>(path, { validate });
    const pending = journal.set('bill', { state: 'PRINTING', sumKop: 1 });
    expect(journal.has('bill')).toBe(false);
    await pending;
    expect(journal.get('bill')).toEqual({ state: 'PRINTING', sumKop: 1 });
    await journal.close();
  });

  it('does one fsync per set and per delete, and one per batch', async () => {
    const journal = await JsonlJournal.open<Job>(path, { validate });
    const before = journal.stats;
    for (let index = 0; index < 10; index += 1) await journal.set(`k${index}`, { state: 'A', sumKop: index });
    await journal.delete('k0');
    await journal.setMany([
      ['k1', { state: 'B', sumKop: 1 }],
      ['k2', { state: 'B', sumKop: 2 }],
    ]);
    const after = journal.stats;
    expect(after.fsyncs - before.fsyncs).toBe(12);
    expect(after.appends - before.appends).toBe(12);
    expect(after.bytesWritten).toBe((await readFile(path)).length);
    await journal.close();
  });

  it('deletes several keys in one line with one fsync, and survives a reopen', async () => {
    const journal = await JsonlJournal.open<Job>(path, { validate });
    await journal.setMany([
      ['a', { state: 'x', sumKop: 1 }],
      ['b', { state: 'y', sumKop: 2 }],
      ['c', { state: 'z', sumKop: 3 }],
    ]);
    const before = journal.stats.fsyncs;
    expect(await journal.deleteMany(['a', 'c', 'missing'])).toBe(2);
    expect(journal.stats.fsyncs - before).toBe(1);
    expect(await journal.deleteMany(['missing'])).toBe(0);
    await journal.close();
    const reopened = await JsonlJournal.open<Job>(path, { validate });
    expect([...reopened.keys()]).toEqual(['b']);
    await reopened.close();
  });

  it('does no fsync when fsync is off', async () => {
    const journal = await JsonlJournal.open<Job>(path, { validate, fsync: false });
    await journal.set('a', { state: 'A', sumKop: 1 });
    await journal.compact();
    expect(journal.stats.fsyncs).toBe(0);
    await journal.close();
  });

  it('stores a batch as one line that reopens whole', async () => {
    const journal = await JsonlJournal.open<Job>(path, { validate });
    await journal.setMany([
      ['a', { state: 'A', sumKop: 1 }],
      ['b', { state: 'B', sumKop: 2 }],
      ['a', { state: 'A2', sumKop: 3 }],
    ]);
    await journal.setMany([]);
    expect(journal.lineCount).toBe(1);
    await journal.close();
    expect((await fileLines()).length).toBe(3);
    const reopened = await JsonlJournal.open<Job>(path, { validate });
    expect(Object.fromEntries(reopened.entries())).toEqual({
      a: { state: 'A2', sumKop: 3 },
      b: { state: 'B', sumKop: 2 },
    });
    await reopened.close();
  });

  it('refuses values it could not read back, without writing anything', async () => {
    const journal = await JsonlJournal.open<Job>(path, { validate });
    await expect(journal.set('x', { state: 'A', sumKop: 1.5 })).rejects.toMatchObject({
      code: 'JOURNAL_INVALID_VALUE',
    });
    await expect(journal.set('x', null as unknown as Job)).rejects.toMatchObject({
      code: 'JOURNAL_INVALID_VALUE',
    });
    const loose = await JsonlJournal.open<{ n: bigint }>(join(dir, 'loose.jsonl'));
    await expect(loose.set('x', { n: 1n })).rejects.toMatchObject({ code: 'JOURNAL_INVALID_VALUE' });
    await loose.close();
    expect(journal.size).toBe(0);
    expect(journal.stats.appends).toBe(0);
    await journal.close();
    expect(await readFile(path, 'utf8')).toBe(`${HEADER_LINE}\n`);
  });

  it('hands out frozen values so memory cannot drift from disk', async () => {
    const journal = await JsonlJournal.open<Job>(path, { validate });
    const value = { state: 'A', sumKop: 1 };
    await journal.set('a', value);
    value.sumKop = 99;
    const stored = journal.get('a')!;
    expect(stored.sumKop).toBe(1);
    expect(() => {
      (stored as { sumKop: number }).sumKop = 2;
    }).toThrow(TypeError);
    await journal.close();
  });

  it('rejects calls after close with JOURNAL_CLOSED, after finishing queued ones', async () => {
    const journal = await JsonlJournal.open<Job>(path, { validate });
    const queued = journal.set('a', { state: 'A', sumKop: 1 });
    const closed = journal.close();
    await expect(journal.set('b', { state: 'B', sumKop: 2 })).rejects.toMatchObject({
      code: 'JOURNAL_CLOSED',
    });
    await queued;
    await closed;
    await journal.close();
    const reopened = await JsonlJournal.open<Job>(path, { validate });
    expect(reopened.get('a')).toEqual({ state: 'A', sumKop: 1 });
    await reopened.close();
  });
});

describe('JsonlJournal damage that a crash cannot explain', () => {
  async function writeJournal(...lines: string[]): Promise<void> {
    await writeFile(path, `${[HEADER_LINE, ...lines].join('\n')}\n`);
  }

  it('names the line of an unreadable record in the middle', async () => {
    await writeJournal(
      '{"k":"a","v":{"state":"A","sumKop":1}}',
      '{"k":"b","v":{"state"',
      '{"k":"c","v":{"state":"C","sumKop":3}}',
    );
    await expect(JsonlJournal.open<Job>(path, { validate })).rejects.toMatchObject({
      code: 'JOURNAL_CORRUPT',
      line: 3,
      message: expect.stringContaining('line 3'),
    });
  });

  it('treats a zeroed middle line followed by good lines as damage, not a torn write', async () => {
    await writeJournal(
      '{"k":"a","v":{"state":"A","sumKop":1}}',
      '\0'.repeat(20),
      '{"k":"c","v":{"state":"C","sumKop":3}}',
    );
    await expect(JsonlJournal.open<Job>(path, { validate })).rejects.toMatchObject({
      code: 'JOURNAL_CORRUPT',
      line: 3,
    });
  });

  it('treats a complete but garbled last line (no NUL bytes) as damage', async () => {
    await writeJournal('{"k":"a","v":{"state":"A","sumKop":1}}', '{"k":"b","v":{"stXte":"B"');
    await expect(JsonlJournal.open<Job>(path, { validate })).rejects.toMatchObject({
      code: 'JOURNAL_CORRUPT',
      line: 3,
    });
  });

  it('rejects invalid UTF-8 instead of reading it as a replacement character', async () => {
    const good = Buffer.from(`${HEADER_LINE}\n{"k":"a","v":{"state":"A","sumKop":1}}\n`);
    const bad = Buffer.from('{"k":"b","v":{"state":"Б","sumKop":2}}\n');
    const flipped = bad.indexOf(Buffer.from('Б'));
    bad[flipped] = 0xff;
    await writeFile(
      path,
      Buffer.concat([good, bad, Buffer.from('{"k":"c","v":{"state":"C","sumKop":3}}\n')]),
    );
    await expect(JsonlJournal.open<Job>(path, { validate })).rejects.toMatchObject({
      code: 'JOURNAL_CORRUPT',
      line: 3,
    });
  });

  it('rejects a file without the header', async () => {
    await writeFile(path, '{"k":"a","v":{"state":"A","sumKop":1}}\n');
    await expect(JsonlJournal.open<Job>(path, { validate })).rejects.toMatchObject({
      code: 'JOURNAL_CORRUPT',
      line: 1,
    });
  });

  it('rejects a newer format version', async () => {
    await writeFile(path, '{"format":"kkt-journal","version":2}\n');
    await expect(JsonlJournal.open<Job>(path, { validate })).rejects.toMatchObject({
      code: 'JOURNAL_VERSION_UNSUPPORTED',
    });
  });

  it('names the line and key whose latest value fails validation', async () => {
    await writeJournal(
      '{"k":"a","v":{"state":"A","sumKop":"not a number"}}',
      '{"k":"a","v":{"state":"A","sumKop":1}}',
      '{"k":"b","v":{"state":"B"}}',
    );
    await expect(JsonlJournal.open<Job>(path, { validate })).rejects.toMatchObject({
      code: 'JOURNAL_CORRUPT',
      line: 4,
      details: expect.objectContaining({ key: 'b' }),
    });
  });

  it('leaves a damaged file untouched', async () => {
    await writeJournal(
      '{"k":"a","v":{"state":"A","sumKop":1}}',
      'garbage',
      '{"k":"c","v":{"state":"C","sumKop":3}}',
    );
    const before = await readFile(path);
    await expect(JsonlJournal.open<Job>(path, { validate })).rejects.toThrow();
    expect(await readFile(path)).toEqual(before);
  });
});

describe('JsonlJournal compaction', () => {
  async function filled(): Promise<JsonlJournal<Job>> {
    const journal = await JsonlJournal.open<Job>(path, { validate });
    for (let round = 0; round < 5; round += 1) {
      for (let index = 0; index < 8; index += 1) {
        await journal.set(`bill-${index}`, { state: `S${round}`, sumKop: round * 10 + index });
      }
    }
    await journal.delete('bill-3');
    await journal.delete('bill-5');
    return journal;
  }

  it('keeps the content and drops stale lines', async () => {
    const journal = await filled();
    const before = Object.fromEntries(journal.entries());
    expect(journal.lineCount).toBe(42);
    expect(journal.staleRatio).toBeCloseTo(36 / 42);
    await journal.compact();
    expect(Object.fromEntries(journal.entries())).toEqual(before);
    expect(journal.lineCount).toBe(6);
    expect(journal.staleRatio).toBe(0);
    expect(journal.stats.compactions).toBe(1);

    await journal.set('bill-9', { state: 'NEW', sumKop: 9 });
    await journal.close();
    expect((await fileLines()).length).toBe(1 + 7 + 1);

    const reopened = await JsonlJournal.open<Job>(path, { validate });
    expect(Object.fromEntries(reopened.entries())).toEqual({
      ...before,
      'bill-9': { state: 'NEW', sumKop: 9 },
    });
    expect(reopened.recovery.compactFile).toBe('none');
    await reopened.close();
  });

  it('rewrites values as they were stored, not as the validator returned them', async () => {
    await writeFile(
      path,
      `${HEADER_LINE}\n{"k":"old","v":{"state":"A","sumKop":1,"legacy":true}}\n{"k":"gone","v":{"state":"B","sumKop":2}}\n`,
    );
    const withDefaults = (value: unknown) => ({ retries: 0, ...JobSchema.parse(value) });
    const journal = await JsonlJournal.open(path, { validate: withDefaults });
    expect(journal.get('old')).toEqual({ retries: 0, state: 'A', sumKop: 1 });
    await journal.delete('gone');
    await journal.compact();
    await journal.close();
    expect(await fileLines()).toEqual([
      HEADER_LINE,
      '{"k":"old","v":{"state":"A","sumKop":1,"legacy":true}}',
      '',
    ]);
  });

  it('fsyncs the compact file and the directory twice', async () => {
    const journal = await filled();
    const before = journal.stats.fsyncs;
    await journal.compact();
    expect(journal.stats.fsyncs - before).toBe(3);
    await journal.close();
  });

  it('deletes a complete compact file left by a crash before the rename', async () => {
    const journal = await filled();
    const before = Object.fromEntries(journal.entries());
    await journal.close();
    const main = await readFile(path);
    // What compaction would have written: header plus one line per live key.
    const compacted = [HEADER_LINE, ...Object.entries(before).map(([k, v]) => JSON.stringify({ k, v }))];
    await writeFile(`${path}.compact`, `${compacted.join('\n')}\n`);

    const reopened = await JsonlJournal.open<Job>(path, { validate });
    expect(reopened.recovery.compactFile).toBe('deleted');
    expect(Object.fromEntries(reopened.entries())).toEqual(before);
    await reopened.close();
    expect(await readFile(path)).toEqual(main);
    await expect(readFile(`${path}.compact`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('deletes an incomplete compact file left by a crash while writing it', async () => {
    const journal = await filled();
    const before = Object.fromEntries(journal.entries());
    await journal.close();
    await writeFile(`${path}.compact`, `${HEADER_LINE}\n{"k":"bill-0","v":{"sta`);

    const reopened = await JsonlJournal.open<Job>(path, { validate });
    expect(reopened.recovery.compactFile).toBe('deleted');
    expect(Object.fromEntries(reopened.entries())).toEqual(before);
    await reopened.close();
    await expect(readFile(`${path}.compact`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('promotes the compact file when the main file is missing', async () => {
    const journal = await filled();
    const before = Object.fromEntries(journal.entries());
    await journal.compact();
    await journal.close();
    await writeFile(`${path}.compact`, await readFile(path));
    await rm(path);

    const reopened = await JsonlJournal.open<Job>(path, { validate });
    expect(reopened.recovery.compactFile).toBe('promoted');
    expect(Object.fromEntries(reopened.entries())).toEqual(before);
    await reopened.close();
  });

  it('runs in the write queue, so changes around it all land', async () => {
    const journal = await filled();
    const calls = [
      journal.set('x1', { state: 'X', sumKop: 1 }),
      journal.compact(),
      journal.set('x2', { state: 'X', sumKop: 2 }),
      journal.delete('bill-0').then(() => undefined),
    ];
    await Promise.all(calls);
    const expected = Object.fromEntries(journal.entries());
    expect(expected['x1']).toBeDefined();
    expect(expected['x2']).toBeDefined();
    expect(expected['bill-0']).toBeUndefined();
    await journal.close();
    const reopened = await JsonlJournal.open<Job>(path, { validate });
    expect(Object.fromEntries(reopened.entries())).toEqual(expected);
    await reopened.close();
  });
});
