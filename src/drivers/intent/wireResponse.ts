import { z } from 'zod';
import { parseWithSchema } from '../../lib/json.js';
import { wireToMoneyMinor } from './wireDecimal.js';
import { optionalWire, wireBoolean, wireDecimalText, wireInteger, wireText } from './wireValues.js';

/**
 * The terminal's answers. Every answer is a `BaseResponse`; error answers carry only `messageDetail`,
 * `messageTitle`, `resultCode` and `type`, so everything else is optional when reading. Reading is lenient
 * (numbers or strings, nulls); writing (the emulator) follows the vendor's examples exactly.
 */

// --- what the emulator writes ------------------------------------------------------------------------------

export interface WireErrorResponse {
  messageDetail: string;
  messageTitle: string;
  resultCode: number;
  type: string;
}

export interface WirePayment {
  type: string;
  sum: string;
}

export interface WireSaleSuccessResponse extends WireErrorResponse {
  dateTime: string;
  numberCheck: string;
  registerNumberSKO: string;
  rrn: string;
  uid: string;
  total: string;
  change: string;
  isPrintSuccess: boolean;
  uuid: string;
  payments: WirePayment[];
}

export interface WireAuthResponse extends WireErrorResponse {
  token: string;
}

// --- what the driver reads ---------------------------------------------------------------------------------

/** An optional field that is ignored, rather than fatal, when it comes malformed. */
function tolerated<Schema extends z.ZodType>(schema: Schema) {
  return optionalWire(schema).catch(undefined);
}

const answerHeadSchema = z.object({
  resultCode: wireInteger(),
  type: tolerated(wireText()),
  messageTitle: tolerated(wireText()),
  messageDetail: tolerated(wireText()),
});

/** The part of every answer that says how it went. */
export type IntentAnswerHead = z.output<typeof answerHeadSchema>;

/** Reads resultCode and the message texts; throws a ValidationError when there is no resultCode. */
export function decodeAnswerHead(value: unknown): IntentAnswerHead {
  return parseWithSchema(answerHeadSchema, value, 'answer');
}

const moneyText = wireDecimalText().transform((text, ctx): number => {
  try {
    return wireToMoneyMinor(text, '');
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not an amount in kopecks` });
    return z.NEVER;
  }
});

const saleSuccessSchema = z.object({
  numberCheck: wireText().pipe(z.string().min(1)),
  uid: wireText().pipe(z.string().min(1)),
  total: moneyText,
  change: tolerated(moneyText),
  registerNumberSKO: tolerated(wireText()),
  dateTime: tolerated(wireText()),
  rrn: tolerated(wireText()),
  uuid: tolerated(wireText()),
  isPrintSuccess: tolerated(wireBoolean()),
  messageDetail: tolerated(wireText()),
  payments: tolerated(z.array(z.object({ type: wireText(), sum: moneyText }))),
});

export interface IntentPayment {
  /** "Cash" in the vendor's example; other values are not documented and are passed through. */
  type: string;
  sumMinor: number;
}

/** A completed SALE as the terminal reported it. */
export interface IntentSaleResult {
  operationId: string;
  /** Receipt number. */
  numberCheck: string;
  /** Document UID (24 hex characters in the vendor's example). */
  uid: string;
  totalMinor: number;
  /** 0 when the terminal leaves `change` out. */
  changeMinor: number;
  payments: IntentPayment[];
  /** Registration number of the СКО (the control unit the register works with). */
  registerNumberSKO?: string | undefined;
  /** As the terminal sent it, e.g. "2022-01-22T12:00:00+03:00". */
  dateTime?: string | undefined;
  isPrintSuccess?: boolean | undefined;
  /** Bank reference of a card payment; absent (not "") when the terminal sent none. */
  rrn?: string | undefined;
  uuid?: string | undefined;
  messageDetail?: string | undefined;
}

/** Reads a resultCode-200 SALE answer; throws a ValidationError when the receipt data is missing. */
export function decodeSaleSuccess(value: unknown, operationId: string): IntentSaleResult {
  const answer = parseWithSchema(saleSuccessSchema, value, 'answer');
  return {
    operationId,
    numberCheck: answer.numberCheck,
    uid: answer.uid,
    totalMinor: answer.total,
    changeMinor: answer.change ?? 0,
    payments: (answer.payments ?? []).map((payment) => ({ type: payment.type, sumMinor: payment.sum })),
    registerNumberSKO: answer.registerNumberSKO,
    dateTime: answer.dateTime,
    isPrintSuccess: answer.isPrintSuccess,
    rrn: answer.rrn === '' ? undefined : answer.rrn,
    uuid: answer.uuid,
    messageDetail: answer.messageDetail,
  };
}

const authAnswerSchema = z.object({
  // The one public client reads only `token`, so a bare `{token}` counts as success.
  resultCode: tolerated(wireInteger()),
  token: tolerated(wireText()),
  messageDetail: tolerated(wireText()),
});

export interface IntentAuthAnswer {
  resultCode: number | undefined;
  token: string | undefined;
  messageDetail: string | undefined;
}

export function decodeAuthAnswer(value: unknown): IntentAuthAnswer {
  const answer = parseWithSchema(authAnswerSchema, value, 'answer');
  return {
    resultCode: answer.resultCode,
    token: answer.token === '' ? undefined : answer.token,
    messageDetail: answer.messageDetail,
  };
}
