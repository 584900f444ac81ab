import { describe, expect, it } from 'vitest';
import { GS } from '../../../lib/markingCode.js';
import { validateReceipt } from '../receipt.js';
import { markingVerdict, parseBeginAnswer, parseStatusAnswer } from './markingAnswers.js';
import { beginMarkingValidationTask, receiptTask } from './tasks.js';

/**
 * Driver 10's marking answers in the shape public clients read them (docs/protocol/atol-driver10-marking.md
 * §2: KKTServiceLib's GetMarkingCodeValidationStatusResult and its online-validation result; node-atol-rpc's
 * ImcParams), and the verdict the agent draws from them (§3).
 */

const GOOD_2106 = {
  imcCheckFlag: true,
  imcCheckResult: true,
  imcStatusInfo: true,
  imcEstimatedStatusCorrect: true,
  ecrStandAloneFlag: false,
};

const status = (
  online: Record<string, unknown>,
  driverError = { code: 0, error: 'none', description: 'Ошибок нет' },
) => parseStatusAnswer({ ready: true, sentImcRequest: true, driverError, onlineValidation: online });

describe('the verdict of a marking code check', () => {
  it('accepts only a check whose 2106 confirms all four: checked, genuine, status checked, status correct', () => {
    const ok = status({
      itemInfoCheckResult: GOOD_2106,
      markOperatorResponse: { responseStatus: true, itemStatusCheck: true },
      markOperatorItemStatus: 'itemEstimatedStatusCorrect',
      markOperatorResponseResult: 'correct',
    });
    expect(
      markingVerdict(
        parseBeginAnswer({ offlineValidation: { fmCheck: true, fmCheckResult: true } }).offlineValidation,
        ok,
      ),
    ).toEqual({
      accept: true,
    });
    const offlineOnly = status({ itemInfoCheckResult: { ...GOOD_2106, imcStatusInfo: false } });
    expect(markingVerdict(undefined, offlineOnly)).toMatchObject({ accept: false, refusal: 'notConfirmed' });
  });

  it('names the most fundamental reason: no answer, the FN, 2105, 2005, 2109', () => {
    const noOism = status({}, { code: 402, error: 'serverNoConnect', description: 'Нет связи' });
    expect(markingVerdict(undefined, noOism)).toMatchObject({ accept: false, refusal: 'oismUnavailable' });
    const fake = parseBeginAnswer({
      offlineValidation: { fmCheck: true, fmCheckResult: false, fmCheckErrorReason: 'other' },
    }).offlineValidation;
    expect(markingVerdict(fake, status({ itemInfoCheckResult: GOOD_2106 }))).toMatchObject({
      refusal: 'notGenuine',
    });
    // The FN could not check a code of this kind offline: not a reason to refuse it.
    const noKeys = parseBeginAnswer({
      offlineValidation: { fmCheck: true, fmCheckResult: false, fmCheckErrorReason: 'noKeys' },
    }).offlineValidation;
    expect(markingVerdict(noKeys, status({ itemInfoCheckResult: GOOD_2106 }))).toEqual({ accept: true });
    expect(
      markingVerdict(
        undefined,
        status({ itemInfoCheckResult: GOOD_2106, markOperatorResponseResult: 'unrecognized' }),
      ),
    ).toMatchObject({ refusal: 'unrecognized' });
    expect(
      markingVerdict(
        undefined,
        status({ itemInfoCheckResult: GOOD_2106, markOperatorResponse: { responseStatus: false } }),
      ),
    ).toMatchObject({ refusal: 'notFound' });
    expect(
      markingVerdict(
        undefined,
        status({ itemInfoCheckResult: GOOD_2106, markOperatorItemStatus: 'itemSaleStopped' }),
      ),
    ).toMatchObject({ refusal: 'saleStopped' });
    expect(
      markingVerdict(
        undefined,
        status({ itemInfoCheckResult: GOOD_2106, markOperatorItemStatus: 'itemEstimatedStatusIncorrect' }),
      ),
    ).toMatchObject({ refusal: 'statusIncorrect' });
  });

  it('never takes an unknown status name or a missing answer for a confirmation', () => {
    expect(markingVerdict(undefined, status({}))).toMatchObject({
      accept: false,
      refusal: 'oismUnavailable',
    });
    expect(() => parseStatusAnswer({ sentImcRequest: true })).toThrow(/ready/);
  });
});

describe('marking tasks as driver 10 takes them', () => {
  const code = `0104680029460908215jcmHzLmkdPML${GS}938p9E`;

  it('begins a check with the code in base64, its status, and quantity and unit only for goods by measure', () => {
    expect(
      beginMarkingValidationTask({
        marking: { code, status: 'itemDryForSale' },
        quantityMilli: 250,
        measurementUnit: 'kilogram',
      }),
    ).toEqual({
      type: 'beginMarkingCodeValidation',
      params: {
        imcType: 'auto',
        imc: Buffer.from(code, 'latin1').toString('base64'),
        itemEstimatedStatus: 'itemDryForSale',
        imcModeProcessing: 0,
        itemQuantity: expect.anything(),
        itemUnits: 'kilogram',
      },
    });
    const piece = beginMarkingValidationTask({
      marking: { code, status: 'itemPieceSold', fraction: { numerator: 1, denominator: 10 } },
      quantityMilli: 1000,
      measurementUnit: 'piece',
    });
    expect(piece.params).not.toHaveProperty('itemQuantity');
    expect(piece.params).toMatchObject({ itemFractionalAmount: '1/10' });
  });

  it('sells a marked position with imcParams (and the check result) and 1260 as industryInfo', () => {
    const receipt = validateReceipt({
      type: 'sell',
      items: [
        {
          type: 'position',
          name: 'Сыр',
          priceKop: 100_000,
          quantityMilli: 250,
          amountKop: 25_000,
          tax: { type: 'vat22' },
          measurementUnit: 'kilogram',
          paymentObject: 'commodityWithMarking',
          marking: { code, status: 'itemDryForSale', checkResult: GOOD_2106 },
          industryInfo: [{ fois: '030', date: '21.11.2023', number: '1944', attribute: 'UUID=x&Time=1' }],
        },
      ],
      payments: [{ type: 'cash', sumKop: 25_000 }],
    });
    const [item] = (receiptTask(receipt) as unknown as { items: Array<Record<string, unknown>> }).items;
    expect(item).toMatchObject({
      paymentObject: 'commodityWithMarking',
      imcParams: {
        imcType: 'auto',
        imc: Buffer.from(code, 'latin1').toString('base64'),
        itemEstimatedStatus: 'itemDryForSale',
        imcModeProcessing: 0,
        itemInfoCheckResult: GOOD_2106,
      },
      industryInfo: [{ fois: '030', date: '2023.11.21', number: '1944', industryAttribute: 'UUID=x&Time=1' }],
    });
  });
});
