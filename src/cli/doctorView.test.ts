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

  it('shows the local module as one line per check, failures with their code and what to do', () => {
    const web: DoctorReport = {
      ...base,
      kind: 'atol-web',
      probes: 'unsupported',
      reason: { code: 'NO_PROBES', message: 'a atol-web device has no self-test probes' },
      findings: [],
    };
    const ready: DoctorReport = {
      ...web,
      localModule: {
        url: 'http://127.0.0.1:5995',
        apiVersion: 1,
        enabled: true,
        lines: [
          { check: 'reachable', verdict: 'ok', text: 'http://127.0.0.1:5995 answered in 12 ms' },
          { check: 'credentials', verdict: 'ok', text: 'accepted (/etc/kkt-agent/local-module.json)' },
          { check: 'status', verdict: 'ok', text: 'ready (active mode)' },
          { check: 'sync', verdict: 'ok', text: 'last sync 5 min ago (…), at most 72 h allowed' },
          { check: 'version', verdict: 'ok', text: '1.4.1' },
        ],
      },
    };
    expect(needsAttention(ready)).toBe(false);
    const fine = renderDoctor({ reports: [ready] });
    expect(fine).toMatch(/^OK: .*and the local module of Честный ЗНАК can check codes\./);
    expect(fine).toContain('Local module of Честный ЗНАК (ЛМ ЧЗ), API v1:');
    expect(fine).toContain('    reachable    ok: http://127.0.0.1:5995 answered in 12 ms');
    expect(fine).toContain('    last sync    ok: last sync 5 min ago');
    expect(fine).toContain('    version      ok: 1.4.1');
    expect(fine).not.toContain('What to do about the local module');

    const refused: DoctorReport = {
      ...web,
      localModule: {
        ...ready.localModule!,
        enabled: false,
        lines: [
          ready.localModule!.lines[0]!,
          {
            check: 'credentials',
            verdict: 'failed',
            text: 'the module refused the login in /etc/kkt-agent/local-module.json (HTTP 401)',
            error: { code: 'MARKING_LM_AUTH_FAILED', message: '…' },
            todo: 'put the login and password set when the module was installed into /etc/kkt-agent/local-module.json',
          },
          { check: 'status', verdict: 'skipped', text: 'not known' },
        ],
      },
    };
    expect(needsAttention(refused)).toBe(true);
    const text = renderDoctor({ reports: [refused] });
    expect(text).toMatch(/^ATTENTION: kkt1/);
    expect(text).toContain('API v1 — enabled: false, sales do not ask it:');
    expect(text).toContain(
      '    credentials  FAILED: the module refused the login in /etc/kkt-agent/local-module.json (HTTP 401) [MARKING_LM_AUTH_FAILED]',
    );
    expect(text).toContain('    status       - not known');
    expect(text).toContain(
      '    - credentials: put the login and password set when the module was installed into /etc/kkt-agent/local-module.json',
    );
  });
});
