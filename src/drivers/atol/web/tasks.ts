import { formatMinor } from '../../../lib/decimal.js';
import { LosslessNumber } from '../../../lib/json.js';
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

/** `2026-01-15` → `2026.01.15`, driver 10's date form (docs/protocol/atol-v3.md §16). */
export const atolDate = (isoDate: string): string => isoDate.replaceAll('-', '.');

/**
 * A validated receipt as a driver-10 task of its type (`sell`, `sellReturn`, `buy`, `buyReturn`, and the four
 * corrections). Tag 1192 (our marker) travels as an `additionalAttribute`
 * item, the driver's way to write the receipt's additional attribute; a correction's basis as
 * `correctionType`, `correctionBaseDate` and `correctionBaseNumber` (docs/protocol/atol-v3.md §16). No public
 * source shows a task field for tag 1125, so an internet settlement never reaches this encoder (the device
 * refuses it).
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
  const correction = receipt.correction
    ? {
        correctionType: receipt.correction.type,
        correctionBaseDate: atolDate(receipt.correction.baseDate),
        ...(receipt.correction.baseNumber ? { correctionBaseNumber: receipt.correction.baseNumber } : {}),
      }
    : {};
  return {
    type: receipt.type,
    ...correction,
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
