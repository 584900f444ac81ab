import { describe, expect, it } from 'vitest';
import {
  SEED_NO_CASHIER_RESPONSE,
  SEED_PRICE_LIMIT_RESPONSE,
  SEED_SUCCESS_RESPONSE,
} from '../../../test/intent/seedExamples.js';
import { ValidationError } from '../../lib/errors.js';
import { parseJsonLossless } from '../../lib/json.js';
import { decodeAnswerHead, decodeAuthAnswer, decodeSaleSuccess } from './wireResponse.js';

describe('decodeSaleSuccess', () => {
  it("reads the vendor's success answer into integers", () => {
    const result = decodeSaleSuccess(parseJsonLossless(SEED_SUCCESS_RESPONSE), '123');
    expect(result).toStrictEqual({
      operationId: '123',
      numberCheck: '1234',
      uid: '461F60C220B2010407CF1091',
      totalMinor: 797,
      changeMinor: 703,
      payments: [{ type: 'Cash', sumMinor: 1500 }],
      registerNumberSKO: '123456789',
      dateTime: '2022-01-22T12:00:00+03:00',
      isPrintSuccess: true,
      rrn: undefined,
      uuid: 'j1923-123mi1-123j19',
      messageDetail: 'Успешная оплата',
    });
  });

  it('takes JSON numbers as exactly as strings', () => {
    const text =
      '{"resultCode":200,"numberCheck":1234,"uid":"AB","total":7.97,"change":0.1,"payments":[{"type":"Cash","sum":8.07}]}';
    const result = decodeSaleSuccess(parseJsonLossless(text), 'op');
    expect(result.numberCheck).toBe('1234');
    expect(result.totalMinor).toBe(797);
    expect(result.changeMinor).toBe(10);
    expect(result.payments).toStrictEqual([{ type: 'Cash', sumMinor: 807 }]);
  });

  it('tolerates missing or malformed extras but not missing receipt data', () => {
    const lean = decodeSaleSuccess(
      parseJsonLossless(
        '{"resultCode":200,"numberCheck":"1","uid":"U","total":"1","payments":"?","rrn":null}',
      ),
      'op',
    );
    expect(lean.changeMinor).toBe(0);
    expect(lean.payments).toStrictEqual([]);
    expect(lean.rrn).toBeUndefined();
    expect(() =>
      decodeSaleSuccess(parseJsonLossless('{"resultCode":200,"uid":"U","total":"1"}'), 'op'),
    ).toThrow(ValidationError);
    expect(() =>
      decodeSaleSuccess(
        parseJsonLossless('{"resultCode":200,"numberCheck":"1","uid":"U","total":"1.005"}'),
        'op',
      ),
    ).toThrow(ValidationError);
  });
});

describe('decodeAnswerHead', () => {
  it("reads the vendor's error answers, which carry only four fields", () => {
    expect(decodeAnswerHead(parseJsonLossless(SEED_NO_CASHIER_RESPONSE))).toStrictEqual({
      resultCode: 435,
      type: 'SALE',
      messageTitle: 'Ошибка',
      messageDetail: 'Не передано имя кассира',
    });
    expect(decodeAnswerHead(parseJsonLossless(SEED_PRICE_LIMIT_RESPONSE)).resultCode).toBe(414);
  });

  it('accepts a resultCode sent as a string and refuses an answer without one', () => {
    expect(decodeAnswerHead(parseJsonLossless('{"resultCode":"410"}')).resultCode).toBe(410);
    expect(() => decodeAnswerHead(parseJsonLossless('{"messageDetail":"?"}'))).toThrow(ValidationError);
    expect(() => decodeAnswerHead(parseJsonLossless('[]'))).toThrow(ValidationError);
  });
});

describe('decodeAuthAnswer', () => {
  it('reads a token with or without a resultCode', () => {
    expect(decodeAuthAnswer(parseJsonLossless('{"token":"abc"}'))).toStrictEqual({
      resultCode: undefined,
      token: 'abc',
      messageDetail: undefined,
    });
    expect(decodeAuthAnswer(parseJsonLossless('{"token":"","resultCode":401}')).token).toBeUndefined();
  });
});
