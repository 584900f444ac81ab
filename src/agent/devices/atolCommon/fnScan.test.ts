import { describe, expect, it } from 'vitest';
import type { FiscalDocument } from '../../../drivers/atol/kkt.js';
import { KktDeviceError } from '../../../drivers/atol/protocol/deviceErrors.js';
import type { Job } from '../../jobs/job.js';
import { type FnDocumentReader, scanFnAfterAnchor, searchFnForMarker } from './fnScan.js';

/**
 * An FN of `last` documents; asking for any other number is refused as the register refuses it (`DA`),
 * and every number asked is counted.
 */
function fn(last: number, receipts: Record<number, string> = {}): FnDocumentReader & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    fnAnchor: async () => ({ lastDocumentNumber: last, fnSerial: '9999078900007317' }),
    document: async (number) => {
      asked.push(number);
      if (number < 1 || number > last) throw new KktDeviceError(0xda, 'selectDocument (A4 45)');
      const marker = receipts[number];
      return {
        fiscalDocumentNumber: number,
        documentType: marker === undefined ? 2 : 3,
        ...(marker ? { marker } : {}),
      } as FiscalDocument;
    },
  };
}

const job = (before: number): Job =>
  ({
    id: 'job1',
    printing: { lastDocumentNumberBefore: before, fnSerial: '9999078900007317', startedAt: '' },
  }) as Job;

describe('reading the FN after an anchor', () => {
  it('reads nothing when nothing was made after the anchor (a number past the last is refused)', async () => {
    const register = fn(4);
    expect(await scanFnAfterAnchor(register, job(4))).toEqual({ kind: 'none', last: 4 });
    expect(register.asked).toEqual([]);
    const searched = fn(4);
    expect(await searchFnForMarker(searched, job(4))).toMatchObject({ kind: 'absent' });
    expect(searched.asked).toEqual([]);
  });

  it('reconciles upwards from the anchor and searches downwards from the last document', async () => {
    const register = fn(7, { 6: 'other', 7: 'job1' });
    expect(await scanFnAfterAnchor(register, job(4))).toMatchObject({ kind: 'found' });
    expect(register.asked).toEqual([5, 6, 7]);
    const searched = fn(7, { 6: 'other', 5: 'job1' });
    expect(await searchFnForMarker(searched, job(4))).toEqual({
      kind: 'found',
      fiscalDocumentNumber: 5,
      fnSerial: '9999078900007317',
    });
    expect(searched.asked).toEqual([7, 6, 5]);
  });

  it('cannot search an FN that is not the one the job was anchored on', async () => {
    const register = fn(9);
    const other = { ...job(4), printing: { ...job(4).printing!, fnSerial: '1111' } } as Job;
    expect(await searchFnForMarker(register, other)).toMatchObject({
      kind: 'unknown',
      reason: expect.stringMatching(/changed since printing started/),
    });
  });
});
