import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../agent/devices/doctorReport.js';
import { needsAttention, renderDoctor } from './doctorView.js';

const base: DoctorReport = {
  deviceId: 'kkt1',
  kind: 'atol',
  at: '2026-03-01T10:00:00.000Z',
  identity: {
    model: 'АТОЛ 30Ф',
    serial: '00061000000001',
    firmware: '5.8.1234',
    ffd: '1.2',
    fn: { serial: '7281440500001234', state: 'fiscal mode', validUntil: '2029-01-01', warnings: [] },
    registration: { inn: '500100732259', number: '0001234567012345', taxationSystems: ['osn'] },
  },
  shift: { state: 'open', number: 3 },
  paper: { present: true },
  ofd: { unsentCount: 2, oldestUnsentAt: '2026-03-01T09:00:00+03:00' },
  probes: 'done',
  findings: [
    { feature: 'tag:1008', label: '1008 customer contact', verdict: 'accepted' },
    {
      feature: 'tag:1256',
      label: '1256 buyer (holds 1227, 1228)',
      verdict: 'refused',
      error: {
        code: 'KKT_EXT_TAG_COMBINATION',
        register: '0xEE/0x0205',
        text: 'Неверная комбинация реквизитов',
        message: '',
      },
    },
    {
      feature: 'vat:vat22',
      label: 'VAT 22 % (vat22)',
      verdict: 'accepted',
      byte: 13,
      byteOrigin: 'candidate',
    },
    { feature: 'vat:vat20', label: 'VAT 20 % (vat20)', verdict: 'accepted', byte: 1, byteOrigin: 'config' },
  ],
  fiscalDocuments: { before: 12, after: 12 },
};

describe('renderDoctor', () => {
  it("shows identity, state, the table with the register's words, and what to do", () => {
    const text = renderDoctor({ reports: [base] });
    expect(text).toMatch(/^ATTENTION: kkt1/);
    expect(text).toContain('register      АТОЛ 30Ф, serial 00061000000001, firmware 5.8.1234, FFD 1.2');
    expect(text).toContain('OFD backlog   2 document(s), oldest 2026-03-01T09:00:00+03:00');
    expect(text).toContain('(FN documents 12 → 12)');
    expect(text).toMatch(
      /1256 buyer \(holds 1227, 1228\)\s+REFUSED\s+0xEE\/0x0205 Неверная комбинация реквизитов/,
    );
    expect(text).toMatch(/VAT 22 % \(vat22\)\s+13\?\s+accepted \(candidate\)/);
    expect(text).toContain('1256 buyer (holds 1227, 1228): the register refuses the buyer STLV 1256');
    expect(text).toContain('"taxBytes": { "vat22": 13 }');
  });

  it('says OK when nothing needs a look, and names skipped probes with their reason', () => {
    const fine = { ...base, findings: base.findings.filter((f) => f.verdict === 'accepted') };
    expect(needsAttention(fine)).toBe(false);
    expect(renderDoctor({ reports: [fine] })).toMatch(/^OK: every register takes everything/);
    const skipped: DoctorReport = {
      ...base,
      probes: 'skipped',
      reason: { code: 'SHIFT_CLOSED', message: 'run again with --open-shift' },
      findings: [],
    };
    expect(needsAttention(skipped)).toBe(true);
    expect(renderDoctor({ reports: [skipped] })).toContain(
      'Probes skipped: run again with --open-shift [SHIFT_CLOSED]',
    );
  });
});
