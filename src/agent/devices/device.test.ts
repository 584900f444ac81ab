import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.js';
import { deviceErrorSummary } from './device.js';

describe('deviceErrorSummary', () => {
  const at = new Date('2026-11-22T10:00:00.000Z');

  it('keeps the code and message of a typed agent error', () => {
    const summary = deviceErrorSummary(new ValidationError('bill.items', 'must not be empty'), at);
    expect(summary.code).toBe('VALIDATION_FAILED');
    expect(summary.message).toContain('bill.items');
    expect(summary.at).toBe('2026-11-22T10:00:00.000Z');
  });

  it('labels untyped errors and thrown non-errors instead of losing them', () => {
    expect(deviceErrorSummary(new Error('EIO'), at)).toEqual({
      code: 'ERROR',
      message: 'EIO',
      at: at.toISOString(),
    });
    expect(deviceErrorSummary('boom', at)).toEqual({ code: 'ERROR', message: 'boom', at: at.toISOString() });
    expect(deviceErrorSummary(undefined, at).message).toBe('undefined');
  });
});
