import { formatMinor } from '../../../lib/decimal.js';
import type { MeasurementUnit } from '../../../lib/ffd.js';
import { LosslessNumber } from '../../../lib/json.js';
import { encodeMarkingCodeBase64 } from '../../../lib/markingCode.js';
import type { IndustryInfo, ReceiptMarking } from '../marking.js';
import type { Receipt } from '../receipt.js';

/**
 * JSON tasks of ATOL driver 10 (docs/protocol/atol-v3.md §12), built from our types. Money leaves as JSON numbers in
 * roubles and quantities as JSON numbers of units, both written from integer kopecks and thousandths as
 * decimal text (`LosslessNumber`), so no float ever touches an amount. Serialize with
 * `stringifyJsonLossless`.
 */
export type JsonTask = { type: string } & Record<string, unknown>;

export interface TaskOperator {
  name: string;
  vatin?: string;
}

/** 45550 kopecks → the JSON number 455.5 (roubles). */
export const roubles = (kop: number): LosslessNumber => new LosslessNumber(formatMinor(kop, 2));

/** 1500 thousandths → the JSON number 1.5. */
export const units = (milli: number): LosslessNumber => new LosslessNumber(formatMinor(milli, 3));

const operatorField = (operator: TaskOperator | undefined) =>
  operator ? { operator: { name: operator.name, ...(operator.vatin ? { vatin: operator.vatin } : {}) } } : {};

/**
 * A validated receipt as a `sell`/`sellReturn` task. Tag 1192 (our marker) travels as an
 * `additionalAttribute` item, the driver's way to write the receipt's additional attribute.
 */
export function receiptTask(receipt: Receipt): JsonTask {
  const items: unknown[] = receipt.items.map((item) =>
    item.type === 'text'
      ? { type: 'text', text: item.text }
      : {
          type: 'position',
          name: item.name,
          price: roubles(item.priceKop),
          quantity: units(item.quantityMilli),
          amount: roubles(item.amountKop),
          department: item.department,
          measurementUnit: item.measurementUnit,
          paymentMethod: item.paymentMethod,
          paymentObject: item.paymentObject,
          tax: { type: item.tax.type },
          ...(item.marking ? { imcParams: positionImcParams(item.marking) } : {}),
          ...(item.industryInfo ? { industryInfo: item.industryInfo.map(industryInfoItem) } : {}),
        },
  );
  if (receipt.marker) items.push({ type: 'additionalAttribute', value: receipt.marker, print: true });
  const client = receipt.clientInfo;
  const clientInfo =
    client && (client.emailOrPhone || client.name || client.vatin)
      ? {
          clientInfo: {
            ...(client.emailOrPhone ? { emailOrPhone: client.emailOrPhone } : {}),
            ...(client.name ? { name: client.name } : {}),
            ...(client.vatin ? { vatin: client.vatin } : {}),
          },
        }
      : {};
  return {
    type: receipt.type,
    ...(receipt.taxationType ? { taxationType: receipt.taxationType } : {}),
    electronically: receipt.electronically,
    ...operatorField(receipt.operator),
    ...clientInfo,
    items,
    payments: receipt.payments.map((p) => ({ type: p.type, sum: roubles(p.sumKop) })),
    ...(receipt.totalKop === undefined ? {} : { total: roubles(receipt.totalKop) }),
  };
}

export const openShiftTask = (operator?: TaskOperator): JsonTask => ({
  type: 'openShift',
  ...operatorField(operator),
});

export const closeShiftTask = (operator?: TaskOperator): JsonTask => ({
  type: 'closeShift',
  ...operatorField(operator),
});

export const reportXTask = (operator?: TaskOperator): JsonTask => ({
  type: 'reportX',
  ...operatorField(operator),
});

export const cashTask = (type: 'cashIn' | 'cashOut', sumKop: number, operator?: TaskOperator): JsonTask => ({
  type,
  cashSum: roubles(sumKop),
  ...operatorField(operator),
});

export const fnDocumentTask = (fiscalDocumentNumber: number): JsonTask => ({
  type: 'getFnDocument',
  fiscalDocumentNumber,
  withRawData: false,
});

export const queryTask = (
  type:
    | 'getDeviceStatus'
    | 'getDeviceInfo'
    | 'getShiftStatus'
    | 'getFnInfo'
    | 'getFnStatus'
    | 'ofdExchangeStatus'
    | 'getRegistrationInfo',
): JsonTask => ({ type });

// ---- marking (docs/protocol/atol-driver10-marking.md) ---------------------------------------------

/** `imcType: "auto"`: the driver tells the code's kind (short, 44 or 88 characters of verification) itself. */
const IMC_TYPE = 'auto';
/** Tag 2102, "режим обработки кода маркировки": 0 is the only value FFD 1.2 defines. */
const IMC_MODE_PROCESSING = 0;

const fractionText = (fraction: { numerator: number; denominator: number }) =>
  `${fraction.numerator}/${fraction.denominator}`;

/** A marked position's `imcParams` in the sale: the code (base64), its status, the register's check. */
function positionImcParams(marking: ReceiptMarking): Record<string, unknown> {
  return {
    imcType: IMC_TYPE,
    imc: encodeMarkingCodeBase64(marking.code),
    itemEstimatedStatus: marking.status,
    imcModeProcessing: IMC_MODE_PROCESSING,
    ...(marking.fraction ? { itemFractionalAmount: fractionText(marking.fraction) } : {}),
    ...(marking.checkResult ? { itemInfoCheckResult: marking.checkResult } : {}),
  };
}

/** 1263 travels as `YYYY.MM.DD` in the JSON (the driver turns it round into the FN's DD.MM.YYYY). */
function industryInfoItem(info: IndustryInfo): Record<string, unknown> {
  const [day, month, year] = info.date.split('.');
  return {
    fois: info.fois,
    date: `${year}.${month}.${day}`,
    number: info.number,
    industryAttribute: info.attribute,
  };
}

/** What one code's check needs: the code and status, and for goods by measure the quantity and unit. */
export interface MarkingCheckInput {
  marking: Pick<ReceiptMarking, 'code' | 'status' | 'fraction'>;
  quantityMilli: number;
  measurementUnit: MeasurementUnit;
}

const MEASURED_STATUSES: ReadonlySet<string> = new Set(['itemDryForSale', 'itemDryReturn']);

/**
 * `beginMarkingCodeValidation`: the FN checks the code and the register asks ОИСМ. Quantity and measure go
 * with statuses 2 and 4 only (goods by measure), as ATOL's driver takes them.
 */
export function beginMarkingValidationTask(input: MarkingCheckInput): JsonTask {
  const measured = MEASURED_STATUSES.has(input.marking.status);
  return {
    type: 'beginMarkingCodeValidation',
    params: {
      imcType: IMC_TYPE,
      imc: encodeMarkingCodeBase64(input.marking.code),
      itemEstimatedStatus: input.marking.status,
      imcModeProcessing: IMC_MODE_PROCESSING,
      ...(measured ? { itemQuantity: units(input.quantityMilli), itemUnits: input.measurementUnit } : {}),
      ...(input.marking.fraction ? { itemFractionalAmount: fractionText(input.marking.fraction) } : {}),
    },
  };
}

export const markingTask = (
  type:
    | 'getMarkingCodeValidationStatus'
    | 'acceptMarkingCode'
    | 'declineMarkingCode'
    | 'cancelMarkingCodeValidation'
    | 'clearMarkingCodeValidationResult',
): JsonTask => ({ type });
