import type { FiscalData } from '../../jobs/job.js';

/**
 * The fiscal note written into a sell's `note` (OX has no fiscal field in any object;
 * docs/protocol/oxsystem.md §4):
 *
 *   [kkt] device=np1 kind=nonfiscal receipt=17 fd=1234 fp=2837461928 fn=7281440500123456 time=2025-06-01T10:00:00+05:00 job=mb1x2k3l4abc
 *
 * One line of `key=value` pairs after the `[kkt]` marker, in this order, absent keys left out: `device`
 * (the agent's device id), `kind` (atol, intent, nonfiscal…), `receipt` (the device's receipt number),
 * `fd` (fiscal document number), `fp` (fiscal sign), `fn` (fiscal storage serial), `time` (the device's
 * local time with offset) and `job` (the agent's job id, which is how a retry recognises its own note).
 * A note the cashier typed is kept: the fiscal note is appended after ` | `.
 */

export const FISCAL_NOTE_MARKER = '[kkt]';
const SEPARATOR = ' | ';

export interface FiscalNote {
  device: string;
  kind?: string;
  receipt?: string;
  fd?: string;
  fp?: string;
  fn?: string;
  time?: string;
  job: string;
}

/** Values never contain spaces, `|` or `=`: they would break the one-line format. */
function clean(value: string): string {
  return value.replace(/[\s|=]+/g, '_');
}

export function fiscalNoteOf(jobId: string, fiscal: FiscalData): FiscalNote {
  const note: FiscalNote = { device: fiscal.deviceId, kind: fiscal.deviceKind, job: jobId };
  if (fiscal.receiptNumber !== undefined) note.receipt = fiscal.receiptNumber;
  if (fiscal.fiscalDocumentNumber !== undefined) note.fd = String(fiscal.fiscalDocumentNumber);
  if (fiscal.fiscalSign !== undefined) note.fp = fiscal.fiscalSign;
  if (fiscal.fnNumber !== undefined) note.fn = fiscal.fnNumber;
  note.time = fiscal.dateTime;
  return note;
}

const KEYS = ['device', 'kind', 'receipt', 'fd', 'fp', 'fn', 'time', 'job'] as const;

export function formatFiscalNote(note: FiscalNote): string {
  const pairs = KEYS.flatMap((key) => {
    const value = note[key];
    return value === undefined || value === '' ? [] : [`${key}=${clean(value)}`];
  });
  return `${FISCAL_NOTE_MARKER} ${pairs.join(' ')}`;
}

/** The last fiscal note in a sell's note text, if any. */
export function parseFiscalNote(text: string | null | undefined): FiscalNote | undefined {
  if (!text) return undefined;
  const at = text.lastIndexOf(FISCAL_NOTE_MARKER);
  if (at < 0) return undefined;
  const segment = text.slice(at + FISCAL_NOTE_MARKER.length).split(SEPARATOR.trim())[0] ?? '';
  const values = new Map<string, string>();
  for (const pair of segment.trim().split(/\s+/)) {
    const eq = pair.indexOf('=');
    if (eq > 0) values.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const device = values.get('device');
  const job = values.get('job');
  if (!device || !job) return undefined;
  const note: FiscalNote = { device, job };
  for (const key of KEYS) {
    const value = values.get(key);
    if (value !== undefined && key !== 'device' && key !== 'job') note[key] = value;
  }
  return note;
}

export function hasFiscalNote(text: string | null | undefined): boolean {
  return parseFiscalNote(text) !== undefined;
}

/** The sell's new note: the existing text (if any) and the fiscal note. */
export function appendFiscalNote(existing: string | null | undefined, fiscalNote: string): string {
  const kept = existing?.trim() ?? '';
  return kept === '' ? fiscalNote : `${kept}${SEPARATOR}${fiscalNote}`;
}
