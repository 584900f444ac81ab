import { describe, expect, it } from 'vitest';
import { parseJsonLossless } from '../../../lib/json.js';
import { parseFiscalParams, parseFnDocument, taskVerdict } from './answers.js';
import { parseDeviceDate, parseDeviceDateTime } from './dateTime.js';
import { KktDriverError } from './driverErrors.js';

const TZ = 'Europe/Moscow';

describe('date-times of the web server', () => {
  it.each([
    ['2025-05-01T12:34:00+03:00', '2025-05-01T12:34:00+03:00'],
    ['2025-05-01T09:34:00Z', '2025-05-01T12:34:00+03:00'],
    ['2025-05-01T10:34:00+0100', '2025-05-01T12:34:00+03:00'],
    ['2025-05-01 12:34:00', '2025-05-01T12:34:00+03:00'],
    ['2025-05-01T12:34', '2025-05-01T12:34:00+03:00'],
    ['2025.05.01 12:34:00', '2025-05-01T12:34:00+03:00'],
    ['01.05.2025 12:34:00', '2025-05-01T12:34:00+03:00'],
  ])('reads %s as the register’s local time', (text, expected) => {
    expect(parseDeviceDateTime(text, TZ, 'f')).toBe(expected);
  });

  it('reads Unix seconds, and refuses what it cannot read', () => {
    expect(parseDeviceDateTime(1_746_092_040, TZ, 'f')).toBe('2025-05-01T12:34:00+03:00');
    expect(() => parseDeviceDateTime('yesterday', TZ, 'result.x')).toThrow(/result\.x/);
    expect(() => parseDeviceDateTime('2025-13-01 12:00:00', TZ, 'f')).toThrow();
  });

  it('reads dates', () => {
    expect(parseDeviceDate('2028-05-01T00:00:00+03:00', 'f')).toBe('2028-05-01');
    expect(parseDeviceDate('01.05.2028', 'f')).toBe('2028-05-01');
  });
});

describe('task results', () => {
  it('reads fiscalParams losslessly: the total becomes exact kopecks', () => {
    const result = parseJsonLossless(
      '{"fiscalParams":{"fiscalDocumentNumber":1234,"fiscalDocumentSign":3442353402,"fiscalDocumentDateTime":"2025-05-01T12:34:00+03:00","fiscalReceiptNumber":17,"shiftNumber":42,"fnNumber":"7281440500123456","registrationNumber":"0001234567012345","total":4555.10}}',
    );
    expect(parseFiscalParams(result, TZ)).toEqual({
      fiscalDocumentNumber: 1234,
      fiscalSign: '3442353402',
      dateTime: '2025-05-01T12:34:00+03:00',
      receiptNumber: 17,
      shiftNumber: 42,
      fnNumber: '7281440500123456',
      registrationNumber: '0001234567012345',
      totalKop: 455_510,
    });
    expect(() =>
      parseFiscalParams(parseJsonLossless('{"fiscalParams":{"fiscalDocumentNumber":"x"}}'), TZ),
    ).toThrow(/fiscalDocumentNumber/);
    // A printed receipt never becomes an error over its time stamp: an unreadable time is left empty.
    expect(
      parseFiscalParams(
        parseJsonLossless('{"fiscalParams":{"fiscalDocumentNumber":5,"fiscalDocumentDateTime":"soon"}}'),
        TZ,
      ),
    ).toMatchObject({ fiscalDocumentNumber: 5, dateTime: '', fiscalSign: '' });
    expect(() =>
      parseFiscalParams(
        parseJsonLossless(
          '{"fiscalParams":{"fiscalDocumentNumber":1,"fiscalDocumentSign":"1","fiscalDocumentDateTime":"2025-05-01T12:34:00","total":1.005}}',
        ),
        TZ,
      ),
    ).toThrow(/total/);
  });

  it('reads a document of getFnDocument whose numbers come as text', () => {
    const document = parseFnDocument(
      parseJsonLossless(
        '{"documentTLV":{"fiscalDocumentType":"receipt","short":false,"1040":"7","1077":"123","1012":"2025-05-01T12:34:00+03:00","1038":"2","1042":3,"1020":"455.50","1054":1,"1041":"7281440500123456","1037":"0001234567012345","1192":"lx3k9a2b4f7q"}}',
      ),
      7,
      TZ,
    );
    expect(document).toEqual({
      fiscalDocumentNumber: 7,
      documentType: 3,
      fiscalSign: '123',
      dateTime: '2025-05-01T12:34:00+03:00',
      shiftNumber: 2,
      receiptNumber: 3,
      totalKop: 45_550,
      operationType: 1,
      fnNumber: '7281440500123456',
      registrationNumber: '0001234567012345',
      marker: 'lx3k9a2b4f7q',
    });
    expect(() => parseFnDocument({ documentTLV: { fiscalDocumentType: 'spaceship' } }, 1, TZ)).toThrow(
      /fiscalDocumentType/,
    );
  });

  it.each([
    ['wait', 'pending'],
    ['inProgress', 'pending'],
    ['ready', 'done'],
    ['interrupted', 'uncertain'],
    ['blocked', 'uncertain'],
    ['somethingNew', 'uncertain'],
  ])('status %s is %s', (status, kind) => {
    expect(taskVerdict({ status }, 'sell').kind).toBe(kind);
  });

  it('an error is a refusal, unless its code leaves the outcome open; a cancelled task never ran', () => {
    const refused = taskVerdict({ status: 'error', error: { code: 44 } }, 'sell');
    expect(refused.kind === 'refused' && refused.error).toBeInstanceOf(KktDriverError);
    expect(taskVerdict({ status: 'error', error: { code: 241 } }, 'sell').kind).toBe('uncertain');
    expect(taskVerdict({ status: 'error', error: { code: 177 } }, 'sell').kind).toBe('uncertain');
    expect(taskVerdict({ status: 'error' }, 'sell').kind).toBe('uncertain');
    const cancelled = taskVerdict({ status: 'canceled' }, 'sell');
    expect(cancelled.kind === 'refused' && cancelled.error.code).toBe('KKT_WEB_TASK_CANCELED');
  });
});
