import { JournalCorruptError, JournalVersionError } from './errors.js';

/**
 * On-disk format of the journal (docs/storage.md): UTF-8, one JSON object per line, every line ends in "\n".
 *   line 1   {"format":"kkt-journal","version":1}
 *   set      {"k":"<key>","v":<value>}
 *   delete   {"k":"<key>"}                (a null "v" is read as a delete too)
 *   batch    {"b":[{"k":...,"v":...},{"k":...},...]} (sets and deletes; all or nothing: one line, one write)
 * A line is committed once its "\n" is on disk; later lines win over earlier ones for the same key.
 */
export const JOURNAL_FORMAT = 'kkt-journal';
export const JOURNAL_VERSION = 1;
export const HEADER_LINE = JSON.stringify({ format: JOURNAL_FORMAT, version: JOURNAL_VERSION });

const NEWLINE = 0x0a;

/** One change read from a line; `value === undefined` is a delete. */
export interface JournalOp {
  key: string;
  value: unknown;
}

export function encodeSet(key: string, valueJson: string): string {
  return `{"k":${JSON.stringify(key)},"v":${valueJson}}`;
}

export function encodeDelete(key: string): string {
  return `{"k":${JSON.stringify(key)}}`;
}

export function encodeBatch(encodedSets: readonly string[]): string {
  return `{"b":[${encodedSets.join(',')}]}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toOp(value: unknown): JournalOp | null {
  if (!isPlainObject(value) || typeof value['k'] !== 'string') return null;
  for (const field of Object.keys(value)) if (field !== 'k' && field !== 'v') return null;
  return { key: value['k'], value: value['v'] ?? undefined };
}

// fatal: a flipped byte must make the line invalid, not turn into U+FFFD inside a valid-looking value.
const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJsonLine(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    return undefined;
  }
}

/** The changes a record line carries, or null when the line is not a well-formed record. */
export function decodeRecordLine(bytes: Uint8Array): JournalOp[] | null {
  const parsed = parseJsonLine(bytes);
  if (!isPlainObject(parsed)) return null;
  if ('b' in parsed) {
    const batch = parsed['b'];
    if (Object.keys(parsed).length !== 1 || !Array.isArray(batch) || batch.length === 0) return null;
    const ops: JournalOp[] = [];
    for (const item of batch) {
      const op = toOp(item);
      if (op === null) return null;
      ops.push(op);
    }
    return ops;
  }
  const op = toOp(parsed);
  return op === null ? null : [op];
}

type HeaderCheck = 'ok' | 'not-a-header';

function checkHeader(bytes: Uint8Array, path: string): HeaderCheck {
  const parsed = parseJsonLine(bytes);
  if (!isPlainObject(parsed) || parsed['format'] !== JOURNAL_FORMAT) return 'not-a-header';
  if (parsed['version'] !== JOURNAL_VERSION)
    throw new JournalVersionError(path, parsed['version'], JOURNAL_VERSION);
  return 'ok';
}

export interface TornTail {
  /** Byte offset where the torn part starts (everything before it is kept). */
  offset: number;
  bytesDropped: number;
  /** `unterminated`: the last line has no "\n"; `zero-filled`: the file grew but the data never landed. */
  reason: 'unterminated' | 'zero-filled';
}

export interface JournalScan {
  /** Latest value per live key with the line it came from (deleted keys are absent). */
  latest: Map<string, { line: number; value: unknown }>;
  /** Bytes up to and including the last good line; the file is truncated to this on open. */
  validLength: number;
  hasHeader: boolean;
  /** Record lines (header excluded); a batch counts as one line. */
  lineCount: number;
  /** Changes in the file (each batch entry counts); with `latest.size` it gives the stale share. */
  recordCount: number;
  tornTail: TornTail | null;
}

interface Line {
  number: number;
  start: number;
  end: number;
}

function* terminatedLines(buffer: Buffer, from: number, firstNumber: number): Generator<Line> {
  let start = from;
  let number = firstNumber;
  while (start < buffer.length) {
    const end = buffer.indexOf(NEWLINE, start);
    if (end === -1) return;
    yield { number, start, end };
    number += 1;
    start = end + 1;
  }
}

/**
 * A bad line is a torn write only if it holds NUL bytes (the file was extended but the block never got
 * its data) and nothing valid follows it. Appends are fsync'd one at a time, so only the last write can be
 * torn; a bad line with valid lines after it, or a bad line without NULs, is damage.
 */
function isZeroFilledTail(buffer: Buffer, bad: Line): boolean {
  if (!buffer.subarray(bad.start, bad.end).includes(0)) return false;
  for (const later of terminatedLines(buffer, bad.end + 1, bad.number + 1)) {
    if (decodeRecordLine(buffer.subarray(later.start, later.end)) !== null) return false;
  }
  return true;
}

/** Reads a whole journal file. Throws `JournalCorruptError` or `JournalVersionError`; a torn tail is reported. */
export function scanJournal(buffer: Buffer, path: string): JournalScan {
  const scan: JournalScan = {
    latest: new Map(),
    validLength: 0,
    hasHeader: false,
    lineCount: 0,
    recordCount: 0,
    tornTail: null,
  };
  for (const line of terminatedLines(buffer, 0, 1)) {
    const bytes = buffer.subarray(line.start, line.end);
    const ops = line.number === 1 ? (checkHeader(bytes, path) === 'ok' ? [] : null) : decodeRecordLine(bytes);
    if (ops === null) {
      if (isZeroFilledTail(buffer, line)) {
        scan.tornTail = {
          offset: line.start,
          bytesDropped: buffer.length - line.start,
          reason: 'zero-filled',
        };
        return scan;
      }
      const reason = line.number === 1 ? 'the first line is not a kkt-journal header' : 'not a valid record';
      throw new JournalCorruptError(path, line.number, reason);
    }
    if (line.number === 1) {
      scan.hasHeader = true;
    } else {
      scan.lineCount += 1;
      scan.recordCount += ops.length;
      for (const op of ops) {
        if (op.value === undefined) scan.latest.delete(op.key);
        else scan.latest.set(op.key, { line: line.number, value: op.value });
      }
    }
    scan.validLength = line.end + 1;
  }
  if (scan.validLength < buffer.length) {
    scan.tornTail = {
      offset: scan.validLength,
      bytesDropped: buffer.length - scan.validLength,
      reason: 'unterminated',
    };
  }
  return scan;
}
