/**
 * The terminal's `resultCode` table (vendor page "code_type", readable up to 418; 435 comes from the SALE
 * page). Each row gives the stable code our errors carry, the terminal's own Russian text (the emulator
 * answers with it) and what a technician should do, in English.
 */

export type IntentResultCategory =
  /** The operation succeeded. */
  | 'success'
  /** The token or PIN: the driver handles these by authenticating again once. */
  | 'auth'
  /** The shift state on the terminal: someone has to open or close a shift. */
  | 'shift'
  /** The request itself is wrong: sending the same data again fails the same way. */
  | 'request'
  /** The terminal is in a state only a person at the terminal can change. */
  | 'terminal'
  /** The terminal gave no specific reason. */
  | 'general';

export interface IntentResultCodeInfo {
  resultCode: number;
  code: string;
  /** The text the vendor documents for this code (the terminal sends it in `messageDetail`). */
  terminalText: string;
  /** English, for a technician: what happened and what to do. */
  explanation: string;
  category: IntentResultCategory;
}

export const INTENT_RESULT_CODES = [
  {
    resultCode: 200,
    code: 'INTENT_OK',
    terminalText: 'Успех',
    explanation: 'The operation succeeded.',
    category: 'success',
  },
  {
    resultCode: 399,
    code: 'INTENT_GENERAL_ERROR',
    terminalText: 'Общая ошибка',
    explanation:
      'The terminal reported a general error without a specific reason. Read the message on the terminal screen.',
    category: 'general',
  },
  {
    resultCode: 400,
    code: 'INTENT_SHIFT_NOT_OPEN',
    terminalText: 'Необходимо открыть смену',
    explanation: 'No shift is open on the terminal. Open a shift on the terminal, then try again.',
    category: 'shift',
  },
  {
    resultCode: 401,
    code: 'INTENT_AUTH_REQUIRED',
    terminalText: 'Требуется авторизация',
    explanation: 'The terminal requires authorization. Check the PIN configured for the terminal.',
    category: 'auth',
  },
  {
    resultCode: 402,
    code: 'INTENT_SUM_TOO_SMALL',
    terminalText: 'Сумма должна быть >= 0.01',
    explanation: 'The receipt sum must be at least 0.01. The bill has a zero or too small total.',
    category: 'request',
  },
  {
    resultCode: 403,
    code: 'INTENT_INVALID_ITEM_PRICE',
    terminalText: 'Получена недействительная цена товарной позиции',
    explanation: 'An item price is invalid (negative or above 99999999999.99). Fix the price in the bill.',
    category: 'request',
  },
  {
    resultCode: 404,
    code: 'INTENT_NEGATIVE_TOTAL',
    terminalText: 'Получен отрицательный итог',
    explanation:
      'The receipt total came out negative, e.g. a discount larger than the amount. Fix the discounts.',
    category: 'request',
  },
  {
    resultCode: 405,
    code: 'INTENT_TOKEN_REJECTED',
    terminalText: 'Ошибка токена',
    explanation: 'The terminal rejected the authorization token. Check the PIN configured for the terminal.',
    category: 'auth',
  },
  {
    resultCode: 406,
    code: 'INTENT_SHIFT_ALREADY_OPEN',
    terminalText: 'Смена уже открыта',
    explanation: 'A shift is already open on the terminal.',
    category: 'shift',
  },
  {
    resultCode: 407,
    code: 'INTENT_CERTIFICATE_EXPIRED',
    terminalText: 'Срок действия сертификата истек',
    explanation:
      "The terminal's certificate has expired, or the terminal's clock is wrong. Check the date and time on the terminal and contact the terminal vendor.",
    category: 'terminal',
  },
  {
    resultCode: 408,
    code: 'INTENT_SHIFT_ALREADY_CLOSED',
    terminalText: 'Смена уже закрыта',
    explanation: 'The shift on the terminal is already closed.',
    category: 'shift',
  },
  {
    resultCode: 409,
    code: 'INTENT_REGISTER_BLOCKED',
    terminalText: 'Касса заблокирована или не инициализирована',
    explanation:
      'The cash register on the terminal is blocked or not initialised. A person must resolve this on the terminal or with the vendor.',
    category: 'terminal',
  },
  {
    resultCode: 410,
    code: 'INTENT_UNFINISHED_SALE',
    terminalText: 'Невозможно выполнить продажу пока присутствует незавершенная продажа',
    explanation:
      'The terminal holds an unfinished sale (a payment was taken but the receipt was not completed). A person must finish or cancel it on the terminal itself; until then the terminal refuses new sales.',
    category: 'terminal',
  },
  {
    resultCode: 411,
    code: 'INTENT_NO_RECEIPT_TO_ANNUL',
    terminalText: 'Нет чека для аннулирования',
    explanation: 'There is no receipt to annul on the terminal.',
    category: 'request',
  },
  {
    resultCode: 412,
    code: 'INTENT_SHIFT_TOO_LONG',
    terminalText: 'Смена уже открыта более 24 часов',
    explanation:
      'The shift has been open for more than 24 hours. Close the shift on the terminal and open a new one.',
    category: 'shift',
  },
  {
    resultCode: 413,
    code: 'INTENT_INVALID_REQUEST_BODY',
    terminalText: 'Неверное тело запроса',
    explanation:
      'The terminal could not read the request body. This is a driver or terminal-version mismatch; report it with the log.',
    category: 'request',
  },
  {
    resultCode: 414,
    code: 'INTENT_SUM_TOO_LARGE',
    terminalText: 'Сумма должна быть <= 99999999999.99',
    explanation: 'A sum exceeds 99999999999.99 (for example price times quantity). Fix the bill.',
    category: 'request',
  },
  {
    resultCode: 415,
    code: 'INTENT_QUANTITY_TOO_SMALL',
    terminalText: 'Количество должно быть >= 0.001',
    explanation: 'An item quantity is below 0.001. Fix the quantity in the bill.',
    category: 'request',
  },
  {
    resultCode: 416,
    code: 'INTENT_QUANTITY_TOO_LARGE',
    terminalText: 'Количество должно быть <= 9999.999',
    explanation: 'An item quantity is above 9999.999. Split the item or fix the quantity in the bill.',
    category: 'request',
  },
  {
    resultCode: 418,
    code: 'INTENT_RRN_REQUIRED',
    terminalText: 'Для совершения операции требуется RRN',
    explanation: 'The operation needs the RRN of the original card transaction.',
    category: 'request',
  },
  {
    resultCode: 435,
    code: 'INTENT_CASHIER_MISSING',
    terminalText: 'Не передано имя кассира',
    explanation: 'The request carried no cashier name. Configure a cashier name for the terminal.',
    category: 'request',
  },
] as const satisfies readonly IntentResultCodeInfo[];

/** Stable codes of the documented result codes (`INTENT_SHIFT_NOT_OPEN`, …). */
export type IntentResultErrorCode = (typeof INTENT_RESULT_CODES)[number]['code'];

/** The code of any resultCode the vendor's table does not list. */
export const INTENT_UNKNOWN_RESULT_CODE = 'INTENT_UNKNOWN_RESULT_CODE';

const BY_RESULT_CODE: ReadonlyMap<number, IntentResultCodeInfo> = new Map(
  INTENT_RESULT_CODES.map((info) => [info.resultCode, info]),
);

/** The documented row for a resultCode, or undefined for a code the vendor does not list. */
export function resultCodeInfo(resultCode: number): IntentResultCodeInfo | undefined {
  return BY_RESULT_CODE.get(resultCode);
}

export const RESULT_CODE_OK = 200;
/** Codes after which the driver authenticates again (once). */
export const AUTH_RESULT_CODES: ReadonlySet<number> = new Set([401, 405]);
