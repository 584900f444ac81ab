import { describe, expect, it } from 'vitest';
import {
  type ErrorCode,
  errorCode,
  KktAgentError,
  provesNothingHappened,
  ValidationError,
} from './errors.js';

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

describe('error codes', () => {
  it('are the registered ones only: tsc refuses a code no room lists (npm run lint fails on this file if not)', () => {
    // @ts-expect-error: no room registers this code, so it is not an ErrorCode.
    const unregistered = new KktAgentError('NO_ROOM_REGISTERS_THIS', 'x');
    // @ts-expect-error: nor can a validation error carry one.
    const field = new ValidationError('f', 'r', {}, 'NO_ROOM_REGISTERS_THIS');
    // A family `HTTP_<status>` takes any number.
    const status: ErrorCode = 'HTTP_503';
    expect([unregistered.code, field.code, status]).toEqual([
      'NO_ROOM_REGISTERS_THIS',
      'NO_ROOM_REGISTERS_THIS',
      'HTTP_503',
    ]);
  });

  it('name anything the agent did not raise on purpose UNEXPECTED', () => {
    expect(errorCode(new Error('boom'))).toBe('UNEXPECTED');
    expect(errorCode(new ValidationError('f', 'r'))).toBe('VALIDATION_FAILED');
  });
});
