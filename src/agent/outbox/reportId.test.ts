import { describe, expect, it } from 'vitest';
import { reportId } from './reportId.js';

describe('reportId', () => {
  it('is a version 5 UUID of what the report is: the same parts give the same id, other parts another', () => {
    const id = reportId('bridge:120', 'bridge.receiptCreated', 'k3v9x0a1b2c3d4e5', 'event');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(reportId('bridge:120', 'bridge.receiptCreated', 'k3v9x0a1b2c3d4e5', 'event')).toBe(id);
    expect(reportId('bridge:120', 'bridge.receiptCreated', 'k3v9x0a1b2c3d4e5', 'receipt')).not.toBe(id);
    expect(reportId('bridge:121', 'bridge.receiptCreated', 'k3v9x0a1b2c3d4e5', 'event')).not.toBe(id);
  });

  it('keeps the parts apart: no split of the same characters names the same report', () => {
    expect(reportId('ab', 'c')).not.toBe(reportId('a', 'bc'));
    expect(reportId('a:b')).not.toBe(reportId('a', 'b'));
  });
});
