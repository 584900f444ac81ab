import { z } from 'zod';
import { jsonInteger, parseWithSchema } from '../../../lib/json.js';
import { checkConfirms, type ItemInfoCheckResult, itemInfoCheckResultSchema } from '../marking.js';
import { DriverError } from './driverErrors.js';

/**
 * The answers of driver 10's marking tasks (docs/protocol/atol-driver10-marking.md §3), parsed before use,
 * and what they decide. Enumerations come as ATOL's camelCase names; a name this agent does not know is
 * kept as text and never taken for a confirmation.
 */

const looseFlag = z.boolean().optional();

const offlineValidationSchema = z.looseObject({
  fmCheck: looseFlag,
  fmCheckResult: looseFlag,
  /** `checked`, `typeIncorrect`, `noKeys`, `noGS1`, `other`. */
  fmCheckErrorReason: z.string().optional(),
});

export const beginAnswerSchema = z.looseObject({ offlineValidation: offlineValidationSchema.optional() });
export type OfflineValidation = z.output<typeof offlineValidationSchema>;

const driverErrorSchema = z.looseObject({
  code: jsonInteger({ min: 0 }),
  /** `imcCheckIsRun`, `serverNoConnect`, `imcCheckBreak`, `imcCheckWrongState`, `responseTimeout`… */
  error: z.string().optional(),
  description: z.string().optional(),
});

const onlineValidationSchema = z.looseObject({
  itemInfoCheckResult: itemInfoCheckResultSchema.optional(),
  /** Tag 2109: `itemEstimatedStatusCorrect`, `itemEstimatedStatusIncorrect`, `itemSaleStopped`. */
  markOperatorItemStatus: z.string().optional(),
  /** Tag 2005. */
  markOperatorResponse: z.looseObject({ responseStatus: looseFlag, itemStatusCheck: looseFlag }).optional(),
  /** Tag 2105: `correct`, `incorrect`, `unrecognized`. */
  markOperatorResponseResult: z.string().optional(),
});
export type OnlineValidation = z.output<typeof onlineValidationSchema>;

export const statusAnswerSchema = z.looseObject({
  ready: z.boolean(),
  sentImcRequest: looseFlag,
  driverError: driverErrorSchema.optional(),
  onlineValidation: onlineValidationSchema.optional(),
});
export type StatusAnswer = z.output<typeof statusAnswerSchema>;

export const acceptAnswerSchema = z.looseObject({ itemInfoCheckResult: itemInfoCheckResultSchema });

export const parseBeginAnswer = (result: unknown) =>
  parseWithSchema(beginAnswerSchema, result ?? {}, 'result');
export const parseStatusAnswer = (result: unknown) => parseWithSchema(statusAnswerSchema, result, 'result');
export const parseAcceptAnswer = (result: unknown) => parseWithSchema(acceptAnswerSchema, result, 'result');

/** Why a code may not be sold, in words a cashier acts on (docs/marking.md, "Refusals"). */
export type MarkingRefusal =
  /** 2105: the request or the code's format was not recognised (a misread scan). */
  | 'unrecognized'
  /** The FN found the code's verification part not genuine. */
  | 'notGenuine'
  /** 2005: ОИСМ's check of the code failed: unknown to Честный ЗНАК, or not genuine. */
  | 'notFound'
  /** 2109: the planned status is wrong: already withdrawn (sold), or never put into circulation. */
  | 'statusIncorrect'
  /** 2109: sale stopped (expired, recalled, blocked by an authority). */
  | 'saleStopped'
  /** No answer from ОИСМ (no connection, or none in time). */
  | 'oismUnavailable'
  /** The check came back without confirming the sale for another reason (2106 lacks a bit). */
  | 'notConfirmed';

/** Driver errors of a status that mean "ОИСМ did not answer", not "the code is bad". */
const NO_ANSWER_CODES: ReadonlySet<number> = new Set([
  DriverError.NO_CONNECTION_WITH_SERVER,
  DriverError.OFD_EXCHANGE,
  DriverError.MARK_CHECK_TIMEOUT_EXPIRED,
]);
const NO_ANSWER_NAMES: ReadonlySet<string> = new Set(['serverNoConnect', 'responseTimeout']);
/** FN offline check reasons that say "not checkable here", not "not genuine". */
const NOT_CHECKABLE_OFFLINE: ReadonlySet<string> = new Set(['checked', 'typeIncorrect', 'noKeys']);

export type MarkingVerdict =
  | { accept: true }
  | { accept: false; refusal: MarkingRefusal; detail: string; checkResult?: ItemInfoCheckResult };

/**
 * Decides a check from its answers. Accepts only what ATOL's own sell script accepts (checked, genuine,
 * status checked and correct); says why otherwise, the most fundamental reason first.
 */
export function markingVerdict(offline: OfflineValidation | undefined, status: StatusAnswer): MarkingVerdict {
  const error = status.driverError;
  if (error && error.code !== 0) {
    const detail = `driver error ${error.code}${error.description ? ` (${error.description})` : ''}`;
    if (NO_ANSWER_CODES.has(error.code) || NO_ANSWER_NAMES.has(error.error ?? '')) {
      return { accept: false, refusal: 'oismUnavailable', detail };
    }
    return { accept: false, refusal: 'notConfirmed', detail };
  }
  if (offline?.fmCheck && offline.fmCheckResult === false) {
    const reason = offline.fmCheckErrorReason ?? '';
    if (!NOT_CHECKABLE_OFFLINE.has(reason)) {
      return {
        accept: false,
        refusal: 'notGenuine',
        detail: `FN check failed (${reason || 'no reason given'})`,
      };
    }
  }
  const online = status.onlineValidation;
  const checkResult = online?.itemInfoCheckResult;
  if (!online || !checkResult) {
    return { accept: false, refusal: 'oismUnavailable', detail: "the check came back without ОИСМ's answer" };
  }
  const withResult = (refusal: MarkingRefusal, detail: string): MarkingVerdict => ({
    accept: false,
    refusal,
    detail,
    checkResult,
  });
  const requestResult = online.markOperatorResponseResult;
  if (requestResult === 'unrecognized' || requestResult === 'incorrect') {
    return withResult('unrecognized', `ОИСМ: request ${requestResult} (2105)`);
  }
  if (online.markOperatorResponse?.responseStatus === false) {
    return withResult('notFound', 'ОИСМ: the code did not pass its check (2005)');
  }
  if (online.markOperatorItemStatus === 'itemSaleStopped') {
    return withResult('saleStopped', 'ОИСМ: sale of the item is stopped (2109)');
  }
  if (online.markOperatorItemStatus === 'itemEstimatedStatusIncorrect') {
    return withResult('statusIncorrect', 'ОИСМ: the planned status is not correct (2109)');
  }
  if (!checkConfirms(checkResult)) {
    return withResult('notConfirmed', `2106 = ${JSON.stringify(checkResult)}`);
  }
  return { accept: true };
}
