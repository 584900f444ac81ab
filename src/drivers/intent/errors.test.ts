import { describe, expect, it } from 'vitest';
import { KktAgentError } from '../../lib/errors.js';
import {
  IntentAuthFailedError,
  IntentOutcomeUnknownError,
  IntentResultError,
  IntentTerminalNotFoundError,
  IntentUnreachableError,
} from './errors.js';
import { INTENT_RESULT_CODES, INTENT_UNKNOWN_RESULT_CODE, resultCodeInfo } from './resultCodes.js';

// The resultCodes of docs/protocol/smartx-intent.md §6 (the vendor's table plus 435 from the SALE page).
const DOCUMENTED = [
  200, 399, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 418, 435,
];

describe('resultCode table', () => {
  it('covers exactly the documented codes, each with a unique stable code', () => {
    expect(INTENT_RESULT_CODES.map((row) => row.resultCode)).toEqual(DOCUMENTED);
    const codes = INTENT_RESULT_CODES.map((row) => row.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^INTENT_[A-Z_]+$/);
    expect(resultCodeInfo(417)).toBeUndefined();
  });

  it('keeps the stable codes the agent matches on', () => {
    expect(resultCodeInfo(400)?.code).toBe('INTENT_SHIFT_NOT_OPEN');
    expect(resultCodeInfo(410)?.code).toBe('INTENT_UNFINISHED_SALE');
    expect(resultCodeInfo(414)?.code).toBe('INTENT_SUM_TOO_LARGE');
    expect(resultCodeInfo(435)?.code).toBe('INTENT_CASHIER_MISSING');
  });
});

describe('IntentResultError', () => {
  it.each(DOCUMENTED.filter((code) => code !== 200))(
    'maps resultCode %i to its typed error',
    (resultCode) => {
      const info = resultCodeInfo(resultCode);
      const error = new IntentResultError({
        intent: 'SALE',
        resultCode,
        terminalMessage: info?.terminalText,
        terminalTitle: 'Ошибка',
      });
      expect(error).toBeInstanceOf(KktAgentError);
      expect(error.code).toBe(info?.code);
      expect(error.resultCode).toBe(resultCode);
      expect(error.terminalMessage).toBe(info?.terminalText);
      expect(error.outcome).toBe('refused');
      expect(error.message).toContain(`resultCode ${resultCode}`);
      expect(error.message).toContain(info?.explanation ?? '');
      // The English message is readable without knowing Russian: the Russian text is only quoted.
      expect(error.message.replace(/"[^"]*"/g, '')).not.toMatch(/[А-Яа-яЁё]/);
      expect(error.toJSON().details).toMatchObject({ resultCode, outcome: 'refused' });
    },
  );

  it('tells a technician that an unfinished sale must be finished or cancelled on the terminal', () => {
    const error = new IntentResultError({ intent: 'SALE', resultCode: 410 });
    expect(error.code).toBe('INTENT_UNFINISHED_SALE');
    expect(error.message).toMatch(/person must finish or cancel it on the terminal/);
    expect(error.category).toBe('terminal');
  });

  it('keeps the number of a code the vendor does not document', () => {
    const error = new IntentResultError({ intent: 'SALE', resultCode: 427, terminalMessage: 'Что-то новое' });
    expect(error.code).toBe(INTENT_UNKNOWN_RESULT_CODE);
    expect(error.resultCode).toBe(427);
    expect(error.category).toBe('unknown');
    expect(error.message).toContain('427');
    expect(error.message).toContain('Что-то новое');
  });
});

describe('transport-level errors', () => {
  it('says whether the sale may have happened', () => {
    const unknown = new IntentOutcomeUnknownError('SALE', 'timeout', {
      endpoint: 'http://10.0.0.5:37015/v1',
      operationId: 'job-7',
      detail: 'no complete answer within 180000 ms',
    });
    expect(unknown.code).toBe('INTENT_OUTCOME_UNKNOWN');
    expect(unknown.outcome).toBe('unknown');
    expect(unknown.operationId).toBe('job-7');
    expect(unknown.message).toMatch(/will not send this sale again/);

    expect(new IntentUnreachableError('http://10.0.0.5:37015/v1', 'ECONNREFUSED').outcome).toBe('not-sent');
    expect(new IntentAuthFailedError('refused').outcome).toBe('not-sent');
    expect(new IntentTerminalNotFoundError('ikassa-smartx', 100).code).toBe('INTENT_NOT_FOUND');
  });
});
