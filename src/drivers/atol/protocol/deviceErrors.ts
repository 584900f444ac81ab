import { KktAgentError } from '../../../lib/errors.js';

/**
 * What a protocol error code means to the agent: whether the command certainly changed nothing
 * (`rejected`: the device refused it) and which kind of problem a technician faces.
 */
export type ErrorKind = 'input' | 'state' | 'printer' | 'fn' | 'device' | 'unknown';

export interface ErrorEntry<Code extends string = string> {
  code: Code;
  kind: ErrorKind;
  message: string;
  ru: string;
}

/** One row of a table; the code keeps its literal type, so the tables register their codes (errorCodes.ts). */
export const entry = <Code extends string>(
  code: Code,
  kind: ErrorKind,
  message: string,
  ru: string,
): ErrorEntry<Code> => ({
  code,
  kind,
  message,
  ru,
});

/** Protocol 3.1 error byte (docs/protocol/atol-v3.md §12). */
const PROTOCOL_ERROR_ROWS = [
  [
    0x08,
    entry(
      'KKT_BAD_AMOUNT',
      'input',
      'The price or sum is invalid for the register.',
      'Неверная цена (сумма)',
    ),
  ],
  [
    0x0a,
    entry('KKT_BAD_QUANTITY', 'input', 'The quantity is invalid for the register.', 'Неверное количество'),
  ],
  [0x13, entry('KKT_BAD_FORMAT', 'input', 'The register rejected the command format.', 'Неверный формат')],
  [0x14, entry('KKT_BAD_LENGTH', 'input', 'The register rejected the command length.', 'Неверная длина')],
  [
    0x1e,
    entry('KKT_MODE_BLOCKED', 'state', 'Entering the register mode is blocked.', 'Вход в режим заблокирован'),
  ],
  [
    0x1f,
    entry('KKT_CHECK_DATE_TIME', 'state', "Check the register's date and time.", 'Проверьте дату и время'),
  ],
  [
    0x20,
    entry(
      'KKT_DATE_BEFORE_FN',
      'state',
      "The register's clock is earlier than the last fiscal document. Set the correct date and time.",
      'Дата и время в ККТ меньше чем в ФН',
    ),
  ],
  [
    0x3f,
    entry('KKT_RECEIPT_BUFFER_FULL', 'device', 'The receipt buffer is full.', 'Переполнение буфера чека'),
  ],
  [
    0x66,
    entry(
      'KKT_WRONG_MODE',
      'state',
      'The command is not allowed in the current register mode.',
      'Команда не реализуется в данном режиме ККТ',
    ),
  ],
  [0x67, entry('KKT_NO_PAPER', 'printer', 'The printer is out of paper. Load a new roll.', 'Нет бумаги')],
  [
    0x68,
    entry(
      'KKT_PRINTER_NOT_CONNECTED',
      'printer',
      'The printer mechanism does not respond.',
      'Нет связи с принтером чеков',
    ),
  ],
  [
    0x69,
    entry(
      'KKT_PRINTER_MECHANICAL',
      'printer',
      'The printer mechanism failed.',
      'Механическая ошибка печатающего устройства',
    ),
  ],
  [0x6a, entry('KKT_BAD_RECEIPT_TYPE', 'input', 'The receipt type is invalid.', 'Неверный тип чека')],
  [0x6c, entry('KKT_BAD_REGISTER', 'input', 'The register number is invalid.', 'Неверный номер регистра')],
  [
    0x71,
    entry(
      'KKT_NONCASH_EXCEEDS_TOTAL',
      'input',
      'Non-cash payments exceed the receipt total.',
      'Сумма не наличной оплаты превышает сумму чека',
    ),
  ],
  [
    0x72,
    entry(
      'KKT_PAYMENT_SHORT',
      'input',
      'Payments are less than the receipt total.',
      'Сумма платежей меньше суммы чека',
    ),
  ],
  [
    0x76,
    entry(
      'KKT_BUSY',
      'device',
      'The previous operation has not finished.',
      'Предыдущая операция не завершена',
    ),
  ],
  [
    0x7a,
    entry(
      'KKT_UNSUPPORTED',
      'device',
      'This register model does not support the command.',
      'Данная модель ККТ не может выполнить команду',
    ),
  ],
  [0x7d, entry('KKT_BAD_SECTION', 'input', 'The department (section) number is invalid.', 'Неверная секция')],
  [0x7e, entry('KKT_BAD_PAYMENT_TYPE', 'input', 'The payment type is invalid.', 'Неверный вид оплаты')],
  [
    0x80,
    entry(
      'KKT_FORBIDDEN_BY_SETTINGS',
      'state',
      'The register settings forbid this operation.',
      'Запрещено настройками',
    ),
  ],
  [
    0x86,
    entry(
      'KKT_TENDERED_SHORT',
      'input',
      'The amount tendered is less than the receipt total.',
      'Вносимая сумма меньше суммы чека',
    ),
  ],
  [
    0x87,
    entry(
      'KKT_RETURN_RECEIPT_OPEN',
      'state',
      'A return receipt is open: the operation is impossible.',
      'Открыт чек возврата — операция невозможна',
    ),
  ],
  [
    0x88,
    entry(
      'KKT_SHIFT_EXPIRED',
      'state',
      'The shift has been open for more than 24 hours. Close it with a Z report.',
      'Смена превысила 24 часа',
    ),
  ],
  [
    0x89,
    entry(
      'KKT_SELL_RECEIPT_OPEN',
      'state',
      'A sale receipt is open: the operation is impossible.',
      'Открыт чек продажи — операция невозможна',
    ),
  ],
  [0x8c, entry('KKT_WRONG_PASSWORD', 'input', 'The register rejected the password.', 'Неверный пароль')],
  [
    0x98,
    entry('KKT_NO_CASH', 'state', 'There is not enough cash in the drawer.', 'В ККТ нет денег для выплаты'),
  ],
  [
    0x9a,
    entry(
      'KKT_RECEIPT_CLOSED',
      'state',
      'No receipt is open: the operation is impossible.',
      'Чек закрыт — операция невозможна',
    ),
  ],
  [
    0x9b,
    entry(
      'KKT_RECEIPT_OPEN',
      'state',
      'A receipt is already open: the operation is impossible.',
      'Чек открыт — операция невозможна',
    ),
  ],
  [
    0x9c,
    entry(
      'KKT_SHIFT_OPEN',
      'state',
      'The shift is open: the operation is impossible.',
      'Смена открыта, операция невозможна',
    ),
  ],
  [0xa2, entry('KKT_BAD_SHIFT_NUMBER', 'input', 'The shift number is invalid.', 'Неверный номер смены')],
  [0xa3, entry('KKT_BAD_REPORT_TYPE', 'input', 'The report type is invalid.', 'Неверный тип отчета')],
  [
    0xa8,
    entry(
      'KKT_NOT_FISCALIZED',
      'state',
      'The register is not fiscalized (not registered).',
      'ККТ не фискализирована',
    ),
  ],
  [0xb1, entry('KKT_LICENCE', 'state', 'The register licence does not allow this.', 'Запрещено лицензией')],
  [
    0xba,
    entry(
      'KKT_FN_EXCHANGE',
      'fn',
      'Exchange with the fiscal storage (FN) failed.',
      'Ошибка обмена с фискальным модулем',
    ),
  ],
  [
    0xbf,
    entry(
      'KKT_FN_SHIFT_MISMATCH',
      'fn',
      'Shift numbers differ between the register and the FN.',
      'Номера смен в ККТ и ФН различаются',
    ),
  ],
  [
    0xd1,
    entry(
      'KKT_PRINTER_OVERHEAT',
      'printer',
      'The print head is overheated. Let it cool down.',
      'Перегрев головки принтера',
    ),
  ],
  [
    0xd2,
    entry('KKT_FN_I2C', 'fn', 'FN exchange error (I2C).', 'Ошибка обмена с ФН на уровне интерфейса I2C'),
  ],
  [0xd3, entry('KKT_FN_FORMAT', 'fn', 'FN data format error.', 'Ошибка формата передачи ФН')],
  [
    0xd4,
    entry('KKT_FN_STATE', 'fn', 'The FN is in the wrong state for this operation.', 'Неверное состояние ФН'),
  ],
  [0xd5, entry('KKT_FN_FATAL', 'fn', 'Fatal FN error. Call service.', 'Неисправимая ошибка ФН')],
  [0xd6, entry('KKT_FN_CRYPTO', 'fn', 'FN cryptographic coprocessor error.', 'Ошибка КС ФН')],
  [
    0xd7,
    entry(
      'KKT_FN_EXPIRED',
      'fn',
      'The FN has expired. Replace the fiscal storage.',
      'Закончен срок эксплуатации ФН',
    ),
  ],
  [
    0xd8,
    entry('KKT_FN_FULL', 'fn', 'The FN archive is full. Replace the fiscal storage.', 'Архив ФН переполнен'),
  ],
  [0xd9, entry('KKT_FN_DATE_TIME', 'fn', 'Invalid date or time for the FN.', 'Неверные дата или время')],
  [0xda, entry('KKT_FN_NO_DATA', 'fn', 'The FN has no such data.', 'Нет запрошенных данных')],
  [
    0xdb,
    entry(
      'KKT_FN_OVERFLOW',
      'fn',
      'A receipt total overflowed in the FN.',
      'Переполнение (отрицательный итог документа)',
    ),
  ],
  [0xdc, entry('KKT_BUFFER_OVERFLOW', 'device', 'Buffer overflow.', 'Буфер переполнен')],
  [
    0xdd,
    entry(
      'KKT_NO_SECOND_COPY',
      'device',
      'A second copy cannot be printed.',
      'Невозможно напечатать вторую фискальную копию',
    ),
  ],
  [
    0xde,
    entry('KKT_EJ_RESET_NEEDED', 'device', 'The electronic journal must be reset.', 'Требуется гашение ЭЖ'),
  ],
  [
    0xdf,
    entry('KKT_TAX_TOTAL', 'input', 'Tax amount error.', 'Сумма налога больше суммы регистраций по чеку'),
  ],
  [0xe0, entry('KKT_TAX_OVERFLOW', 'input', 'Tax accumulator overflow.', 'Начисление налога на ноль')],
  [0xe1, entry('KKT_FN_NUMBER', 'fn', 'The FN number is invalid.', 'Неверный номер ФН')],
  [0xe4, entry('KKT_TAX_ERROR', 'input', 'Tax error.', 'Ошибка налога')],
  [
    0xe6,
    entry('KKT_LOW_POWER', 'device', 'The register power supply is insufficient.', 'Недостаточно питания'),
  ],
  [0xe7, entry('KKT_FN_BAD_PARAMS', 'fn', 'The FN rejected the parameters.', 'Некорректные параметры ФН')],
  [
    0xe8,
    entry('KKT_FN_TLV_TOO_BIG', 'fn', 'A TLV record is too large for the FN.', 'Превышен размер TLV данных'),
  ],
  [
    0xe9,
    entry('KKT_FN_NO_TRANSPORT', 'fn', 'The FN has no transport connection.', 'Нет транспортного соединения'),
  ],
  [
    0xea,
    entry('KKT_FN_CRYPTO_EXHAUSTED', 'fn', 'The FN crypto resource is exhausted.', 'Исчерпан ресурс КС'),
  ],
  [
    0xeb,
    entry(
      'KKT_FN_STORAGE_EXHAUSTED',
      'fn',
      'The FN storage resource is exhausted. Replace the FN.',
      'Исчерпан ресурс хранения',
    ),
  ],
  [
    0xec,
    entry('KKT_OFD_REJECTED', 'fn', 'The OFD rejected a message.', 'Сообщение от ОФД не может быть принято'),
  ],
  [
    0xed,
    entry(
      'KKT_FN_UNSENT_DOCUMENTS',
      'fn',
      'The FN holds documents the OFD has not received for too long: the register is blocked until they are sent.',
      'В ФН есть неотправленные ФД',
    ),
  ],
  [0xef, entry('KKT_FN_WAIT', 'fn', 'The FN is busy; wait and retry.', 'Исчерпан ресурс ожидания')],
  [
    0xf0,
    entry(
      'KKT_FN_SHIFT_EXPIRED',
      'state',
      'The FN shift is older than 24 hours. Close it with a Z report.',
      'Смена в ФН больше 24 часов',
    ),
  ],
  [
    0xf1,
    entry(
      'KKT_FN_TIME_DIFF',
      'fn',
      'Bad time difference between FN operations.',
      'Неверная разница во времени между операциями ФН',
    ),
  ],
  [0xf2, entry('KKT_FN_BAD_COMMAND', 'fn', 'The FN rejected the command.', 'Неверная команда ФН')],
  [
    0xf3,
    entry('KKT_POSITION_LIMIT', 'input', 'Too many positions in the receipt.', 'Превышен лимит позиций'),
  ],
  [0xf4, entry('KKT_NO_DATA', 'fn', 'No data.', 'Нет данных')],
  [0xf5, entry('KKT_EXCISE', 'input', 'Excise error.', 'Ошибка акциза')],
  [0xf6, entry('KKT_RECEIPT_TOO_LARGE', 'input', 'The receipt is too large.', 'Чек слишком большой')],
] as const;

/** Extended codes, read from register 0x37 after error 0xEE (docs/protocol/atol-v3.md §12). */
const EXTENDED_ERROR_ROWS = [
  [
    0x0101,
    entry(
      'KKT_EXT_MULTIPLE_REGISTRATIONS',
      'input',
      'More than one registration in a correction receipt.',
      '>1 регистрации в чеке коррекции',
    ),
  ],
  [
    0x0103,
    entry(
      'KKT_EXT_BAD_TAXATION',
      'input',
      'The taxation system is invalid for this register.',
      'Неверная СНО',
    ),
  ],
  [0x0104, entry('KKT_EXT_BAD_TAX', 'input', 'The VAT type is invalid.', 'Неверный номер налога')],
  [
    0x0105,
    entry(
      'KKT_EXT_BAD_ITEM_PAYMENT',
      'input',
      'The item payment method is invalid.',
      'Неверный тип оплаты позиции',
    ),
  ],
  [
    0x0106,
    entry('KKT_EXT_BAD_GOODS_CODE', 'input', 'The goods code type is invalid.', 'Неверный тип кода товара'),
  ],
  [
    0x0107,
    entry('KKT_EXT_EXCISE_FORBIDDEN', 'input', 'Excise goods are not allowed.', 'Подакцизный товар запрещен'),
  ],
  [
    0x0108,
    entry(
      'KKT_EXT_DISCOUNT_FORBIDDEN',
      'input',
      'A discount is not allowed with per-unit tax.',
      'Скидка запрещена',
    ),
  ],
  [
    0x010a,
    entry(
      'KKT_EXT_TAXATION_MISMATCH',
      'input',
      "The taxation system differs from the receipt's.",
      'СНО отличается от СНО чека',
    ),
  ],
  [
    0x0201,
    entry('KKT_EXT_TAG_WRITTEN', 'input', 'The tag has already been written.', 'Реквизит уже записан'),
  ],
  [
    0x0202,
    entry(
      'KKT_EXT_TAGS_NOT_WRITABLE',
      'fn',
      'Tags cannot be written (no FN or archive closed).',
      'Реквизиты не могут быть записаны',
    ),
  ],
  [
    0x0205,
    entry(
      'KKT_EXT_TAG_COMBINATION',
      'input',
      'Invalid combination of tags.',
      'Неверная комбинация реквизитов',
    ),
  ],
  [
    0x0206,
    entry('KKT_EXT_TAG_MISSING', 'input', 'A required tag is missing.', 'Отсутствует обязательный реквизит'),
  ],
  [
    0x0207,
    entry(
      'KKT_EXT_NO_POSITION_START',
      'input',
      'Position tags without a position start (EA).',
      'Буфер позиции без EA',
    ),
  ],
  [
    0x0208,
    entry(
      'KKT_EXT_RECEIPT_TAG_AFTER_POSITION',
      'input',
      'A receipt tag was written after a position started.',
      'Реквизит чека после начала позиции',
    ),
  ],
  [
    0x020a,
    entry('KKT_EXT_TAG_BUFFER_FULL', 'input', 'The tag buffer is full.', 'Буфер реквизитов переполнен'),
  ],
  [
    0x0301,
    entry(
      'KKT_EXT_REPORT_INTERRUPTED',
      'device',
      'The fiscal report was interrupted: repeat it.',
      'Отчет прерван, повторите',
    ),
  ],
  [
    0x0303,
    entry(
      'KKT_EXT_FN_READ_INTERRUPTED',
      'fn',
      'Reading an FN document was interrupted.',
      'Чтение документа ФН прервано',
    ),
  ],
] as const;

/** The codes of both tables and of an error byte neither lists. */
export type DeviceErrorCode =
  | (typeof PROTOCOL_ERROR_ROWS)[number][1]['code']
  | (typeof EXTENDED_ERROR_ROWS)[number][1]['code']
  | typeof UNKNOWN_DEVICE_ERROR.code;

export const PROTOCOL_ERRORS: ReadonlyMap<number, ErrorEntry<DeviceErrorCode>> = new Map<
  number,
  ErrorEntry<DeviceErrorCode>
>(PROTOCOL_ERROR_ROWS);
export const EXTENDED_ERRORS: ReadonlyMap<number, ErrorEntry<DeviceErrorCode>> = new Map<
  number,
  ErrorEntry<DeviceErrorCode>
>(EXTENDED_ERROR_ROWS);

/** An error byte (or extended code) neither table lists. */
export const UNKNOWN_DEVICE_ERROR = entry(
  'KKT_DEVICE_ERROR',
  'unknown',
  'The register reported an error this agent does not know.',
  '',
);

export const EXTENDED_ERROR_CODE = 0xee;

/**
 * An error the register reported in its answer. The device refused the command, so a state-changing
 * command that fails this way did not take effect (the register is transactional per command).
 */
export class KktDeviceError extends KktAgentError {
  readonly deviceCode: number;
  readonly extendedCode: number | undefined;
  readonly kind: ErrorKind;
  readonly deviceText: string;

  constructor(deviceCode: number, command: string, extendedCode?: number) {
    const known =
      extendedCode === undefined ? PROTOCOL_ERRORS.get(deviceCode) : EXTENDED_ERRORS.get(extendedCode);
    const hex = (n: number, w: number) => `0x${n.toString(16).toUpperCase().padStart(w, '0')}`;
    const label =
      extendedCode === undefined ? hex(deviceCode, 2) : `${hex(deviceCode, 2)}/${hex(extendedCode, 4)}`;
    const entryOrUnknown = known ?? UNKNOWN_DEVICE_ERROR;
    super(entryOrUnknown.code, `${entryOrUnknown.message} (register error ${label} on ${command})`, {
      deviceCode,
      extendedCode,
      command,
      deviceText: entryOrUnknown.ru,
    });
    this.deviceCode = deviceCode;
    this.extendedCode = extendedCode;
    this.kind = entryOrUnknown.kind;
    this.deviceText = entryOrUnknown.ru;
  }
}
