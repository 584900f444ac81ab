import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { formatIsoWithOffset, systemTimeZone } from '../../lib/time.js';
import { type CommandEvent, CommandRunner } from './commandRunner.js';
import { cashIn, cashOut } from './commands/cash.js';
import {
  DocumentTag,
  fnStatus,
  fnValidity,
  ofdExchangeStatus,
  readDocumentChunk,
  registrationInfo,
  selectDocument,
} from './commands/fn.js';
import { DEFAULT_ADMIN_PASSWORD, enterMode, exitMode, Mode } from './commands/modes.js';
import { printLine } from './commands/print.js';
import {
  beginPosition,
  cancelReceipt,
  closeReceipt,
  OpenReceiptFlags,
  openReceipt,
  payment,
  ReceiptType,
  registerPosition,
  Tag,
  writeTag,
} from './commands/receipt.js';
import { Register, readRegister, registerValue } from './commands/registers.js';
import { ReportType, xReport } from './commands/report.js';
import { openShift, zReport } from './commands/shift.js';
import { deviceType, FirmwareUnit, firmwareVersion, longStatus, shortStatus } from './commands/status.js';
import { KktNotConnectedError, KktOutcomeUnknownError, KktUnsupportedModelError } from './errors.js';
import { fiscalResultOf, shiftResultOf } from './fiscalResults.js';
import { MODELS } from './models.js';
import { encodeCp866 } from './protocol/cp866.js';
import { type DeviceDateTime, ffdSecondsToWallClock, wallClockToFfdSeconds } from './protocol/dateTime.js';
import { KktDeviceError } from './protocol/deviceErrors.js';
import { decodeTlvList, decodeVln, findTlv, type Tlv, tlvByte, tlvText } from './protocol/tlv.js';
import { type Receipt, type ReceiptInput, validateReceipt } from './receipt.js';
import { LinkSilentError, ReconnectLoop, type ReconnectOptions, SilenceWatch } from './reconnect.js';
import type { Link } from './transport/link.js';
import { AtolTransport, type AtolTransportOptions, type TransportStats } from './transport/transport.js';
import {
  MEASUREMENT_UNITS,
  PAYMENT_METHODS,
  PAYMENT_OBJECTS,
  PAYMENT_TYPES,
  TAX_CODES,
  TAXATION_SYSTEMS,
} from './vocabulary.js';

/** Builds a fresh link for each (re)connection, so a USB register that re-enumerates is found again. */
export type LinkFactory = () => Link | Promise<Link>;

export interface KktOptions {
  link: LinkFactory;
  /** Password for modes 1 and 2 (cashier or administrator). Default 30. */
  operatorPassword?: number;
  /** Password for mode 3 (Z report). Default 30. */
  adminPassword?: number;
  transport?: Partial<AtolTransportOptions>;
  /** Overrides of the per-command timeouts, keyed by code in hex: `{ "4A": 30000 }`. */
  commandTimeoutsMs?: Record<string, number>;
  /** Time zone of the register's clock (IANA name); fiscal times are reported with its offset. */
  timeZone?: string;
  reconnect?: ReconnectOptions;
  statusPollIntervalMs?: number;
  zReportTimeoutMs?: number;
  xReportTimeoutMs?: number;
  logger?: Logger;
  onCommand?: (event: CommandEvent) => void;
}

export interface FiscalDocument {
  fiscalDocumentNumber: number;
  /** FFD document type: 2 open shift, 3 receipt, 5 close shift. */
  documentType: number;
  fiscalSign: string;
  /** The register's local time with its zone offset, ISO 8601. */
  dateTime: string;
  shiftNumber?: number;
  receiptNumber?: number;
  totalKop?: number;
  /** Tag 1054: 1 sell, 2 sell return. */
  operationType?: number;
  fnNumber?: string;
  registrationNumber?: string;
  /** Tag 1192, the marker the agent writes into its receipts. */
  marker?: string;
}

export interface FiscalResult {
  fiscalDocumentNumber: number;
  fiscalSign: string;
  dateTime: string;
  shiftNumber: number;
  receiptNumber: number;
  fnNumber: string;
  registrationNumber: string;
  totalKop: number;
}

export interface ShiftResult {
  fiscalDocumentNumber: number;
  fiscalSign: string;
  dateTime: string;
  shiftNumber: number;
  fnNumber?: string;
  registrationNumber?: string;
}

export interface KktStatus {
  mode: number;
  submode: number;
  deviceDateTime: string;
  fiscalized: boolean;
  shift: { state: 'closed' | 'open' | 'expired'; number: number; openedAt?: string; expiresAt?: string };
  receipt: { open: boolean; type: number; sumKop: number };
  paper: { present: boolean; nearEnd: boolean };
  coverOpen: boolean;
  printerError: boolean;
}

export interface DeviceInfo {
  model: number;
  modelName: string;
  platform: '2.5' | '5.0' | 'unknown';
  serial: string;
  firmwareVersion: string;
  lineWidth: number;
  ffdVersion: { kkt: number; fn: number };
}

export interface FnInfo {
  serial: string;
  lastDocumentNumber: number;
  lastDocumentDateTime: string;
  validUntil: string;
  registrationsRemaining: number;
  warnings: {
    needReplacement: boolean;
    resourceExhausted: boolean;
    memoryOverflow: boolean;
    ofdTimeout: boolean;
    criticalError: boolean;
  };
  ofd: { unsentCount: number; firstUnsentNumber?: number; firstUnsentDateTime?: string };
  inn: string;
  registrationNumber: string;
  taxationTypes: string[];
}

export interface KktEvents {
  connected: [info: DeviceInfo];
  disconnected: [error?: Error];
  status: [status: KktStatus];
}

const SHIFT_LIMIT_SECONDS = 24 * 3600;
const NO_MORE_DATA = 0xda;

/**
 * An ATOL register (platform 2.5, protocol v3) whose methods read like a cashier's actions. One
 * operation at a time. Errors say what the caller may do next: a `ValidationError` or
 * `KktDeviceError` means nothing was fiscalized; anything with `outcomeUnknown` must be reconciled.
 */
export class Kkt extends EventEmitter<KktEvents> {
  private transport: AtolTransport | undefined;
  private runner: CommandRunner | undefined;
  private info: DeviceInfo | undefined;
  private description = 'ATOL register';
  private closing = false;
  private readonly reconnect: ReconnectLoop;
  private readonly silence: SilenceWatch;
  private connecting: Promise<DeviceInfo> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timeZone: string;
  private readonly operatorPassword: number;
  private readonly adminPassword: number;

  constructor(private readonly options: KktOptions) {
    super();
    this.timeZone = options.timeZone ?? systemTimeZone();
    this.operatorPassword = options.operatorPassword ?? DEFAULT_ADMIN_PASSWORD;
    this.adminPassword = options.adminPassword ?? DEFAULT_ADMIN_PASSWORD;
    this.silence = new SilenceWatch(options.reconnect);
    this.reconnect = new ReconnectLoop({
      settings: options.reconnect,
      attempt: () => this.connectOnce(),
      closed: () => this.closing,
      onAttemptFailed: (error, attempt) =>
        options.logger?.debug({ event: 'kkt.reconnect-failed', attempt, reason: error.message }),
    });
  }

  get isConnected(): boolean {
    return this.transport?.isOpen === true && this.info !== undefined;
  }

  get deviceInfoCached(): DeviceInfo | undefined {
    return this.info;
  }

  /** Since when the register has not answered (its link open or being reopened); undefined while it answers. */
  get notAnsweringSince(): string | undefined {
    return this.silence.silentSince;
  }

  /** Transport counters (commands, round trips) and link bytes, for benchmarks and diagnostics. */
  get stats(): { transport: TransportStats; bytesWritten: number; bytesRead: number } | undefined {
    if (!this.transport) return undefined;
    const { bytesWritten, bytesRead } = this.transport.link.stats;
    return { transport: { ...this.transport.stats }, bytesWritten, bytesRead };
  }

  /** Opens the link, clears the task buffer (Abort) and identifies the register. */
  connect(): Promise<DeviceInfo> {
    this.closing = false;
    return this.connectOnce();
  }

  /** One connection attempt; the reconnect timer uses it so that it never undoes a `close()`. */
  private connectOnce(): Promise<DeviceInfo> {
    if (this.isConnected && this.info) return Promise.resolve(this.info);
    this.connecting ??= this.openOnce().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async openOnce(): Promise<DeviceInfo> {
    const link = await this.options.link();
    this.description = link.description;
    const transport = new AtolTransport(link, this.options.transport);
    transport.on('frame-rejected', (reason) =>
      this.options.logger?.warn({ event: 'kkt.frame-rejected', reason }),
    );
    await transport.open();
    if (this.closing) {
      // close() came while the link was opening: do not install a transport nobody will close.
      await transport.close().catch(() => undefined);
      throw new KktNotConnectedError(link.description);
    }
    this.transport = transport;
    this.runner = new CommandRunner(transport, this.options.commandTimeoutsMs, this.options.onCommand);
    try {
      const info = await this.identify(this.runner);
      this.info = info;
      this.reconnect.succeeded();
      this.silence.answered();
      transport.once('close', (error) => this.onLinkClosed(transport, error));
      this.options.logger?.info({
        event: 'kkt.connected',
        link: link.description,
        model: info.modelName,
        serial: info.serial,
      });
      this.emit('connected', info);
      return info;
    } catch (error) {
      this.transport = undefined;
      this.runner = undefined;
      await transport.close().catch(() => undefined);
      throw error;
    }
  }

  /** Connects, and on failure keeps trying in the background with backoff (the link may come later). */
  start(): Promise<void> {
    return this.reconnect.start(() => this.connect());
  }

  private onLinkClosed(transport: AtolTransport, error?: Error): void {
    if (this.transport !== transport) return;
    this.transport = undefined;
    this.runner = undefined;
    this.info = undefined;
    this.options.logger?.warn({ event: 'kkt.disconnected', link: this.description, reason: error?.message });
    this.emit('disconnected', error);
    this.reconnect.schedule();
  }

  /**
   * The register stopped answering on a link that is still open: drop the link and reconnect, as if it had
   * closed. Whatever the register did with the last command is reconciled by the caller, as after any loss.
   */
  private dropSilentLink(): void {
    const transport = this.transport;
    if (!transport || this.closing) return;
    this.transport = undefined;
    this.runner = undefined;
    this.info = undefined;
    const error = new LinkSilentError(this.description, this.silence.silentSince, this.silence.limit);
    this.options.logger?.warn({
      event: 'kkt.not-answering',
      link: this.description,
      since: this.silence.silentSince,
      timeouts: this.silence.limit,
      action: 'reopening the link',
    });
    this.emit('disconnected', error);
    transport.close().then(
      () => this.reconnect.schedule(),
      () => this.reconnect.schedule(),
    );
  }

  /** Closes the link and stops reconnecting. */
  async close(): Promise<void> {
    this.closing = true;
    this.reconnect.cancel();
    const transport = this.transport;
    this.transport = undefined;
    this.runner = undefined;
    this.info = undefined;
    if (transport) await transport.close();
  }

  /** Runs one operation exclusively; refuses at once when the register is not connected. */
  private exclusive<T>(work: (runner: CommandRunner) => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      const runner = this.runner;
      if (!runner || !this.isConnected) throw new KktNotConnectedError(this.description);
      return this.silence.observe(work(runner), () => this.dropSilentLink());
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async identify(runner: CommandRunner): Promise<DeviceInfo> {
    const type = await runner.run(deviceType, undefined);
    const known = MODELS.get(type.model);
    if (known?.platform === '5.0') throw new KktUnsupportedModelError(type.model, known.name);
    const firmware = await runner.run(firmwareVersion, { unit: FirmwareUnit.MainProcessor });
    const serial = registerValue.serial.decode(await this.register(runner, Register.Serial));
    const lineWidth = registerValue.printSettings.decode(await this.register(runner, Register.PrintSettings));
    const ffdVersion = registerValue.ffdVersions.decode(await this.register(runner, Register.FfdVersions));
    return {
      model: type.model,
      modelName: type.name || known?.name || `model ${type.model}`,
      platform: known?.platform ?? 'unknown',
      serial,
      firmwareVersion: `${firmware.major}.${firmware.minor}.${firmware.build}`,
      lineWidth: lineWidth || known?.lineWidth || 32,
      ffdVersion,
    };
  }

  private register(runner: CommandRunner, register: number, p1 = 0, p2 = 0): Promise<Buffer> {
    return runner.run(readRegister, { register, p1, p2 });
  }

  deviceInfo(): Promise<DeviceInfo> {
    return this.exclusive(async (runner) => {
      this.info = await this.identify(runner);
      return this.info;
    });
  }

  status(): Promise<KktStatus> {
    return this.exclusive(async (runner) => {
      const status = await this.readStatus(runner);
      this.emit('status', status);
      return status;
    });
  }

  private async readStatus(runner: CommandRunner): Promise<KktStatus> {
    const long = await runner.run(longStatus, undefined);
    const short = await runner.run(shortStatus, undefined);
    const shiftNumber = long.flags.shiftOpen ? long.lastClosedShiftNumber + 1 : long.lastClosedShiftNumber;
    const shift: KktStatus['shift'] = { state: 'closed', number: shiftNumber };
    if (long.flags.shiftOpen) {
      const info = registerValue.shiftInfo.decode(await this.register(runner, Register.ShiftInfo));
      const openedSeconds = wallClockToFfdSeconds(info.openedAt);
      const expiresSeconds = openedSeconds + SHIFT_LIMIT_SECONDS;
      shift.state = wallClockToFfdSeconds(long.dateTime) >= expiresSeconds ? 'expired' : 'open';
      shift.openedAt = this.iso(info.openedAt);
      shift.expiresAt = this.iso(ffdSecondsToWallClock(expiresSeconds));
    }
    return {
      mode: short.mode,
      submode: short.submode,
      deviceDateTime: this.iso(long.dateTime),
      fiscalized: long.flags.fiscalized,
      shift,
      receipt: { open: long.receiptState !== 0, type: long.receiptState, sumKop: long.receiptSumKop },
      paper: {
        present: long.flags.paperPresent && !short.printer.noPaper,
        nearEnd: short.printer.paperNearEnd,
      },
      coverOpen: long.flags.coverOpen,
      printerError:
        short.printer.printerNotConnected ||
        short.printer.mechanicalError ||
        short.printer.cutterError ||
        short.printer.printerError,
    };
  }

  fnInfo(): Promise<FnInfo> {
    return this.exclusive(async (runner) => {
      const fn = await runner.run(fnStatus, undefined);
      const validity = await runner.run(fnValidity, undefined);
      const ofd = await runner.run(ofdExchangeStatus, undefined);
      const registration = await runner.run(registrationInfo, undefined);
      return {
        serial: fn.fnSerial,
        lastDocumentNumber: fn.lastDocumentNumber,
        lastDocumentDateTime: this.iso(fn.lastDocumentDateTime),
        validUntil: this.iso(validity.validUntil).slice(0, 10),
        registrationsRemaining: validity.registrationsRemaining,
        warnings: fn.warnings,
        ofd:
          ofd.unsentCount > 0
            ? {
                unsentCount: ofd.unsentCount,
                firstUnsentNumber: ofd.firstUnsentDocumentNumber,
                firstUnsentDateTime: this.iso(ofd.firstUnsentDateTime),
              }
            : { unsentCount: 0 },
        inn: registration.inn,
        registrationNumber: registration.registrationNumber,
        taxationTypes: Object.entries(TAXATION_SYSTEMS)
          .filter(([, bit]) => (registration.taxationSystems & bit) !== 0)
          .map(([name]) => name),
      };
    });
  }

  /** The number of the last fiscal document in the FN: read before every fiscal operation. */
  lastFiscalDocumentNumber(): Promise<number> {
    return this.exclusive(async (runner) => (await runner.run(fnStatus, undefined)).lastDocumentNumber);
  }

  /** The last document number together with the FN it belongs to (an FN can be replaced). */
  fnAnchor(): Promise<{ lastDocumentNumber: number; fnSerial: string }> {
    return this.exclusive(async (runner) => {
      const status = await runner.run(fnStatus, undefined);
      return { lastDocumentNumber: status.lastDocumentNumber, fnSerial: status.fnSerial };
    });
  }

  /** The last fiscal document, read back from the FN. */
  lastDocument(): Promise<FiscalDocument> {
    return this.exclusive(async (runner) => {
      const { lastDocumentNumber } = await runner.run(fnStatus, undefined);
      return this.readDocument(runner, lastDocumentNumber);
    });
  }

  /** A fiscal document by its number (tag 1040). */
  document(fiscalDocumentNumber: number): Promise<FiscalDocument> {
    return this.exclusive((runner) => this.readDocument(runner, fiscalDocumentNumber));
  }

  private async readDocument(runner: CommandRunner, fiscalDocumentNumber: number): Promise<FiscalDocument> {
    await runner.run(selectDocument, { documentNumber: fiscalDocumentNumber });
    let data = Buffer.alloc(0);
    for (;;) {
      let chunk: Buffer;
      try {
        chunk = await runner.run(readDocumentChunk, undefined);
      } catch (error) {
        if (error instanceof KktDeviceError && error.deviceCode === NO_MORE_DATA) break;
        throw error;
      }
      data = Buffer.concat([data, chunk]);
      if (data.length >= 4 && data.length >= 4 + data.readUInt16LE(2)) break;
      if (chunk.length === 0) break;
    }
    if (data.length < 4) throw new KktDeviceError(NO_MORE_DATA, `read document ${fiscalDocumentNumber}`);
    const documentType = data.readUInt16LE(0);
    const tlvs = decodeTlvList(data.subarray(4, 4 + data.readUInt16LE(2)));
    return this.documentFromTlvs(documentType, tlvs, fiscalDocumentNumber);
  }

  private documentFromTlvs(documentType: number, tlvs: Tlv[], requestedNumber: number): FiscalDocument {
    const int = (tag: number) => {
      const value = findTlv(tlvs, tag);
      return value === undefined ? undefined : decodeVln(value);
    };
    const sign = findTlv(tlvs, DocumentTag.fiscalSign);
    const seconds = int(DocumentTag.dateTime);
    return {
      fiscalDocumentNumber: int(DocumentTag.documentNumber) ?? requestedNumber,
      documentType,
      // 1077 holds six bytes; the printed fiscal sign is the last four as a big-endian integer.
      fiscalSign: sign && sign.length >= 4 ? String(sign.readUInt32BE(sign.length - 4)) : '',
      dateTime: seconds === undefined ? '' : this.iso(ffdSecondsToWallClock(seconds)),
      shiftNumber: int(DocumentTag.shiftNumber),
      receiptNumber: int(DocumentTag.receiptNumber),
      totalKop: int(DocumentTag.total),
      operationType: int(DocumentTag.operationType),
      fnNumber: tlvText(findTlv(tlvs, DocumentTag.fnNumber))?.trim(),
      registrationNumber: tlvText(findTlv(tlvs, DocumentTag.registrationNumber))?.trim(),
      marker: tlvText(findTlv(tlvs, 1192)),
    };
  }

  private iso(t: DeviceDateTime): string {
    return formatIsoWithOffset(t, this.timeZone);
  }

  /** Enters a mode, leaving the current one first (the register refuses `56` outside mode 0). */
  private async enterMode(runner: CommandRunner, mode: number, password: number): Promise<void> {
    const current = await runner.run(shortStatus, undefined);
    if (current.mode === mode) return;
    if (current.mode !== Mode.Idle) await runner.run(exitMode, undefined);
    await runner.run(enterMode, { mode, password });
  }

  private async writeTagText(runner: CommandRunner, tag: number, text: string): Promise<void> {
    await runner.run(writeTag, { flags: 1, tlv: { tag, value: encodeCp866(text) } });
  }

  /** Opens the shift explicitly (a receipt would open it implicitly). */
  openShift(operator?: { name: string; vatin?: string }): Promise<ShiftResult> {
    return this.exclusive(async (runner) => {
      await this.enterMode(runner, Mode.Registration, this.operatorPassword);
      if (operator) {
        await this.writeTagText(runner, Tag.cashierName, operator.name);
        if (operator.vatin) await this.writeTagText(runner, Tag.cashierInn, operator.vatin);
      }
      await runner.run(openShift, { flags: 0 });
      return shiftResultOf(await this.readLastDocument(runner, 'openShift'));
    });
  }

  /** Z report: closes the shift and waits until the register has finished printing and clearing. */
  closeShift(): Promise<ShiftResult> {
    return this.exclusive(async (runner) => {
      await this.enterMode(runner, Mode.ReportClear, this.adminPassword);
      await runner.run(zReport, undefined);
      await this.waitWhileIn(
        runner,
        [
          [3, 2],
          [7, 1],
        ],
        this.options.zReportTimeoutMs ?? 120_000,
        'Z report',
      );
      return shiftResultOf(await this.readLastDocument(runner, 'closeShift'));
    });
  }

  /** X report: prints the shift totals without closing it. */
  reportX(): Promise<void> {
    return this.exclusive(async (runner) => {
      await this.enterMode(runner, Mode.ReportNoClear, this.operatorPassword);
      await runner.run(xReport, { reportType: ReportType.DailyX });
      await this.waitWhileIn(runner, [[2, 2]], this.options.xReportTimeoutMs ?? 30_000, 'X report');
    });
  }

  private async waitWhileIn(
    runner: CommandRunner,
    states: Array<[number, number]>,
    timeoutMs: number,
    what: string,
  ) {
    const deadline = Date.now() + timeoutMs;
    const interval = this.options.statusPollIntervalMs ?? 500;
    for (;;) {
      const s = await runner.run(shortStatus, undefined);
      if (!states.some(([mode, submode]) => s.mode === mode && s.submode === submode)) return;
      if (Date.now() >= deadline) {
        throw new KktOutcomeUnknownError(
          what,
          `still in mode ${s.mode}.${s.submode} after ${timeoutMs} ms`,
          undefined,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }

  cashIn(sumKop: number): Promise<void> {
    return this.cashOperation(cashIn, sumKop);
  }

  cashOut(sumKop: number): Promise<void> {
    return this.cashOperation(cashOut, sumKop);
  }

  private cashOperation(spec: typeof cashIn, sumKop: number): Promise<void> {
    if (!Number.isSafeInteger(sumKop) || sumKop <= 0 || sumKop > 9_999_999_999) {
      return Promise.reject(new RangeError(`cash sum must be 1–9999999999 kopecks, got ${sumKop}`));
    }
    return this.exclusive(async (runner) => {
      await this.enterMode(runner, Mode.Registration, this.operatorPassword);
      await runner.run(spec, { flags: 0, sumKop });
    });
  }

  /** Cancels a receipt left open (after a crash or a dropped link). True when one was open. */
  cancelOpenReceipt(): Promise<boolean> {
    return this.exclusive(async (runner) => {
      const long = await runner.run(longStatus, undefined);
      if (long.receiptState === 0) return false;
      await runner.run(cancelReceipt, undefined);
      return true;
    });
  }

  sell(receipt: Omit<ReceiptInput, 'type'>): Promise<FiscalResult> {
    return this.fiscalize({ ...receipt, type: 'sell' });
  }

  sellReturn(receipt: Omit<ReceiptInput, 'type'>): Promise<FiscalResult> {
    return this.fiscalize({ ...receipt, type: 'sellReturn' });
  }

  private fiscalize(input: ReceiptInput): Promise<FiscalResult> {
    let receipt: Receipt;
    try {
      receipt = validateReceipt(input);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.exclusive(async (runner) => {
      await this.enterMode(runner, Mode.Registration, this.operatorPassword);
      await this.openReceiptClean(runner, receipt);
      try {
        await this.writeReceiptBody(runner, receipt);
      } catch (error) {
        // The register refused part of the receipt: nothing is fiscalized; leave it clean.
        if (error instanceof KktDeviceError) await this.cancelQuietly(runner);
        throw error;
      }
      await this.closeWithPayments(runner, receipt);
      try {
        const document = await this.readLastDocument(runner, receipt.type);
        if (receipt.marker !== undefined && document.marker !== receipt.marker) {
          throw new Error(
            `the last document (${document.fiscalDocumentNumber}) does not carry this receipt's marker`,
          );
        }
        return fiscalResultOf(document, document.totalKop ?? receipt.totalKop ?? 0);
      } catch (error) {
        throw new KktOutcomeUnknownError(
          receipt.type,
          'the receipt was closed but could not be read back',
          error,
        );
      }
    });
  }

  private async openReceiptClean(runner: CommandRunner, receipt: Receipt): Promise<void> {
    const params = {
      flags: receipt.electronically ? OpenReceiptFlags.Electronic : 0,
      receiptType: receipt.type === 'sell' ? ReceiptType.Sell : ReceiptType.SellReturn,
    };
    try {
      await runner.run(openReceipt, params);
    } catch (error) {
      // A receipt left open by an earlier crash was never fiscalized: cancelling it is safe.
      if (!(error instanceof KktDeviceError) || error.deviceCode !== 0x9b) throw error;
      this.options.logger?.warn({ event: 'kkt.stale-receipt-cancelled' });
      await runner.run(cancelReceipt, undefined);
      await runner.run(openReceipt, params);
    }
  }

  private async writeReceiptBody(runner: CommandRunner, receipt: Receipt): Promise<void> {
    for (const item of receipt.items) {
      if (item.type === 'text') {
        await runner.run(printLine, { text: item.text });
        continue;
      }
      await runner.run(beginPosition, undefined);
      await runner.run(writeTag, {
        flags: 0,
        tlv: {
          tag: Tag.measurementUnit,
          value: tlvByte(Tag.measurementUnit, MEASUREMENT_UNITS[item.measurementUnit]).subarray(4),
        },
      });
      await runner.run(registerPosition, {
        flags: 0,
        priceKop: item.priceKop,
        quantityMilli: item.quantityMilli,
        amountKop: item.amountKop,
        taxCode: TAX_CODES[item.tax.type],
        taxSumKop: 0,
        department: item.department,
        paymentObject: PAYMENT_OBJECTS[item.paymentObject],
        paymentMethod: PAYMENT_METHODS[item.paymentMethod],
        discountSign: 0,
        discountKop: 0,
        name: item.name,
      });
    }
    if (receipt.operator) {
      await this.writeTagText(runner, Tag.cashierName, receipt.operator.name);
      if (receipt.operator.vatin) await this.writeTagText(runner, Tag.cashierInn, receipt.operator.vatin);
    }
    if (receipt.taxationType) {
      await runner.run(writeTag, {
        flags: 1,
        tlv: { tag: Tag.taxationSystem, value: Buffer.of(TAXATION_SYSTEMS[receipt.taxationType]) },
      });
    }
    const client = receipt.clientInfo;
    if (client?.emailOrPhone) await this.writeTagText(runner, Tag.customerContact, client.emailOrPhone);
    if (client?.name) await this.writeTagText(runner, Tag.buyerName, client.name);
    if (client?.vatin) await this.writeTagText(runner, Tag.buyerInn, client.vatin);
    if (receipt.marker) await this.writeTagText(runner, 1192, receipt.marker);
  }

  private async closeWithPayments(runner: CommandRunner, receipt: Receipt): Promise<void> {
    const payments = receipt.payments;
    try {
      for (const p of payments.slice(0, -1)) {
        await runner.run(payment, { flags: 0, paymentType: PAYMENT_TYPES[p.type], sumKop: p.sumKop });
      }
      const last = payments.at(-1)!;
      await runner.run(closeReceipt, {
        flags: 0,
        paymentType: PAYMENT_TYPES[last.type],
        sumKop: last.sumKop,
      });
    } catch (error) {
      if (!(error instanceof KktDeviceError))
        throw new KktOutcomeUnknownError(receipt.type, 'closing the receipt', error);
      // A register can refuse the close after the document reached the FN (the paper ran out while it
      // printed). Only a receipt that is still open proves nothing was fiscalized.
      const open = await runner.run(longStatus, undefined).then(
        (status) => status.receiptState !== 0,
        () => undefined,
      );
      if (open !== true) {
        throw new KktOutcomeUnknownError(
          receipt.type,
          `the register answered ${error.code} to the close, but no receipt is open any more`,
          error,
        );
      }
      await this.cancelQuietly(runner);
      throw error;
    }
  }

  private async cancelQuietly(runner: CommandRunner): Promise<void> {
    try {
      await runner.run(cancelReceipt, undefined);
    } catch (error) {
      this.options.logger?.warn({ event: 'kkt.cancel-failed', reason: (error as Error).message });
    }
  }

  private async readLastDocument(runner: CommandRunner, _operation: string): Promise<FiscalDocument> {
    const { lastDocumentNumber } = await runner.run(fnStatus, undefined);
    return this.readDocument(runner, lastDocumentNumber);
  }
}
