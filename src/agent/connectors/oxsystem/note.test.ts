import { describe, expect, it } from 'vitest';
import type { FiscalData } from '../../jobs/job.js';
import { appendFiscalNote, fiscalNoteOf, formatFiscalNote, hasFiscalNote, parseFiscalNote } from './note.js';

const atol: FiscalData = {
  deviceId: 'kkt-1',
  deviceKind: 'atol',
  fiscalDocumentNumber: 1234,
  fiscalSign: '2837461928',
  fnNumber: '7281440500123456',
  receiptNumber: '17',
  dateTime: '2025-06-01T10:00:00+05:00',
  dateTimeUtc: '2025-06-01T05:00:00.000Z',
  totalMinor: 120_000,
};

describe('fiscal note', () => {
  it('writes one compact line with the documented keys in order', () => {
    expect(formatFiscalNote(fiscalNoteOf('mb1x2k3l4abc', atol))).toBe(
      '[kkt] device=kkt-1 kind=atol receipt=17 fd=1234 fp=2837461928 fn=7281440500123456 time=2025-06-01T10:00:00+05:00 job=mb1x2k3l4abc',
    );
  });

  it('leaves out what a non-fiscal device does not have', () => {
    const note = formatFiscalNote(
      fiscalNoteOf('j1', {
        deviceId: 'np1',
        deviceKind: 'nonfiscal',
        receiptNumber: '3',
        dateTime: '2025-06-01T10:00:00+05:00',
        dateTimeUtc: '',
        totalMinor: 1,
      }),
    );
    expect(note).toBe('[kkt] device=np1 kind=nonfiscal receipt=3 time=2025-06-01T10:00:00+05:00 job=j1');
  });

  it('reads back what it wrote, also after a cashier note, and keeps values on one line', () => {
    const text = appendFiscalNote('1C', formatFiscalNote({ device: 'np 1', job: 'j1', receipt: 'A|7' }));
    expect(text).toBe('1C | [kkt] device=np_1 receipt=A_7 job=j1');
    expect(parseFiscalNote(text)).toEqual({ device: 'np_1', receipt: 'A_7', job: 'j1' });
    expect(hasFiscalNote(text)).toBe(true);
    expect(appendFiscalNote(null, '[kkt] device=a job=b')).toBe('[kkt] device=a job=b');
    expect(appendFiscalNote('  ', '[kkt] device=a job=b')).toBe('[kkt] device=a job=b');
  });

  it('does not mistake other notes for a fiscal note', () => {
    expect(hasFiscalNote(null)).toBe(false);
    expect(hasFiscalNote('1C')).toBe(false);
    expect(hasFiscalNote('[kkt] printed by hand')).toBe(false);
  });
});
