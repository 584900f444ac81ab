import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonlJournal } from './journal.js';
import { HEADER_LINE } from './journalFormat.js';

/**
 * A crash (or power cut) during an append leaves a prefix of the last line, possibly followed by NUL bytes
 * where the file grew but the data never landed. Reopening must keep exactly the complete lines before it.
 */

type Value = { n: number; note: string };

let dir: string;
let full: Buffer;
let fileCounter = 0;

/** Byte offsets just after each "\n", i.e. where each line is complete. */
function lineEnds(buffer: Buffer): number[] {
  const ends: number[] = [];
  for (let index = buffer.indexOf(0x0a); index !== -1; index = buffer.indexOf(0x0a, index + 1))
    ends.push(index + 1);
  return ends;
}

/** Test oracle: replay the complete lines of a prefix by hand. */
function expectedState(prefix: Buffer): Record<string, Value> {
  const state: Record<string, Value> = {};
  const complete = prefix.subarray(0, prefix.lastIndexOf(0x0a) + 1).toString('utf8');
  const lines = complete.split('\n').slice(1, -1);
  for (const line of lines) {
    const record = JSON.parse(line) as { k?: string; v?: Value; b?: Array<{ k: string; v: Value }> };
    for (const op of record.b ?? [{ k: record.k!, v: record.v }]) {
      if (op.v === undefined) delete state[op.k];
      else state[op.k] = op.v;
    }
  }
  return state;
}

function lastCompleteEnd(prefixLength: number): number {
  return lineEnds(full)
    .filter((end) => end <= prefixLength)
    .reduce((_, end) => end, 0);
}

async function reopenTorn(bytes: Buffer): Promise<{ journal: JsonlJournal<Value>; path: string }> {
  fileCounter += 1;
  const path = join(dir, `torn-${fileCounter}.jsonl`);
  await writeFile(path, bytes);
  return { journal: await JsonlJournal.open<Value>(path), path };
}

/** Opens a torn copy, checks what survived, then checks that appends after recovery work and persist. */
async function checkTornCopy(prefixLength: number, zeroFill: number): Promise<void> {
  const prefix = full.subarray(0, prefixLength);
  const bytes = Buffer.concat([prefix, Buffer.alloc(zeroFill)]);
  const expected = expectedState(prefix);
  const keptBytes = lastCompleteEnd(prefixLength);

  const { journal, path } = await reopenTorn(bytes);
  expect(Object.fromEntries(journal.entries())).toEqual(expected);
  if (keptBytes === bytes.length) {
    expect(journal.recovery.tornTail).toBeNull();
  } else {
    expect(journal.recovery.tornTail).toMatchObject({
      offset: keptBytes,
      bytesDropped: bytes.length - keptBytes,
    });
  }
  expect(journal.recovery.created).toBe(keptBytes === 0);

  await journal.set('after-recovery', { n: -1, note: 'appended after the crash' });
  await journal.close();
  const after = await readFile(path);
  const headerLength = Buffer.byteLength(`${HEADER_LINE}\n`);
  expect(after.subarray(0, Math.max(keptBytes, headerLength))).toEqual(
    keptBytes === 0 ? Buffer.from(`${HEADER_LINE}\n`) : full.subarray(0, keptBytes),
  );

  const reopened = await JsonlJournal.open<Value>(path);
  expect(reopened.recovery.tornTail).toBeNull();
  expect(Object.fromEntries(reopened.entries())).toEqual({
    ...expected,
    'after-recovery': { n: -1, note: 'appended after the crash' },
  });
  await reopened.close();
  await rm(path);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-journal-torn-'));
  const path = join(dir, 'source.jsonl');
  const journal = await JsonlJournal.open<Value>(path);
  for (let index = 0; index < 8; index += 1) {
    // Multi-byte text so that cuts also land inside a UTF-8 sequence.
    await journal.set(`bill-${index % 5}`, { n: index, note: `чек №${index} — ${'x'.repeat(index)}` });
  }
  await journal.delete('bill-2');
  await journal.setMany([
    ['bill-7', { n: 70, note: 'пакет' }],
    ['bill-8', { n: 80, note: 'пакет' }],
  ]);
  await journal.set('bill-9', { n: 9, note: 'последний' });
  await journal.close();
  full = await readFile(path);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('torn journal tail', () => {
  it('recovers at every byte offset of the last three lines', async () => {
    const ends = lineEnds(full);
    const from = ends[ends.length - 4]!;
    for (let offset = from; offset <= full.length; offset += 1) await checkTornCopy(offset, 0);
  });

  it('recovers at any offset, with or without a zero-filled extension', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: full.length }),
        fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300 })),
        async (offset, zeroFill) => {
          await checkTornCopy(offset, zeroFill);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('drops a last line whose block landed as zeros, newline included', async () => {
    const ends = lineEnds(full);
    const start = ends[ends.length - 2]!;
    const zeroed = Buffer.concat([
      full.subarray(0, start),
      Buffer.alloc(full.length - start - 1),
      Buffer.from('\n'),
    ]);
    const { journal } = await reopenTorn(zeroed);
    expect(journal.recovery.tornTail).toEqual({
      offset: start,
      bytesDropped: full.length - start,
      reason: 'zero-filled',
    });
    expect(Object.fromEntries(journal.entries())).toEqual(expectedState(full.subarray(0, start)));
    await journal.close();
  });

  it('drops a last line torn between sectors (start written, middle zeros, end written)', async () => {
    const ends = lineEnds(full);
    const start = ends[ends.length - 2]!;
    const torn = Buffer.from(full);
    torn.fill(0, start + 5, full.length - 4);
    const { journal } = await reopenTorn(torn);
    expect(journal.recovery.tornTail).toMatchObject({ offset: start, reason: 'zero-filled' });
    expect(journal.has('bill-9')).toBe(false);
    expect(journal.get('bill-8')).toEqual({ n: 80, note: 'пакет' });
    await journal.close();
  });

  it('keeps a batch all or nothing', async () => {
    const ends = lineEnds(full);
    const batchStart = ends[ends.length - 3]!;
    const batchEnd = ends[ends.length - 2]!;
    for (let offset = batchStart; offset < batchEnd; offset += 1) {
      const { journal } = await reopenTorn(full.subarray(0, offset));
      expect(journal.has('bill-7')).toBe(false);
      expect(journal.has('bill-8')).toBe(false);
      await journal.close();
    }
  });
});
