import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LocalModuleAnswerError, parseCheck, parseStatus } from './answers.js';

/** The answer shapes recorded from public clients (test/fixtures/local-module/README.md names them). */
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(
    readFileSync(new URL(`../../../../test/fixtures/local-module/${name}`, import.meta.url), 'utf8'),
  ) as Record<string, unknown>;

const thrown = (run: () => unknown): LocalModuleAnswerError => {
  try {
    run();
  } catch (error) {
    if (error instanceof LocalModuleAnswerError) return error;
    throw error;
  }
  throw new Error('expected a LocalModuleAnswerError');
};

describe('the local module status answer', () => {
  it('reads status, mode, last sync, whether the database must be downloaded, and the version', () => {
    expect(parseStatus(fixture('status-ready.json'))).toEqual({
      status: 'ready',
      operationMode: 'active',
      lastSyncMs: 1796601600000,
      requiresDownload: false,
      version: '1.4.1',
    });
  });

  it('names a missing or mistyped field', () => {
    const { status: _, ...noStatus } = fixture('status-ready.json');
    expect(thrown(() => parseStatus(noStatus)).field).toBe('status');
    const error = thrown(() => parseStatus({ ...fixture('status-ready.json'), lastSync: '2026-12-07' }));
    expect(error.field).toBe('lastSync');
    expect(error.code).toBe('MARKING_LM_ANSWER_INVALID');
    expect(error.message).toMatch(/its status with an unreadable lastSync/);
  });
});

describe("the local module's check answer", () => {
  it('reads a v1 answer: the permit (reqId, reqTimestamp, inst, version) and the code', () => {
    const check = parseCheck(fixture('check-v1-sellable.json'), 1);
    expect(check).toMatchObject({
      kind: 'checked',
      reqId: '6f1c2a9e-0b4d-4c8e-9a7b-3d2e1f0a9c8b',
      reqTimestamp: 1796605200123,
      instance: '3b1f0c2e-6d0a-4b7e-9f4e-2a7c5d9e8b10',
      version: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      code: { gtin: '04630030225416', found: true, isBlocked: false, sold: false },
    });
  });

  it('reads a v2 answer from its results', () => {
    const check = parseCheck(fixture('check-v2-sellable.json'), 2);
    expect(check).toMatchObject({
      kind: 'checked',
      reqId: '0d9b7a6c-5e4f-4321-8abc-def012345678',
      code: { expireDate: '2027-01-31T00:00:00.000Z' },
    });
  });

  it('reads an offline answer whose reqTimestamp is a string of digits', () => {
    expect(parseCheck(fixture('check-offline-blocked.json'), 1)).toMatchObject({
      kind: 'checked',
      reqId: '5e2d8c1a-7b3f-4e9d-a6c0-1f2e3d4c5b6a',
      reqTimestamp: 1796605201000,
      instance: '3b1f0c2e-6d0a-4b7e-9f4e-2a7c5d9e8b10',
      version: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      code: { isBlocked: true, found: false },
    });
  });

  it("keeps a blocked code's flag for the verdict", () => {
    expect(parseCheck(fixture('check-v1-blocked.json'), 1)).toMatchObject({ code: { isBlocked: true } });
  });

  it("returns the module's own error (code ≠ 0) rather than a verdict", () => {
    expect(parseCheck({ code: 5, description: 'База не загружена' }, 1)).toEqual({
      kind: 'moduleError',
      code: 5,
      description: 'База не загружена',
    });
    expect(parseCheck({ code: 3, description: 'not initialised', results: [{}] }, 2)).toMatchObject({
      kind: 'moduleError',
      code: 3,
    });
  });

  it('names the field of a bad answer, under results[0] for v2', () => {
    const v1 = fixture('check-v1-sellable.json');
    expect(thrown(() => parseCheck({ ...v1, reqId: 'nope' }, 1)).field).toBe('reqId');
    expect(thrown(() => parseCheck({ ...v1, reqTimestamp: 'yesterday' }, 1)).field).toBe('reqTimestamp');
    expect(thrown(() => parseCheck({ ...v1, reqTimestamp: 1796605 }, 1)).field).toBe('reqTimestamp');
    expect(thrown(() => parseCheck({ ...v1, version: 'a b' }, 1)).field).toBe('version');
    expect(thrown(() => parseCheck({ ...v1, codes: [] }, 1)).field).toBe('codes');
    const badFlag = { ...v1, codes: [{ ...(v1.codes as object[])[0], isBlocked: 'no' }] };
    expect(thrown(() => parseCheck(badFlag, 1)).field).toBe('codes[0].isBlocked');
    const badDate = { ...v1, codes: [{ ...(v1.codes as object[])[0], expireDate: 'soon' }] };
    expect(thrown(() => parseCheck(badDate, 1)).field).toBe('codes[0].expireDate');
    const v2 = fixture('check-v2-sellable.json');
    const inner = (v2.results as Array<Record<string, unknown>>)[0]!;
    expect(thrown(() => parseCheck({ results: [{ ...inner, reqId: 7 }] }, 2)).field).toBe('results[0].reqId');
    expect(thrown(() => parseCheck({ results: [] }, 2)).field).toBe('results');
    // A v1 answer read as v2 (apiVersion set wrong) is not taken for a check.
    expect(thrown(() => parseCheck(v1, 2)).field).toBe('results');
  });
});
