import { describe, expect, it } from 'vitest';
import { KktAgentError, provesNothingHappened, ValidationError } from './errors.js';

describe('provesNothingHappened', () => {
  it('is true only for an agent error whose outcome says nothing reached or nothing happened', () => {
    expect(provesNothingHappened(new KktAgentError('UNEXPECTED', 'x', {}, { outcome: 'not-sent' }))).toBe(
      true,
    );
    expect(provesNothingHappened(new KktAgentError('UNEXPECTED', 'x', {}, { outcome: 'refused' }))).toBe(
      true,
    );
    expect(provesNothingHappened(new ValidationError('bill.total', 'negative'))).toBe(true);
    expect(provesNothingHappened(new KktAgentError('UNEXPECTED', 'x', {}, { outcome: 'unknown' }))).toBe(
      false,
    );
    // No outcome, a plain Error, or something shaped like the old duck-typed flag: it may have happened.
    expect(provesNothingHappened(new KktAgentError('UNEXPECTED', 'x'))).toBe(false);
    expect(provesNothingHappened(new Error('socket hang up'))).toBe(false);
    expect(provesNothingHappened({ outcomeUnknown: false })).toBe(false);
  });
});
