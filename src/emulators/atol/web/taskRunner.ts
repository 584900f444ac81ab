import { cashIn, cashOut } from '../../../drivers/atol/commands/cash.js';
import { Mode } from '../../../drivers/atol/commands/modes.js';
import { printLine } from '../../../drivers/atol/commands/print.js';
import {
  beginPosition,
  cancelReceipt,
  closeReceipt,
  OpenReceiptFlags,
  openReceipt,
  payment,
  registerPosition,
  Tag,
  writeTag,
} from '../../../drivers/atol/commands/receipt.js';
import { ReportType, xReport } from '../../../drivers/atol/commands/report.js';
import { openShift, zReport } from '../../../drivers/atol/commands/shift.js';
import { encodeCp866 } from '../../../drivers/atol/protocol/cp866.js';
import { ffdSecondsToWallClock, wallClockToFfdSeconds } from '../../../drivers/atol/protocol/dateTime.js';
import { encodeTlv, encodeVln } from '../../../drivers/atol/protocol/tlv.js';
import { RECEIPT_TYPE_BYTES } from '../../../drivers/atol/receipt.js';
import { innField, isFfd12 } from '../../../drivers/atol/receiptForm.js';
import {
  MEASUREMENT_UNITS,
  PAYMENT_METHODS,
  PAYMENT_OBJECTS,
  PAYMENT_TYPES,
  TAX_TYPES,
  TAXATION_SYSTEMS,
} from '../../../drivers/atol/vocabulary.js';
import { DriverError } from '../../../drivers/atol/web/driverErrors.js';
import { formatMinor } from '../../../lib/decimal.js';
import { MARKING_STATUSES } from '../../../lib/ffd.js';
import { LosslessNumber } from '../../../lib/json.js';
import { decodeMarkingCodeBase64, productCodeGs1M } from '../../../lib/markingCode.js';
import { OFD_BLOCK_AFTER_MS } from '../device.js';
import type { JournalEntry } from '../journalEntry.js';
import { fnDocumentResult, isoAtOffset } from './documentTlv.js';
import { checkByte, MarkingRegister } from './markingRegister.js';
import { type RegisterPort, TaskFailure } from './registerPort.js';
import {
  additionalAttributeItemSchema,
  cashTaskSchema,
  fnDocumentTaskSchema,
  operatorTaskSchema,
  type PositionItem,
  parseTask,
  positionItemSchema,
  type ReceiptTask,
  receiptTaskSchema,
  textItemSchema,
} from './taskSchemas.js';

/**
 * The facade's stand-in for ATOL driver 10: it turns one JSON task into the register's command sequence
 * (the way the driver does over its own protocol), through the emulated register's command path, and
 * answers in the driver's JSON (`fiscalParams`, `deviceStatus`, …). Reads look at the register's state.
 */

const Z_REPORT_STATES = [
  [3, 2],
  [7, 1],
] as const;
const X_REPORT_STATES = [[2, 2]] as const;
const SHIFT_LIMIT_MS = 24 * 3600 * 1000;
const FNS_URL = 'www.nalog.gov.ru';

// FFD 1.2 tags of a marked position (docs/marking.md, "What the receipt carries").
const PRODUCT_CODE_TAG = 1163;
const UNRECOGNISED_CODE_TAG = 1300;
const GS1M_TAG = 1305;
const CHECK_RESULT_TAG = 2106;
const ASSIGNED_STATUS_TAG = 2110;
const FRACTION_TAG = 1291;
const NUMERATOR_TAG = 1293;
const DENOMINATOR_TAG = 1294;
const INDUSTRY_REQUISITE_TAG = 1260;

const roubles = (kop: number) => new LosslessNumber(formatMinor(kop, 2));

function code<T extends Record<string, number>>(
  table: T,
  value: string | number | undefined,
  fallback: number,
  failure: number,
  what: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const found = table[value];
  if (found === undefined)
    throw new TaskFailure(failure, `Некорректное значение параметра (${what}: ${value})`);
  return found;
}

export class TaskRunner {
  /** The FN's marking code checks and its table of accepted codes (real time: the agent polls in real time). */
  private readonly marking = new MarkingRegister(Date.now);

  constructor(private readonly register: RegisterPort) {}

  private get view() {
    return this.register.view;
  }

  /** The register clock's offset ("+03:00"), for the date-times the driver reports. */
  private get offset(): string {
    return this.view.dateTime.slice(-6);
  }

  private get ofdBlocked(): boolean {
    const { ofd } = this.view.state();
    if (this.register.emulator.activeFaults.ofdBacklog) return true;
    return (
      ofd.unsentCount > 0 &&
      ofd.firstUnsentAtMs !== undefined &&
      Date.parse(this.view.dateTime) >= ofd.firstUnsentAtMs + OFD_BLOCK_AFTER_MS
    );
  }

  /** Runs one task; throws `TaskFailure` with the driver's error code when it fails. */
  async run(task: unknown): Promise<unknown> {
    const type = typeof task === 'object' && task !== null ? (task as { type?: unknown }).type : undefined;
    this.register.takeDocuments();
    switch (type) {
      case 'sell':
      case 'sellReturn':
      case 'buy':
      case 'buyReturn':
      case 'sellCorrection':
      case 'sellReturnCorrection':
      case 'buyCorrection':
      case 'buyReturnCorrection':
        return this.receipt(parseTask(receiptTaskSchema, task));
      case 'openShift':
        return this.openShift(parseTask(operatorTaskSchema, task).operator);
      case 'closeShift':
        return this.closeShift(parseTask(operatorTaskSchema, task).operator);
      case 'reportX':
        return this.reportX(parseTask(operatorTaskSchema, task).operator);
      case 'cashIn':
      case 'cashOut': {
        const cash = parseTask(cashTaskSchema, task);
        return this.cash(cash.type, cash.cashSum, cash.operator);
      }
      case 'getDeviceStatus':
        return this.deviceStatus();
      case 'getShiftStatus':
        return this.shiftStatus();
      case 'getDeviceInfo':
        return this.deviceInfo();
      case 'getFnInfo':
        return this.fnInfo();
      case 'getFnStatus':
        return this.fnStatus();
      case 'ofdExchangeStatus':
        return this.ofdExchangeStatus();
      case 'getRegistrationInfo':
        return this.registrationInfo();
      case 'getFnDocument':
        return this.fnDocument(parseTask(fnDocumentTaskSchema, task).fiscalDocumentNumber);
      case 'beginMarkingCodeValidation':
        this.requireFfd12();
        return this.marking.begin((task as { params?: unknown }).params);
      case 'getMarkingCodeValidationStatus':
        return this.marking.status();
      case 'acceptMarkingCode':
        return this.marking.accept();
      case 'declineMarkingCode':
        return this.marking.decline();
      case 'cancelMarkingCodeValidation':
        return this.marking.cancel();
      case 'clearMarkingCodeValidationResult':
        return this.marking.clear();
      default:
        throw new TaskFailure(
          DriverError.NOT_SUPPORTED,
          `Не поддерживается в данной версии (тип задания ${JSON.stringify(type) ?? 'не указан'})`,
        );
    }
  }

  /** Marked goods exist in FFD 1.2 only: an older register refuses them (driver error 413). */
  private requireFfd12(): void {
    if (!isFfd12(this.view.ffdVersion)) throw new TaskFailure(DriverError.OPERATION_DENIED_IN_CURRENT_FFD);
  }

  /**
   * A marked position's tags, as the FN keeps them: the product code (1163 holding 1305, GTIN and serial),
   * the check's result (2106), the assigned status (2110), the part of a pack (1291) and the permissive
   * mode's requisite (1260). The code must have been accepted into the FN's table first.
   */
  private async writeMarking(item: PositionItem, root: string): Promise<string | undefined> {
    const imc = item.imcParams;
    if (imc) {
      this.requireFfd12();
      const code = decodeMarkingCodeBase64(imc.imc);
      if (code === undefined) {
        throw new TaskFailure(DriverError.INVALID_MARKING_CODE, `Некорректный КМ (${root}.imcParams.imc)`);
      }
      const status = MARKING_STATUSES[imc.itemEstimatedStatus as keyof typeof MARKING_STATUSES];
      if (status === undefined) throw new TaskFailure(DriverError.INVALID_MARKING_CODE_STATUS);
      const accepted = this.marking.take(code, imc.itemEstimatedStatus);
      const gs1m = productCodeGs1M(code);
      const productCode = gs1m
        ? encodeTlv(GS1M_TAG, Buffer.from(gs1m, 'latin1'))
        : encodeTlv(UNRECOGNISED_CODE_TAG, Buffer.from(code.slice(0, 32), 'latin1'));
      const tags: Array<[number, Buffer]> = [
        [PRODUCT_CODE_TAG, productCode],
        [CHECK_RESULT_TAG, Buffer.of(checkByte(accepted.checkResult))],
        [ASSIGNED_STATUS_TAG, Buffer.of(status)],
      ];
      if (imc.itemFractionalAmount) {
        const [numerator, denominator] = imc.itemFractionalAmount.split('/').map(Number);
        tags.push([
          FRACTION_TAG,
          Buffer.concat([
            encodeTlv(NUMERATOR_TAG, encodeVln(numerator!)),
            encodeTlv(DENOMINATOR_TAG, encodeVln(denominator!)),
          ]),
        ]);
      }
      for (const [tag, value] of tags) await this.register.run(writeTag, { flags: 0, tlv: { tag, value } });
    }
    for (const info of item.industryInfo ?? []) {
      const [year, month, day] = info.date.split('.');
      const value = Buffer.concat([
        encodeTlv(1262, encodeCp866(info.fois)),
        encodeTlv(1263, encodeCp866(`${day}.${month}.${year}`)),
        encodeTlv(1264, encodeCp866(info.number)),
        encodeTlv(1265, encodeCp866(info.industryAttribute)),
      ]);
      await this.register.run(writeTag, { flags: 1, tlv: { tag: INDUSTRY_REQUISITE_TAG, value } });
    }
    return imc ? decodeMarkingCodeBase64(imc.imc) : undefined;
  }

  // ---- fiscal tasks --------------------------------------------------------------------------------

  private async writeText(tag: number, text: string, print = true): Promise<void> {
    await this.register.run(writeTag, { flags: print ? 1 : 0, tlv: { tag, value: encodeCp866(text) } });
  }

  private async writeOperator(operator: { name: string; vatin?: string } | undefined): Promise<void> {
    if (!operator) return;
    await this.writeText(Tag.cashierName, operator.name);
    if (operator.vatin) await this.writeText(Tag.cashierInn, innField(operator.vatin));
  }

  /** The buyer in the register's FFD form: 1227/1228 on 1.05, STLV 1256 holding them on 1.2. */
  private async writeBuyer(client: { name?: string; vatin?: string } | undefined): Promise<void> {
    const tlvs = [
      ...(client?.name ? [encodeTlv(Tag.buyerName, encodeCp866(client.name))] : []),
      ...(client?.vatin ? [encodeTlv(Tag.buyerInn, encodeCp866(innField(client.vatin)))] : []),
    ];
    if (tlvs.length === 0) return;
    if (isFfd12(this.view.ffdVersion)) {
      await this.register.run(writeTag, {
        flags: 1,
        tlv: { tag: Tag.buyerInfo, value: Buffer.concat(tlvs) },
      });
      return;
    }
    for (const tlv of tlvs)
      await this.register.run(writeTag, {
        flags: 1,
        tlv: { tag: tlv.readUInt16LE(0), value: tlv.subarray(4) },
      });
  }

  /**
   * A correction task's basis as the register's tags, the way driver 10 writes them: 1173, then 1174 holding
   * 1178 (the date, midnight, FFD seconds) and 1179. A correction task without its date is refused as the
   * driver refuses a missing required parameter.
   */
  private async writeCorrection(task: ReceiptTask): Promise<void> {
    if (!task.type.endsWith('Correction')) return;
    if (task.correctionBaseDate === undefined) {
      throw new TaskFailure(
        DriverError.NO_REQUIRED_PARAM,
        'Не найден обязательный параметр (correctionBaseDate)',
      );
    }
    const [year, month, day] = task.correctionBaseDate.split('.').map(Number) as [number, number, number];
    const seconds = Buffer.alloc(4);
    seconds.writeUInt32LE(wallClockToFfdSeconds({ year, month, day, hour: 0, minute: 0, second: 0 }));
    await this.register.run(writeTag, {
      flags: 1,
      tlv: { tag: Tag.correctionType, value: Buffer.of(task.correctionType === 'instruction' ? 1 : 0) },
    });
    const number = task.correctionBaseNumber;
    await this.register.run(writeTag, {
      flags: 1,
      tlv: {
        tag: Tag.correctionBasis,
        value: Buffer.concat([
          encodeTlv(Tag.correctionDate, seconds),
          ...(number ? [encodeTlv(Tag.correctionNumber, encodeCp866(number))] : []),
        ]),
      },
    });
  }

  private async receipt(task: ReceiptTask): Promise<unknown> {
    const { register } = this;
    // A receipt left open (by an interrupted task) was never fiscalized: the driver cancels it first.
    if (this.view.receipt) {
      await register.enterMode(Mode.Registration);
      await register.run(cancelReceipt, undefined);
    }
    await register.enterMode(Mode.Registration);
    await register.run(openReceipt, {
      flags: task.electronically ? OpenReceiptFlags.Electronic : 0,
      receiptType: RECEIPT_TYPE_BYTES[task.type],
    });
    try {
      await this.writeCorrection(task);
      await this.receiptBody(task);
    } catch (error) {
      // Refused part-way: nothing is fiscalized, and the driver leaves the register clean.
      await register.tryRun(cancelReceipt, undefined);
      throw error;
    }
    const document = register.takeDocuments().find((d) => d.kind === 'receipt');
    if (!document) throw new TaskFailure(DriverError.UNKNOWN, 'Чек закрыт, но документ не найден');
    return {
      fiscalParams: this.fiscalParams(document, {
        fiscalReceiptNumber: document.receiptNumber,
        total: roubles(document.totalKop ?? 0),
      }),
      warnings: { notPrinted: false },
    };
  }

  private async receiptBody(task: ReceiptTask): Promise<void> {
    const { register } = this;
    let marker: { value: string; print: boolean } | undefined;
    const soldCodes: string[] = [];
    for (const [index, raw] of task.items.entries()) {
      const root = `items[${index}]`;
      if (raw.type === 'position') {
        const item = parseTask(positionItemSchema, raw, root);
        // Driver 10 knows its register's tax bytes; the facade asks the emulated firmware.
        const taxType = TAX_TYPES.find((t) => t === item.tax.type);
        const taxCode = taxType === undefined ? undefined : this.view.taxByte(taxType);
        if (taxCode === undefined) {
          throw new TaskFailure(
            DriverError.INVALID_TAX_TYPE,
            `Недопустимый номер ставки налога (${item.tax.type})`,
          );
        }
        await register.run(beginPosition, undefined);
        const unit = code(
          MEASUREMENT_UNITS,
          item.measurementUnit,
          0,
          DriverError.INVALID_PARAM,
          `${root}.measurementUnit`,
        );
        if (isFfd12(this.view.ffdVersion)) {
          await register.run(writeTag, {
            flags: 0,
            tlv: { tag: Tag.measurementUnit, value: Buffer.of(unit) },
          });
        }
        const sold = await this.writeMarking(item, root);
        if (sold !== undefined) soldCodes.push(sold);
        await register.run(registerPosition, {
          flags: 0,
          priceKop: item.price,
          quantityMilli: item.quantity,
          amountKop: item.amount,
          taxCode,
          taxSumKop: 0,
          department: item.department ?? 1,
          paymentObject: code(
            PAYMENT_OBJECTS,
            item.paymentObject,
            1,
            DriverError.INVALID_PARAM,
            `${root}.paymentObject`,
          ),
          paymentMethod: code(
            PAYMENT_METHODS,
            item.paymentMethod,
            4,
            DriverError.INVALID_COMMODITY_PAYMENT_TYPE,
            `${root}.paymentMethod`,
          ),
          discountSign: 0,
          discountKop: 0,
          name: item.name,
        });
      } else if (raw.type === 'text') {
        await register.run(printLine, { text: parseTask(textItemSchema, raw, root).text });
      } else if (raw.type === 'additionalAttribute') {
        const attribute = parseTask(additionalAttributeItemSchema, raw, root);
        marker = { value: attribute.value, print: attribute.print ?? true };
      }
      // Other print items (barcodes, pictures…) do not change the fiscal document; the facade skips them.
    }
    await this.writeOperator(task.operator);
    if (task.taxationType) {
      const bit = code(
        TAXATION_SYSTEMS,
        task.taxationType,
        0,
        DriverError.INVALID_TAXATION_TYPE,
        'taxationType',
      );
      await register.run(writeTag, { flags: 1, tlv: { tag: Tag.taxationSystem, value: Buffer.of(bit) } });
    }
    const client = task.clientInfo;
    if (client?.emailOrPhone) await this.writeText(Tag.customerContact, client.emailOrPhone);
    await this.writeBuyer(client);
    if (marker) await this.writeText(1192, marker.value, marker.print);
    const payments = task.payments.map((p, index) => ({
      paymentType: code(
        PAYMENT_TYPES,
        p.type,
        1,
        DriverError.INVALID_PAYMENT_TYPE,
        `payments[${index}].type`,
      ),
      sumKop: p.sum,
    }));
    for (const p of payments.slice(0, -1)) await register.run(payment, { flags: 0, ...p });
    await register.run(closeReceipt, { flags: 0, ...payments.at(-1)! });
    this.marking.sold(soldCodes);
  }

  private fiscalParams(document: JournalEntry, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const identity = this.view.identity;
    return {
      fiscalDocumentNumber: document.documentNumber,
      fiscalDocumentSign: document.fiscalSign,
      fiscalDocumentDateTime: document.dateTime,
      shiftNumber: document.shiftNumber,
      fnNumber: identity.fnSerial,
      registrationNumber: identity.registrationNumber,
      fnsUrl: FNS_URL,
      ...extra,
    };
  }

  private async openShift(operator: { name: string; vatin?: string } | undefined): Promise<unknown> {
    await this.register.enterMode(Mode.Registration);
    await this.writeOperator(operator);
    await this.register.run(openShift, { flags: 0 });
    const document = this.register.takeDocuments().find((d) => d.kind === 'openShift');
    if (!document) throw new TaskFailure(DriverError.UNKNOWN, 'Смена открыта, но документ не найден');
    return { fiscalParams: this.fiscalParams(document), warnings: null };
  }

  private async closeShift(operator: { name: string; vatin?: string } | undefined): Promise<unknown> {
    const receiptsCount = this.view.shift.lastReceiptNumber;
    await this.register.enterMode(Mode.ReportClear);
    await this.writeOperator(operator);
    await this.register.run(zReport, undefined);
    await this.register.waitWhileIn(Z_REPORT_STATES);
    const document = this.register.takeDocuments().find((d) => d.kind === 'closeShift');
    if (!document) throw new TaskFailure(DriverError.UNKNOWN, 'Смена закрыта, но документ не найден');
    return { fiscalParams: this.fiscalParams(document, { receiptsCount }), warnings: null };
  }

  private async reportX(operator: { name: string; vatin?: string } | undefined): Promise<unknown> {
    await this.register.enterMode(Mode.ReportNoClear);
    await this.writeOperator(operator);
    await this.register.run(xReport, { reportType: ReportType.DailyX });
    await this.register.waitWhileIn(X_REPORT_STATES);
    return {};
  }

  private async cash(
    type: 'cashIn' | 'cashOut',
    sumKop: number,
    operator: { name: string; vatin?: string } | undefined,
  ): Promise<unknown> {
    await this.register.enterMode(Mode.Registration);
    await this.writeOperator(operator);
    await this.register.run(type === 'cashIn' ? cashIn : cashOut, { flags: 0, sumKop });
    return { counters: { cashSum: roubles(this.view.cashKop) } };
  }

  // ---- reads -------------------------------------------------------------------------------------

  private shiftState(): 'closed' | 'opened' | 'expired' {
    const shift = this.view.shift;
    if (!shift.open) return 'closed';
    return shift.expired ? 'expired' : 'opened';
  }

  private deviceStatus(): unknown {
    const faults = this.register.emulator.activeFaults;
    const identity = this.view.identity;
    return {
      deviceStatus: {
        currentDateTime: this.view.dateTime,
        shift: this.shiftState(),
        blocked: this.ofdBlocked || faults.fnFull,
        coverOpened: faults.coverOpen,
        paperPresent: !faults.noPaper,
        paperNearEnd: false,
        fiscal: true,
        fnFiscal: true,
        fnPresent: true,
        cashDrawerOpened: false,
        model: identity.modelCode,
        modelName: identity.modelName,
        logicalNumber: 1,
      },
    };
  }

  private shiftStatus(): unknown {
    const shift = this.view.shift;
    const expiredTime =
      shift.open && shift.openedAt
        ? new Date(Date.parse(shift.openedAt) + SHIFT_LIMIT_MS + this.offsetMs()).toISOString().slice(0, 19) +
          this.offset
        : undefined;
    return {
      shiftStatus: {
        state: this.shiftState(),
        number: shift.number,
        ...(expiredTime ? { expiredTime } : {}),
        documentsCount: this.view.state().shift.documentsInShift,
      },
    };
  }

  /** The register clock's offset from UTC in milliseconds. */
  private offsetMs(): number {
    const offset = this.offset;
    const minutes = Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6));
    return (offset.startsWith('-') ? -minutes : minutes) * 60_000;
  }

  private deviceInfo(): unknown {
    const identity = this.view.identity;
    const { major, minor, build } = identity.firmware;
    return {
      deviceInfo: {
        model: identity.modelCode,
        modelName: identity.modelName,
        serial: identity.serial,
        firmwareVersion: `${major}.${minor}.${build}`,
        configurationVersion: `${major}.${minor}`,
        receiptLineLength: identity.lineWidth,
        receiptLineLengthPix: identity.lineWidth * 12,
        ffdVersion: '1.2',
        fnFfdVersion: '1.2',
      },
    };
  }

  private fnWarnings() {
    return {
      memoryOverflow: this.register.emulator.activeFaults.fnFull,
      needReplacement: false,
      ofdTimeout: this.ofdBlocked,
      resourceExhausted: false,
      criticalError: false,
    };
  }

  private fnInfo(): unknown {
    const identity = this.view.identity;
    const { year, month, day } = identity.fnValidUntil;
    return {
      fnInfo: {
        serial: identity.fnSerial,
        version: identity.fnVersion,
        execution: 'emulated',
        numberOfRegistrations: 1,
        registrationsRemaining: 29,
        validityDate: isoAtOffset({ year, month, day, hour: 0, minute: 0, second: 0 }, this.offset),
        ffdVersion: '1.2',
        fnFfdVersion: '1.2',
        livePhase: 'fiscalMode',
        warnings: this.fnWarnings(),
      },
    };
  }

  private fnStatus(): unknown {
    return {
      fnStatus: {
        fiscalDocumentNumber: this.view.lastDocumentNumber,
        fiscalReceiptNumber: this.view.shift.lastReceiptNumber,
        warnings: this.fnWarnings(),
      },
    };
  }

  private ofdExchangeStatus(): unknown {
    const { unsentCount, firstUnsentNumber } = this.view.ofd;
    const first = unsentCount > 0 ? this.view.document(firstUnsentNumber) : undefined;
    const seconds = first?.tlvs.find((t) => t.tag === 1012)?.value.readUInt32LE(0);
    return {
      status: {
        notSentCount: unsentCount,
        notSentFirstDocNumber: unsentCount > 0 ? firstUnsentNumber : 0,
        ...(seconds === undefined
          ? {}
          : { notSentFirstDocDateTime: isoAtOffset(ffdSecondsToWallClock(seconds), this.offset) }),
      },
      errors: { network: { code: 0 }, ofd: { code: 0 }, fn: { code: 0 } },
      warnings: {},
    };
  }

  private registrationInfo(): unknown {
    const identity = this.view.identity;
    const taxationTypes = Object.entries(TAXATION_SYSTEMS)
      .filter(([, bit]) => (identity.taxationSystems & bit) !== 0)
      .map(([name]) => name);
    return {
      organization: {
        name: identity.organizationName,
        vatin: identity.inn,
        address: identity.address,
        email: '',
        taxationTypes,
        agents: [],
      },
      device: { registrationNumber: identity.registrationNumber, fnsUrl: FNS_URL, ffdVersion: '1.2' },
      ofd: {},
    };
  }

  private fnDocument(fiscalDocumentNumber: number): unknown {
    const document = this.view.document(fiscalDocumentNumber);
    if (!document) throw new TaskFailure(DriverError.FN_NO_MORE_DATA);
    return fnDocumentResult(document, this.offset);
  }
}
