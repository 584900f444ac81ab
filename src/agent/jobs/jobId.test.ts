import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jobIdFor, MARKER_LENGTH, newJobId } from './jobId.js';

describe('the marker derived from a bill key', () => {
  it('is SHA-256 of the key parts as a JSON array, in 16 base-36 characters (vectors computed with Python)', () => {
    // python3: hashlib.sha256(json.dumps(parts, separators=(',',':'), ensure_ascii=False).encode()),
    // the digest as a big-endian integer mod 36^16, written in 0-9a-z.
    expect(jobIdFor({ source: 'bridge', account: '120', billId: '346042' })).toBe('fn6dux714bm31j45');
    expect(jobIdFor({ source: 'bridge', account: '120', billId: '346042' }, 'sellReturn')).toBe(
      '1sowbbeo60ra887o',
    );
    expect(
      jobIdFor({ source: 'moysklad', account: 'магазин', billId: 'd1f0c6a2-1c2b-11ef-0a80-0e4f0000a1b2' }),
    ).toBe('wyq76ptkfnpsnuev');
  });

  it('fits tag 1192 and the SmartX and driver-10 ids: 16 printable ASCII characters, always', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (source, account, billId) => {
        const id = jobIdFor({ source, account, billId });
        expect(id).toMatch(/^[0-9a-z]{16}$/);
        expect(id).toHaveLength(MARKER_LENGTH);
      }),
    );
  });

  it('is the same for the same key and differs when any part, or the operation, differs', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.string(), fc.string(), fc.string()),
        fc.tuple(fc.string(), fc.string(), fc.string()),
        ([s1, a1, b1], [s2, a2, b2]) => {
          const one = jobIdFor({ source: s1, account: a1, billId: b1 });
          expect(jobIdFor({ source: s1, account: a1, billId: b1 })).toBe(one);
          if (s1 !== s2 || a1 !== a2 || b1 !== b2)
            expect(jobIdFor({ source: s2, account: a2, billId: b2 })).not.toBe(one);
          expect(jobIdFor({ source: s1, account: a1, billId: b1 }, 'sellReturn')).not.toBe(one);
        },
      ),
    );
  });

  it('does not let a separator inside a part make two keys alike', () => {
    const a = jobIdFor({ source: 'bridge', account: '1/2', billId: '3' });
    const b = jobIdFor({ source: 'bridge', account: '1', billId: '2/3' });
    expect(a).not.toBe(b);
  });

  it('spreads 30 000 bills of one account without a collision', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 30_000; i++)
      ids.add(jobIdFor({ source: 'bridge', account: '120', billId: String(i) }));
    expect(ids.size).toBe(30_000);
  });
});

describe('the random job id (a collision fallback, and the form of older jobs)', () => {
  it('is 12 base-36 characters, time first', () => {
    expect(newJobId(0)).toMatch(/^00000000[0-9a-z]{4}$/);
    expect(newJobId()).toMatch(/^[0-9a-z]{12}$/);
  });
});
