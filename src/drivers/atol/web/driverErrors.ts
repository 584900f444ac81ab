import { KktAgentError } from '../../../lib/errors.js';
import { type ErrorKind, EXTENDED_ERRORS, PROTOCOL_ERRORS } from '../protocol/deviceErrors.js';

/**
 * Error codes of ATOL driver 10 (`LIBFPTR_ERROR_*`, docs/protocol/atol-v3.md §12), which the web server reports in
 * `results[].error.code`. Where a driver code means the same as a protocol 3.1 error byte, it maps to that
 * byte, so a technician sees the same stable code (`KKT_NO_PAPER`) whichever backend drives the register.
 */
export const DriverError = {
  OK: 0,
  CONNECTION_DISABLED: 1,
  NO_CONNECTION: 2,
  PORT_BUSY: 3,
  PORT_NOT_AVAILABLE: 4,
  INCORRECT_DATA: 5,
  INTERNAL: 6,
  NO_REQUIRED_PARAM: 8,
  NOT_CONFIGURED: 10,
  NOT_SUPPORTED: 11,
  INVALID_MODE: 12,
  INVALID_PARAM: 13,
  UNKNOWN: 15,
  INVALID_SUM: 16,
  INVALID_QUANTITY: 17,
  INVALID_COMMAND_FORMAT: 26,
  INVALID_COMMAND_LENGTH: 27,
  MODE_BLOCKED: 34,
  CHECK_DATE_TIME: 35,
  DATE_TIME_LESS_THAN_FS: 36,
  RECEIPT_BUFFER_OVERFLOW: 40,
  NO_PAPER: 44,
  COVER_OPENED: 45,
  PRINTER_FAULT: 46,
  MECHANICAL_FAULT: 47,
  INVALID_RECEIPT_TYPE: 48,
  NONCACH_PAYMENTS_TOO_MUCH: 52,
  BUSY: 55,
  INVALID_DEPARTMENT: 59,
  INVALID_PAYMENT_TYPE: 60,
  DENIED_BY_SETTINGS: 62,
  NOT_FULLY_PAID: 66,
  DENIED_IN_RETURN_RECEIPT: 67,
  SHIFT_EXPIRED: 68,
  DENIED_IN_SELL_RECEIPT: 69,
  INVALID_PASSWORD: 71,
  DENIED_IN_CLOSED_SHIFT: 73,
  NO_CASH: 80,
  DENIED_IN_CLOSED_RECEIPT: 81,
  DENIED_IN_OPENED_RECEIPT: 82,
  DENIED_IN_OPENED_SHIFT: 83,
  INVALID_SHIFT_NUMBER: 86,
  FISCAL_PRINTER_NOT_ACTIVATED: 89,
  DENIED_BY_LICENSE: 96,
  FISCAL_MODULE_EXCHANGE: 104,
  SHIFT_NUMBERS_DID_NOT_MATCH: 106,
  PRINTER_OVERHEAT: 114,
  FN_EXCHANGE: 115,
  FN_INVALID_FORMAT: 116,
  FN_INVALID_STATE: 117,
  FN_FAULT: 118,
  FN_CRYPTO_FAULT: 119,
  FN_EXPIRED: 120,
  FN_OVERFLOW: 121,
  FN_INVALID_DATE_TIME: 122,
  FN_NO_MORE_DATA: 123,
  FN_TOTAL_OVERFLOW: 124,
  BUFFER_OVERFLOW: 125,
  PRINT_SECOND_COPY_DENIED: 126,
  NEED_RESET_JOURNAL: 127,
  INVALID_FN_NUMBER: 130,
  LOW_BATTERY: 132,
  FN_INVALID_COMMAND: 133,
  FN_COMMAND_OVERFLOW: 134,
  FN_NO_TRANSPORT_CONNECTION: 135,
  FN_CRYPTO_HAS_EXPIRED: 136,
  FN_RESOURCE_HAS_EXPIRED: 137,
  INVALID_MESSAGE_FROM_OFD: 138,
  FN_HAS_NOT_SEND_DOCUMENTS: 139,
  FN_TIMEOUT: 140,
  FN_SHIFT_EXPIRED: 141,
  FN_INVALID_TIME_DIFFERENCE: 142,
  INVALID_TAXATION_TYPE: 143,
  INVALID_TAX_TYPE: 144,
  INVALID_COMMODITY_PAYMENT_TYPE: 145,
  INVALID_COMMODITY_CODE_TYPE: 146,
  EXCISABLE_COMMODITY_DENIED: 147,
  FISCAL_PROPERTY_WRITE: 148,
  CUTTER_FAULT: 150,
  NO_REQUIRED_FISCAL_PROPERTY: 161,
  FN_NOT_FOUND: 166,
  NO_ACTIVE_OPERATOR: 172,
  OPEN_SHIFT_REPORT_INTERRUPTED: 175,
  CLOSE_RECEIPT_INTERRUPTED: 177,
  FISCAL_PROPERTIES_COMBINATION: 195,
  CONNECTION_LOST: 241,
  INVALID_TAX_SUM: 243,
  DOCUMENT_CANCELED: 249,
  // Marking (LIBFPTR_ERROR_BASE_MARKING = 400, libfptr10.h; docs/protocol/atol-driver10-marking.md §5).
  MARKING_CODE_VALIDATION_IN_PROGRESS: 401,
  NO_CONNECTION_WITH_SERVER: 402,
  MARKING_CODE_VALIDATION_CANCELED: 403,
  INVALID_MARKING_CODE_STATUS: 404,
  INVALID_GS1: 405,
  MARKING_WORK_DENIED: 406,
  MARKING_WORK_TEMPORARY_BLOCKED: 407,
  MARKS_OVERFLOW: 408,
  INVALID_MARKING_CODE: 409,
  INVALID_STATE: 410,
  OFD_EXCHANGE: 411,
  INVALID_MEASUREMENT_UNIT: 412,
  OPERATION_DENIED_IN_CURRENT_FFD: 413,
  MARKING_OPERATION_DENIED: 414,
  MARK_NOT_CHECKED: 420,
  MARK_CHECK_TIMEOUT_EXPIRED: 421,
  NO_MARKING_CODE_IN_TABLE: 422,
  INTERRUPTED_BY_PREVIOUS_ERRORS: 502,
} as const;

/** Driver code → protocol error byte: pairs derived by matching the Russian messages (docs/atol-backends.md). */
const MAPPED_IN_RESEARCH: ReadonlyArray<readonly [number, number]> = [
  [DriverError.NO_PAPER, 0x67],
  [DriverError.PRINTER_FAULT, 0x68],
  [DriverError.MECHANICAL_FAULT, 0x69],
  [DriverError.SHIFT_EXPIRED, 0x88],
  [DriverError.DENIED_IN_CLOSED_RECEIPT, 0x9a],
  [DriverError.DENIED_IN_OPENED_RECEIPT, 0x9b],
  [DriverError.DENIED_IN_OPENED_SHIFT, 0x9c],
  [DriverError.NO_CASH, 0x98],
  [DriverError.NONCACH_PAYMENTS_TOO_MUCH, 0x71],
  [DriverError.NOT_FULLY_PAID, 0x72],
  [DriverError.INVALID_PASSWORD, 0x8c],
  [DriverError.FISCAL_PRINTER_NOT_ACTIVATED, 0xa8],
  [DriverError.PRINTER_OVERHEAT, 0xd1],
  [DriverError.FN_INVALID_STATE, 0xd4],
  [DriverError.FN_EXPIRED, 0xd7],
  [DriverError.FN_OVERFLOW, 0xd8],
  [DriverError.FN_RESOURCE_HAS_EXPIRED, 0xeb],
  [DriverError.FN_HAS_NOT_SEND_DOCUMENTS, 0xed],
  [DriverError.FN_SHIFT_EXPIRED, 0xf0],
  [DriverError.INVALID_PAYMENT_TYPE, 0x7e],
  [DriverError.INVALID_SUM, 0x08],
  [DriverError.INVALID_QUANTITY, 0x0a],
];

/**
 * More pairs matched the same way (same Russian message in the driver's and the protocol's tables), so
 * that every refusal the emulated register can give has a driver code, and technicians see one code. ⚠
 */
const MATCHED_HERE: ReadonlyArray<readonly [number, number]> = [
  [DriverError.INVALID_COMMAND_FORMAT, 0x13],
  [DriverError.INVALID_COMMAND_LENGTH, 0x14],
  [DriverError.MODE_BLOCKED, 0x1e],
  [DriverError.CHECK_DATE_TIME, 0x1f],
  [DriverError.DATE_TIME_LESS_THAN_FS, 0x20],
  [DriverError.RECEIPT_BUFFER_OVERFLOW, 0x3f],
  [DriverError.INVALID_MODE, 0x66],
  [DriverError.INVALID_RECEIPT_TYPE, 0x6a],
  [DriverError.BUSY, 0x76],
  [DriverError.NOT_SUPPORTED, 0x7a],
  [DriverError.INVALID_DEPARTMENT, 0x7d],
  [DriverError.DENIED_BY_SETTINGS, 0x80],
  [DriverError.DENIED_IN_RETURN_RECEIPT, 0x87],
  [DriverError.DENIED_IN_SELL_RECEIPT, 0x89],
  [DriverError.INVALID_SHIFT_NUMBER, 0xa2],
  [DriverError.DENIED_BY_LICENSE, 0xb1],
  [DriverError.FISCAL_MODULE_EXCHANGE, 0xba],
  [DriverError.SHIFT_NUMBERS_DID_NOT_MATCH, 0xbf],
  [DriverError.FN_EXCHANGE, 0xd2],
  [DriverError.FN_INVALID_FORMAT, 0xd3],
  [DriverError.FN_FAULT, 0xd5],
  [DriverError.FN_CRYPTO_FAULT, 0xd6],
  [DriverError.FN_INVALID_DATE_TIME, 0xd9],
  [DriverError.FN_NO_MORE_DATA, 0xda],
  [DriverError.FN_TOTAL_OVERFLOW, 0xdb],
  [DriverError.BUFFER_OVERFLOW, 0xdc],
  [DriverError.PRINT_SECOND_COPY_DENIED, 0xdd],
  [DriverError.NEED_RESET_JOURNAL, 0xde],
  [DriverError.INVALID_FN_NUMBER, 0xe1],
  [DriverError.LOW_BATTERY, 0xe6],
  [DriverError.FN_INVALID_COMMAND, 0xe7],
  [DriverError.FN_COMMAND_OVERFLOW, 0xe8],
  [DriverError.FN_NO_TRANSPORT_CONNECTION, 0xe9],
  [DriverError.FN_CRYPTO_HAS_EXPIRED, 0xea],
  [DriverError.INVALID_MESSAGE_FROM_OFD, 0xec],
  [DriverError.FN_TIMEOUT, 0xef],
  [DriverError.FN_INVALID_TIME_DIFFERENCE, 0xf1],
];

/** Driver code → protocol error byte. */
export const PROTOCOL_CODE_BY_DRIVER_CODE: ReadonlyMap<number, number> = new Map([
  ...MAPPED_IN_RESEARCH,
  ...MATCHED_HERE,
]);

/** Protocol error byte → driver code (the emulator's web facade reports refusals with these). */
export const DRIVER_CODE_BY_PROTOCOL_CODE: ReadonlyMap<number, number> = new Map(
  [...PROTOCOL_CODE_BY_DRIVER_CODE].map(([driver, protocol]) => [protocol, driver]),
);

/** Driver code ↔ extended code of register 0x37 (docs/protocol/atol-v3.md §12), matched by meaning. ⚠ */
const EXTENDED_PAIRS: ReadonlyArray<readonly [number, number]> = [
  [DriverError.INVALID_TAXATION_TYPE, 0x0103],
  [DriverError.INVALID_TAX_TYPE, 0x0104],
  [DriverError.INVALID_COMMODITY_PAYMENT_TYPE, 0x0105],
  [DriverError.INVALID_COMMODITY_CODE_TYPE, 0x0106],
  [DriverError.EXCISABLE_COMMODITY_DENIED, 0x0107],
  [DriverError.FISCAL_PROPERTY_WRITE, 0x0201],
  [DriverError.FISCAL_PROPERTIES_COMBINATION, 0x0205],
  [DriverError.NO_REQUIRED_FISCAL_PROPERTY, 0x0206],
];

export const EXTENDED_CODE_BY_DRIVER_CODE: ReadonlyMap<number, number> = new Map(EXTENDED_PAIRS);
export const DRIVER_CODE_BY_EXTENDED_CODE: ReadonlyMap<number, number> = new Map(
  EXTENDED_PAIRS.map(([driver, extended]) => [extended, driver]),
);

interface DriverOnlyEntry {
  code: string;
  kind: ErrorKind;
  message: string;
  ru: string;
}

const driverOnly = (code: string, kind: ErrorKind, message: string, ru: string): DriverOnlyEntry => ({
  code,
  kind,
  message,
  ru,
});

/** Driver codes with no protocol counterpart: the driver's own failures and a few states it reports itself. */
const DRIVER_ONLY_ERRORS: ReadonlyMap<number, DriverOnlyEntry> = new Map([
  [
    DriverError.CONNECTION_DISABLED,
    driverOnly(
      'KKT_DRIVER_NOT_CONNECTED',
      'device',
      'The ATOL driver has no open connection to the register.',
      'Соединение не установлено',
    ),
  ],
  [
    DriverError.NO_CONNECTION,
    driverOnly(
      'KKT_NO_CONNECTION',
      'device',
      'The ATOL driver gets no answer from the register. Check the cable and that the register is on.',
      'Нет связи',
    ),
  ],
  [
    DriverError.PORT_BUSY,
    driverOnly('KKT_PORT_BUSY', 'device', "The register's port is held by another program.", 'Порт занят'),
  ],
  [
    DriverError.PORT_NOT_AVAILABLE,
    driverOnly(
      'KKT_PORT_NOT_AVAILABLE',
      'device',
      "The register's port is not available (missing device or permissions).",
      'Порт недоступен',
    ),
  ],
  [
    DriverError.INCORRECT_DATA,
    driverOnly(
      'KKT_INCORRECT_DATA',
      'device',
      'The register answered with data the ATOL driver could not read.',
      'Некорректные данные от устройства',
    ),
  ],
  [
    DriverError.INTERNAL,
    driverOnly('KKT_DRIVER_INTERNAL', 'device', 'Internal error of the ATOL driver.', 'Внутренняя ошибка'),
  ],
  [
    DriverError.NO_REQUIRED_PARAM,
    driverOnly(
      'KKT_DRIVER_MISSING_PARAM',
      'input',
      'The task lacks a parameter the ATOL driver requires.',
      'Не найден обязательный параметр',
    ),
  ],
  [
    DriverError.NOT_CONFIGURED,
    driverOnly(
      'KKT_DRIVER_NOT_CONFIGURED',
      'device',
      'The ATOL driver is not configured for a register. Set up the device in the web server.',
      'Драйвер не настроен',
    ),
  ],
  [
    DriverError.INVALID_PARAM,
    driverOnly(
      'KKT_DRIVER_INVALID_PARAM',
      'input',
      'The ATOL driver rejected a parameter of the task.',
      'Некорректное значение параметра',
    ),
  ],
  [
    DriverError.UNKNOWN,
    driverOnly(
      'KKT_DRIVER_UNKNOWN',
      'unknown',
      'The ATOL driver reported an unknown error.',
      'Неизвестная ошибка',
    ),
  ],
  [
    DriverError.COVER_OPENED,
    driverOnly('KKT_COVER_OPEN', 'printer', "The printer's cover is open. Close it.", 'Открыта крышка'),
  ],
  [
    DriverError.DENIED_IN_CLOSED_SHIFT,
    driverOnly(
      'KKT_SHIFT_CLOSED',
      'state',
      'The shift is closed: the operation needs an open shift.',
      'Смена закрыта',
    ),
  ],
  [
    DriverError.CUTTER_FAULT,
    driverOnly('KKT_CUTTER_FAULT', 'printer', 'The paper cutter failed.', 'Ошибка отрезчика'),
  ],
  [
    DriverError.FN_NOT_FOUND,
    driverOnly('KKT_FN_NOT_FOUND', 'fn', 'The fiscal storage (FN) is not found.', 'ФН не найден'),
  ],
  [
    DriverError.NO_ACTIVE_OPERATOR,
    driverOnly(
      'KKT_NO_ACTIVE_OPERATOR',
      'state',
      'No cashier is registered on the register.',
      'Кассир не зарегистрирован',
    ),
  ],
  [
    DriverError.OPEN_SHIFT_REPORT_INTERRUPTED,
    driverOnly(
      'KKT_OPEN_SHIFT_INTERRUPTED',
      'unknown',
      'Opening the shift was interrupted: the shift may or may not be open.',
      'Отчет об открытии смены прерван',
    ),
  ],
  [
    DriverError.CLOSE_RECEIPT_INTERRUPTED,
    driverOnly(
      'KKT_CLOSE_RECEIPT_INTERRUPTED',
      'unknown',
      'Closing the receipt was interrupted: it may or may not be fiscalized.',
      'Закрытие чека прервано',
    ),
  ],
  [
    DriverError.CONNECTION_LOST,
    driverOnly(
      'KKT_CONNECTION_LOST',
      'device',
      'The ATOL driver lost the connection to the register during the operation.',
      'Соединение с ККТ потеряно',
    ),
  ],
  [
    DriverError.DOCUMENT_CANCELED,
    driverOnly(
      'KKT_DOCUMENT_CANCELED',
      'state',
      'The register cancelled the document.',
      'Документ был отменен',
    ),
  ],
  [
    DriverError.MARKING_CODE_VALIDATION_IN_PROGRESS,
    driverOnly(
      'KKT_MARKING_CHECK_IN_PROGRESS',
      'state',
      'A marking code check is already running on the register.',
      'Процедура проверки КМ уже запущена',
    ),
  ],
  [
    DriverError.NO_CONNECTION_WITH_SERVER,
    driverOnly(
      'KKT_MARKING_NO_OISM',
      'device',
      'The register cannot reach ОИСМ (the marking server behind the OFD) to check the code.',
      'Нет связи с сервером ИСМ',
    ),
  ],
  [
    DriverError.MARKING_CODE_VALIDATION_CANCELED,
    driverOnly(
      'KKT_MARKING_CHECK_CANCELED',
      'state',
      'The marking code check was cancelled.',
      'Процедура проверки КМ прервана',
    ),
  ],
  [
    DriverError.INVALID_MARKING_CODE_STATUS,
    driverOnly(
      'KKT_MARKING_STATUS_INVALID',
      'input',
      'The register refused the planned status of the marked item.',
      'Некорректный статус КМ',
    ),
  ],
  [
    DriverError.INVALID_GS1,
    driverOnly(
      'KKT_MARKING_CODE_NOT_GS1',
      'input',
      'The marking code is not a valid GS1 code (a misread or incomplete scan).',
      'Некорректный формат КМ (GS1)',
    ),
  ],
  [
    DriverError.MARKING_WORK_DENIED,
    driverOnly(
      'KKT_MARKING_DENIED',
      'state',
      'The register is not registered for marked goods (FFD 1.2 with the marking flag).',
      'Работа с маркированными товарами запрещена',
    ),
  ],
  [
    DriverError.MARKING_WORK_TEMPORARY_BLOCKED,
    driverOnly(
      'KKT_MARKING_BLOCKED',
      'state',
      'The FN has blocked work with marked goods for now (unsent notifications, or keys to update).',
      'Работа с маркировкой временно заблокирована',
    ),
  ],
  [
    DriverError.MARKS_OVERFLOW,
    driverOnly(
      'KKT_MARKING_TABLE_FULL',
      'state',
      "The FN's table of checked codes is full: a receipt must take them first.",
      'Переполнение таблицы КМ',
    ),
  ],
  [
    DriverError.INVALID_MARKING_CODE,
    driverOnly(
      'KKT_MARKING_CODE_INVALID',
      'input',
      'The register refused the marking code as malformed.',
      'Некорректный КМ',
    ),
  ],
  [
    DriverError.INVALID_STATE,
    driverOnly(
      'KKT_MARKING_CHECK_WRONG_STATE',
      'state',
      'The marking code check is in the wrong state for this step.',
      'Неверное состояние процесса проверки КМ',
    ),
  ],
  [
    DriverError.OFD_EXCHANGE,
    driverOnly(
      'KKT_MARKING_NO_OISM',
      'device',
      'The register cannot reach ОИСМ (the marking server behind the OFD) to check the code.',
      'Ошибка обмена с сервером',
    ),
  ],
  [
    DriverError.INVALID_MEASUREMENT_UNIT,
    driverOnly(
      'KKT_MARKING_UNIT_INVALID',
      'input',
      'The register refused the measure of the marked item.',
      'Некорректная мера количества',
    ),
  ],
  [
    DriverError.OPERATION_DENIED_IN_CURRENT_FFD,
    driverOnly(
      'KKT_MARKING_FFD_TOO_OLD',
      'state',
      'The register is not on FFD 1.2: it cannot sell marked goods with their codes.',
      'Операция запрещена в текущей версии ФФД',
    ),
  ],
  [
    DriverError.MARKING_OPERATION_DENIED,
    driverOnly(
      'KKT_MARKING_DENIED',
      'state',
      'The register refused the operation with marked goods.',
      'Операция с маркированным товаром запрещена',
    ),
  ],
  [
    DriverError.MARK_NOT_CHECKED,
    driverOnly(
      'KKT_MARKING_NOT_CHECKED',
      'input',
      'The marked item was not checked before the sale.',
      'КМ не проверен',
    ),
  ],
  [
    DriverError.MARK_CHECK_TIMEOUT_EXPIRED,
    driverOnly(
      'KKT_MARKING_NO_OISM',
      'device',
      'ОИСМ did not answer the marking code check in time.',
      'Превышен таймаут ожидания ответа от сервера',
    ),
  ],
  [
    DriverError.NO_MARKING_CODE_IN_TABLE,
    driverOnly(
      'KKT_MARKING_NOT_CHECKED',
      'input',
      "The marking code is not in the FN's table of checked codes: it was not accepted before the sale.",
      'Отсутствует КМ в таблице',
    ),
  ],
  [
    DriverError.INTERRUPTED_BY_PREVIOUS_ERRORS,
    driverOnly(
      'KKT_INTERRUPTED_BY_PREVIOUS_ERRORS',
      'state',
      'Not run: an earlier task of the same request failed.',
      'Выполнение прервано из-за предыдущих ошибок',
    ),
  ],
]);

/**
 * Driver codes that do not prove the task had no effect: the driver lost the register, or read garbage,
 * in the middle of it. A fiscal task failing with one of these must be reconciled, never retried blindly.
 */
export const UNCERTAIN_DRIVER_CODES: ReadonlySet<number> = new Set([
  DriverError.NO_CONNECTION,
  DriverError.INCORRECT_DATA,
  DriverError.INTERNAL,
  DriverError.UNKNOWN,
  DriverError.OPEN_SHIFT_REPORT_INTERRUPTED,
  DriverError.CLOSE_RECEIPT_INTERRUPTED,
  DriverError.CONNECTION_LOST,
]);

/** Driver codes meaning the driver cannot reach the register at all (the device is not usable now). */
export const UNREACHABLE_DRIVER_CODES: ReadonlySet<number> = new Set([
  DriverError.CONNECTION_DISABLED,
  DriverError.NO_CONNECTION,
  DriverError.PORT_BUSY,
  DriverError.PORT_NOT_AVAILABLE,
  DriverError.CONNECTION_LOST,
]);

interface ResolvedEntry {
  code: string;
  kind: ErrorKind;
  message: string;
  ru: string;
  deviceCode: number | undefined;
}

function resolve(driverCode: number): ResolvedEntry {
  const protocolCode = PROTOCOL_CODE_BY_DRIVER_CODE.get(driverCode);
  const protocol = protocolCode === undefined ? undefined : PROTOCOL_ERRORS.get(protocolCode);
  if (protocol) return { ...protocol, deviceCode: protocolCode };
  const extendedCode = EXTENDED_CODE_BY_DRIVER_CODE.get(driverCode);
  const extended = extendedCode === undefined ? undefined : EXTENDED_ERRORS.get(extendedCode);
  if (extended) return { ...extended, deviceCode: undefined };
  const own = DRIVER_ONLY_ERRORS.get(driverCode);
  if (own) return { ...own, deviceCode: undefined };
  return {
    code: 'KKT_DRIVER_ERROR',
    kind: 'unknown',
    message: 'The ATOL driver reported an error this agent does not know.',
    ru: '',
    deviceCode: undefined,
  };
}

/**
 * The web server reported that a task failed, with a driver-10 error code. `code` and `kind` are the
 * protocol backend's when the code maps to a protocol error byte (`deviceCode`), so alerts and retries
 * behave the same whichever backend drives the register.
 */
export class KktDriverError extends KktAgentError {
  readonly driverCode: number;
  /** The protocol 3.1 error byte with the same meaning, when there is one. */
  readonly deviceCode: number | undefined;
  readonly kind: ErrorKind;
  /** The driver's own description (Russian) when it sent one, else the table's. */
  readonly deviceText: string;
  /** The error does not prove that the task had no effect (see `UNCERTAIN_DRIVER_CODES`). */
  readonly uncertain: boolean;

  constructor(driverCode: number, operation: string, description?: string) {
    const entry = resolve(driverCode);
    const deviceText = description?.trim() || entry.ru;
    super(entry.code, `${entry.message} (driver error ${driverCode} on ${operation})`, {
      driverCode,
      deviceCode: entry.deviceCode,
      operation,
      deviceText,
    });
    this.driverCode = driverCode;
    this.deviceCode = entry.deviceCode;
    this.kind = entry.kind;
    this.deviceText = deviceText;
    this.uncertain = UNCERTAIN_DRIVER_CODES.has(driverCode);
  }
}

/** The driver's Russian description of a code, as the web server puts it in `error.description`. */
export function describeDriverError(driverCode: number): string {
  return resolve(driverCode).ru || `Ошибка ${driverCode}`;
}
