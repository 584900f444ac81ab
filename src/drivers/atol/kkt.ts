import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { KktAgentError, ValidationError } from '../../lib/errors.js';
import { formatIsoWithOffset, systemTimeZone } from '../../lib/time.js';
import { type CommandEvent, CommandRunner } from './commandRunner.js';
import { cashIn, cashOut } from './commands/cash.js';
import {
  DocumentType,
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
  CORRECTION_RECEIPT_TYPES,
  cancelReceipt,
  closeReceipt,
  OpenReceiptFlags,
  openReceipt,
  PositionFlags,
  payment,
  registerPosition,
  Tag,
  writeTag,
} from './commands/receipt.js';
import { Register, readRegister, registerValue } from './commands/registers.js';
import { ReportType, xReport } from './commands/report.js';
import { openShift, zReport } from './commands/shift.js';
import { deviceType, FirmwareUnit, firmwareVersion, longStatus, shortStatus } from './commands/status.js';
import { fiscalDocumentFromTlvs, hasHistoryFields, hasResultFields } from './documentFields.js';
import { readDocumentTlvs } from './documentReader.js';
import {
  KktNotConnectedError,
  KktOutcomeUnknownError,
  KktTaxRateUnknownError,
  KktUnsupportedFfdError,
  KktUnsupportedModelError,
} from './errors.js';
import {
  type FiscalDocument,
  type FiscalResult,
  fiscalResultOf,
  type ShiftResult,
  shiftResultOf,
} from './fiscalResults.js';
import { MODELS } from './models.js';
import { encodeCp866 } from './protocol/cp866.js';
import { type DeviceDateTime, ffdSecondsToWallClock, wallClockToFfdSeconds } from './protocol/dateTime.js';
import { KktDeviceError } from './protocol/deviceErrors.js';
import { encodeTlv, tlvUint32 } from './protocol/tlv.js';
import {
  RECEIPT_TYPE_BYTES,
  type Receipt,
  type ReceiptInput,
  type ReceiptTypeName,
  validateReceipt,
} from './receipt.js';
import {
  effectiveFfdVersion,
  FfdVersion,
  ffdName,
  innField,
  isFfd12,
  type ReceiptForm,
  receiptForm,
} from './receiptForm.js';
import { LinkSilentError, ReconnectLoop, type ReconnectOptions, SilenceWatch } from './reconnect.js';
import type { DeviceInfo, FnInfo, KktStatus } from './registerState.js';
import { runReceiptProbes, type SelfTestPlan, type SelfTestReport, selfTestBlocker } from './selfTest.js';
import { type TaxBytes, TaxByteTable } from './taxBytes.js';
import type { Link, LinkTap } from './transport/link.js';
import { AtolTransport, type AtolTransportOptions, type TransportStats } from './transport/transport.js';
import {
  CORRECTION_TYPES,
  MEASUREMENT_UNITS,
  PAYMENT_METHODS,
  PAYMENT_OBJECTS,
  PAYMENT_TYPES,
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
  /**
   * `EB` tax bytes that override the register's table (docs/protocol/atol-v3.md §8), keyed by rate:
   * `{ "vat22": 13 }`. A rate without a byte is refused before anything is sent.
   */
  taxBytes?: TaxBytes;
  /** Makes a tap for each link: a wire trace (docs/protocol/atol-v3.md §14). */
  wireTap?: () => LinkTap;
  logger?: Logger;
  onCommand?: (event: CommandEvent) => void;
}

export type { FiscalDocument, FiscalResult, ShiftResult } from './fiscalResults.js';

export type { DeviceInfo, FnInfo, KktStatus } from './registerState.js';

export interface KktEvents {
  connected: [info: DeviceInfo];
  disconnected: [error?: Error];
  status: [status: KktStatus];
}

const SHIFT_LIMIT_SECONDS = 24 * 3600;

/** Receipts that pay money out of the drawer: their positions go with `EB` flag 0x02 (§7). */
const PAYS_OUT: ReadonlySet<ReceiptTypeName> = new Set([
  'sellReturn',
  'buy',
  'sellReturnCorrection',
  'buyCorrection',
]);

/** The FFD document a receipt of this type makes: a receipt (3) or a correction receipt (31). */
export function documentTypeOf(type: ReceiptTypeName): number {
  return CORRECTION_RECEIPT_TYPES.has(RECEIPT_TYPE_BYTES[type])
    ? DocumentType.CorrectionReceipt
    : DocumentType.Receipt;
}
const NO_MORE_DATA = 0xda;
const WRONG_MODE = 0x66;
const RECEIPT_OPEN = 0x9b;

/** The last fiscal document the driver knows of: where the next one's number comes from. */
interface KnownDocument {
  number: number;
  fnSerial: string | undefined;
}

/**
 * An ATOL register (platform 2.5, protocol v3) whose methods read like a cashier's actions. One
 * operation at a time. Errors say what the caller may do next: a `ValidationError` or
 * `KktDeviceError` means nothing was fiscalized; anything with `outcome: 'unknown'` must be reconciled.
 */
export class Kkt extends EventEmitter<KktEvents> {
  private transport: AtolTransport | undefined;
  private runner: CommandRunner | undefined;
  private info: DeviceInfo | undefined;
  private taxTable: TaxByteTable;
  private wireTap: (() => LinkTap) | undefined;
  private description = 'ATOL register';
  private closing = false;
  private readonly reconnect: ReconnectLoop;
  private readonly silence: SilenceWatch;
  private connecting: Promise<DeviceInfo> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timeZone: string;
  private readonly operatorPassword: number;
  private readonly adminPassword: number;
  /** The register's mode as the last operation left it; forgotten after any error or reconnect. */
  private knownMode: number | undefined;
  /** The FN's last document as last seen; the next document's number follows from it. */
  private knownDocument: KnownDocument | undefined;

  constructor(private readonly options: KktOptions) {
    super();
    this.timeZone = options.timeZone ?? systemTimeZone();
    this.operatorPassword = options.operatorPassword ?? DEFAULT_ADMIN_PASSWORD;
    this.adminPassword = options.adminPassword ?? DEFAULT_ADMIN_PASSWORD;
    this.silence = new SilenceWatch(options.reconnect);
    // Checked at once: a bad byte in the configuration is refused before any register is reached.
    this.taxTable = TaxByteTable.forRegister(undefined, options.taxBytes);
    this.wireTap = options.wireTap;
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

  /** The tax-byte table in force: the register's profile (once it is identified) and the configuration. */
  get taxBytes(): TaxByteTable {
    return this.taxTable;
  }

  /**
   * What this register gets written into its receipts: the FFD version read at connect, the tags that
   * version takes, and the tax byte of every rate. Undefined until the register has been identified.
   */
  get receiptForm(): ReceiptForm | undefined {
    if (!this.info) return undefined;
    return receiptForm(effectiveFfdVersion(this.info.ffdVersion), this.taxTable.list());
  }

  /** Transport counters (commands, frames both ways) and link bytes, for benchmarks and diagnostics. */
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

  /**
   * Traces every frame of this register's link, both ways (docs/protocol/atol-v3.md §14): a new tap for
   * the current link and for every link a reconnect makes; undefined stops tracing. Returns the tap it
   * replaced, so that a temporary trace (the doctor's) can put it back.
   */
  traceWire(tap: (() => LinkTap) | undefined): (() => LinkTap) | undefined {
    const previous = this.wireTap;
    this.wireTap = tap;
    if (this.transport) this.transport.link.tap = tap?.();
    return previous;
  }

  private async openOnce(): Promise<DeviceInfo> {
    const link = await this.options.link();
    this.description = link.description;
    link.tap = this.wireTap?.();
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
    this.knownMode = undefined;
    this.knownDocument = undefined;
    try {
      const info = await this.identify(this.runner);
      await this.runner.release();
      this.info = info;
      this.taxTable = TaxByteTable.forRegister(
        { model: info.model, firmwareVersion: info.firmwareVersion },
        this.options.taxBytes,
      );
      this.reconnect.succeeded();
      this.silence.answered();
      transport.once('close', (error) => this.onLinkClosed(transport, error));
      this.options.logger?.info({
        event: 'kkt.connected',
        link: link.description,
        model: info.modelName,
        serial: info.serial,
        ffd: effectiveFfdVersion(info.ffdVersion),
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

  /**
   * Runs one operation exclusively; refuses at once when the register is not connected. At its end the
   * results the register keeps for it are cleared (one Abort, docs/protocol/atol-v3.md §3.4). After an
   * error nothing the driver remembers about the register's mode or last document is trusted.
   */
  private exclusive<T>(work: (runner: CommandRunner) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const runner = this.runner;
      if (!runner || !this.isConnected) throw new KktNotConnectedError(this.description);
      return this.silence.observe(
        (async () => {
          try {
            return await work(runner);
          } catch (error) {
            this.knownMode = undefined;
            this.knownDocument = undefined;
            throw error;
          } finally {
            await runner.release().catch(() => undefined);
          }
        })(),
        () => this.dropSilentLink(),
      );
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
    this.knownMode = short.mode;
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
    return this.exclusive((runner) => this.readFnInfo(runner));
  }

  private async readFnInfo(runner: CommandRunner): Promise<FnInfo> {
    const fn = await this.readFnStatus(runner);
    const validity = await runner.run(fnValidity, undefined);
    const ofd = await runner.run(ofdExchangeStatus, undefined);
    const registration = await runner.run(registrationInfo, undefined);
    return {
      serial: fn.fnSerial,
      lifePhase: fn.lifePhase,
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
  }

  /** `A4 30`, remembering the FN's last document for the read-back of the next one. */
  private async readFnStatus(runner: CommandRunner) {
    const status = await runner.run(fnStatus, undefined);
    this.knownDocument = { number: status.lastDocumentNumber, fnSerial: status.fnSerial };
    return status;
  }

  /** The number of the last fiscal document in the FN: read before every fiscal operation. */
  lastFiscalDocumentNumber(): Promise<number> {
    return this.exclusive(async (runner) => (await this.readFnStatus(runner)).lastDocumentNumber);
  }

  /** The last document number together with the FN it belongs to (an FN can be replaced). */
  fnAnchor(): Promise<{ lastDocumentNumber: number; fnSerial: string }> {
    return this.exclusive(async (runner) => {
      const status = await this.readFnStatus(runner);
      return { lastDocumentNumber: status.lastDocumentNumber, fnSerial: status.fnSerial };
    });
  }

  /** The last fiscal document, read back from the FN in full. */
  lastDocument(): Promise<FiscalDocument> {
    return this.exclusive(async (runner) => {
      const { lastDocumentNumber } = await this.readFnStatus(runner);
      return this.readDocument(runner, lastDocumentNumber, 'full');
    });
  }

  /**
   * A fiscal document by its number (tag 1040), read in full (the marker included). `history` reads a
   * receipt in full and any other document only up to its date-time: what a history scan needs.
   */
  document(fiscalDocumentNumber: number, extent: 'full' | 'history' = 'full'): Promise<FiscalDocument> {
    return this.exclusive((runner) => this.readDocument(runner, fiscalDocumentNumber, extent));
  }

  /**
   * Reads a document back (docs/protocol/atol-v3.md §10). `full` reads every TLV; `result` stops once the
   * fields a result reports are in; `history` once a history scan has what it needs.
   */
  private async readDocument(
    runner: CommandRunner,
    fiscalDocumentNumber: number,
    extent: 'full' | 'result' | 'history',
  ): Promise<FiscalDocument> {
    const read = await readDocumentTlvs(
      {
        select: (documentNumber) => runner.run(selectDocument, { documentNumber }),
        next: () =>
          runner.run(readDocumentChunk, undefined).catch((error: unknown) => {
            if (error instanceof KktDeviceError && error.deviceCode === NO_MORE_DATA) return undefined;
            throw error;
          }),
      },
      fiscalDocumentNumber,
      extent === 'result'
        ? (header, tlvs) => hasResultFields(header.documentType, tlvs)
        : extent === 'history'
          ? (header, tlvs) => hasHistoryFields(header.documentType, tlvs)
          : undefined,
    );
    if (read.tlvs.length === 0) {
      throw new KktDeviceError(NO_MORE_DATA, `read document ${fiscalDocumentNumber}`);
    }
    return fiscalDocumentFromTlvs(read.documentType, read.tlvs, fiscalDocumentNumber, (t) => this.iso(t));
  }

  private iso(t: DeviceDateTime): string {
    return formatIsoWithOffset(t, this.timeZone);
  }

  /**
   * Enters a mode, leaving the current one first (the register refuses `56` outside mode 0). The mode the
   * last operation left is trusted without asking; `56` and `48` go without a kept result, and the next
   * command that waits for its answer reports their failure (docs/protocol/atol-v3.md §3.3).
   */
  private async enterMode(runner: CommandRunner, mode: number, password: number): Promise<void> {
    if (this.knownMode === mode) return;
    const current = this.knownMode ?? (await runner.run(shortStatus, undefined)).mode;
    if (current !== mode) {
      if (current !== Mode.Idle) await runner.post(exitMode, undefined);
      await runner.post(enterMode, { mode, password });
    }
    this.knownMode = mode;
  }

  private textTag(tag: number, text: string) {
    return { flags: 1, tlv: { tag, value: encodeCp866(text) } };
  }

  /** Opens the shift explicitly (a receipt would open it implicitly). */
  openShift(operator?: { name: string; vatin?: string }): Promise<ShiftResult> {
    return this.exclusive((runner) => this.openShiftOn(runner, operator));
  }

  private async openShiftOn(runner: CommandRunner, operator?: { name: string; vatin?: string }) {
    await this.enterMode(runner, Mode.Registration, this.operatorPassword);
    // Waited for one by one: a shift must not open with its cashier tags refused.
    if (operator) {
      await runner.run(writeTag, this.textTag(Tag.cashierName, operator.name));
      if (operator.vatin) await runner.run(writeTag, this.textTag(Tag.cashierInn, innField(operator.vatin)));
    }
    await runner.run(openShift, { flags: 0 });
    return shiftResultOf(await this.readNewDocument(runner, DocumentType.OpenShift));
  }

  /**
   * The self-test (docs/protocol/atol-v3.md §15): what the register is and how it stands, then probes
   * inside a receipt that is cancelled, so no fiscal document is made. A closed shift is opened only when
   * `plan.openShift` says so (that makes the shift-open report); otherwise the probes are skipped and the
   * report says why. The FN's document counter is read before and after, and the report carries both.
   */
  selfTest(plan: SelfTestPlan): Promise<SelfTestReport> {
    return this.exclusive(async (runner) => {
      const info = this.info!;
      const ffdVersion = effectiveFfdVersion(info.ffdVersion);
      const status = await this.readStatus(runner);
      const fn = await this.readFnInfo(runner);
      const report: SelfTestReport = {
        device: info,
        ffd: { version: ffdVersion, name: ffdName(ffdVersion) },
        status,
        fn,
        form: receiptForm(ffdVersion, this.taxTable.list()),
        probes: [],
        fiscalDocuments: { before: fn.lastDocumentNumber, after: fn.lastDocumentNumber },
      };
      const counts = report.fiscalDocuments!;
      const blocker = selfTestBlocker(status, fn, ffdVersion, plan.openShift === true);
      if (blocker) {
        report.skipped = blocker;
        return report;
      }
      if (status.shift.state === 'closed') {
        report.shiftOpened = await this.openShiftOn(runner, plan.operator);
        report.status = await this.readStatus(runner);
      }
      await this.enterMode(runner, Mode.Registration, this.operatorPassword);
      const context = {
        runner,
        ffdVersion,
        taxTable: this.taxTable,
        registrationInn: fn.inn,
        registeredTaxation: fn.taxationTypes,
      };
      try {
        await runReceiptProbes(context, plan, report.probes);
      } catch (error) {
        this.knownMode = undefined;
        this.knownDocument = undefined;
        const known = error instanceof KktAgentError ? error : undefined;
        if (error instanceof KktDeviceError && report.probes.length === 0) {
          report.skipped = {
            code: error.code,
            reason: `the register refused to open the probe receipt: ${error.deviceText || error.message}`,
          };
        } else {
          report.interrupted = { code: known?.code ?? 'ERROR', message: (error as Error).message };
          // The receipt may still be open; the next print cancels it anyway (92 → 9B → 59).
          await this.cancelQuietly(runner);
        }
      }
      const after = await this.readFnStatus(runner).catch(() => undefined);
      if (after) counts.after = after.lastDocumentNumber;
      else delete report.fiscalDocuments;
      return report;
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
      return shiftResultOf(await this.readNewDocument(runner, DocumentType.CloseShift));
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

  /** Polls `45` while the register is in one of `states`; remembers the mode it ends in. */
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
      this.knownMode = s.mode;
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

  /** Any receipt kind: sale, return, purchase, their corrections (`receipt.type`). */
  receipt(receipt: ReceiptInput): Promise<FiscalResult> {
    return this.fiscalize(receipt);
  }

  /**
   * A receipt before a byte is sent: valid, every rate with a tax byte, a FFD version this driver writes.
   * Each refusal says that nothing was sent.
   */
  private checkReceipt(input: ReceiptInput): Receipt {
    const receipt = validateReceipt(input);
    const marked = receipt.items.findIndex((item) => item.type === 'position' && item.marking);
    if (marked >= 0) {
      // No public source shows platform 2.5's FFD 1.2 marking commands (docs/protocol/atol-v3.md §14).
      throw new ValidationError(
        `items[${marked}].marking`,
        'ATOL protocol v3 cannot check and sell marked goods; use the driver-10 backend (atol-web)',
        {},
        'KKT_MARKING_UNSUPPORTED',
      );
    }
    const rates = receipt.items.flatMap((item) => (item.type === 'position' ? [item.tax.type] : []));
    const unknown = this.taxTable.unknown(rates);
    if (unknown.length > 0)
      throw new KktTaxRateUnknownError(unknown, this.info?.modelName ?? 'not identified');
    if (this.info && effectiveFfdVersion(this.info.ffdVersion) < FfdVersion.V1_05) {
      throw new KktUnsupportedFfdError(effectiveFfdVersion(this.info.ffdVersion));
    }
    return receipt;
  }

  private fiscalize(input: ReceiptInput): Promise<FiscalResult> {
    let receipt: Receipt;
    try {
      receipt = this.checkReceipt(input);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.exclusive(async (runner) => {
      const ffdVersion = effectiveFfdVersion(this.info!.ffdVersion);
      await this.enterMode(runner, Mode.Registration, this.operatorPassword);
      await this.openReceiptClean(runner, receipt);
      try {
        await this.writeReceiptTags(runner, receipt, ffdVersion);
        await this.writeItems(runner, receipt, ffdVersion);
      } catch (error) {
        // The register refused part of the receipt: nothing is fiscalized; leave it clean.
        if (error instanceof KktDeviceError) await this.cancelQuietly(runner);
        throw error;
      }
      await this.closeWithPayments(runner, receipt);
      try {
        const document = await this.readNewDocument(runner, documentTypeOf(receipt.type), receipt.marker);
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

  /**
   * `92`, waited for. A receipt left open by an earlier crash was never fiscalized, so it is cancelled;
   * a register in another mode than the driver thought (someone used its keyboard) is put right. Either
   * refusal changed nothing, so the open is tried once more.
   */
  private async openReceiptClean(runner: CommandRunner, receipt: Receipt): Promise<void> {
    const params = {
      flags: receipt.electronically ? OpenReceiptFlags.Electronic : 0,
      receiptType: RECEIPT_TYPE_BYTES[receipt.type],
    };
    try {
      await runner.run(openReceipt, params);
    } catch (error) {
      if (!(error instanceof KktDeviceError)) throw error;
      if (error.deviceCode === RECEIPT_OPEN) {
        this.options.logger?.warn({ event: 'kkt.stale-receipt-cancelled' });
        await runner.run(cancelReceipt, undefined);
      } else if (error.deviceCode === WRONG_MODE) {
        this.knownMode = undefined;
        await this.enterMode(runner, Mode.Registration, this.operatorPassword);
      } else {
        throw error;
      }
      await runner.run(openReceipt, params);
    }
  }

  /**
   * Receipt-level tags right after `92`, before the first position, as Crystals writes them: posted, the
   * first position's `EB` reports a refusal (docs/protocol/atol-v3.md §6).
   */
  private async writeReceiptTags(runner: CommandRunner, receipt: Receipt, ffdVersion: number): Promise<void> {
    const text = (tag: number, value: string) => runner.post(writeTag, this.textTag(tag, value));
    if (receipt.operator) {
      await text(Tag.cashierName, receipt.operator.name);
      if (receipt.operator.vatin) await text(Tag.cashierInn, innField(receipt.operator.vatin));
    }
    if (receipt.taxationType) {
      await runner.post(writeTag, {
        flags: 1,
        tlv: { tag: Tag.taxationSystem, value: Buffer.of(TAXATION_SYSTEMS[receipt.taxationType]) },
      });
    }
    const client = receipt.clientInfo;
    if (client?.emailOrPhone) await text(Tag.customerContact, client.emailOrPhone);
    if (client?.name || client?.vatin) {
      const name = client.name === undefined ? [] : [encodeTlv(Tag.buyerName, encodeCp866(client.name))];
      const inn =
        client.vatin === undefined ? [] : [encodeTlv(Tag.buyerInn, encodeCp866(innField(client.vatin)))];
      if (isFfd12(ffdVersion)) {
        // FFD 1.2 carries the buyer's details nested in STLV 1256.
        await runner.post(writeTag, {
          flags: 1,
          tlv: { tag: Tag.buyerInfo, value: Buffer.concat([...name, ...inn]) },
        });
      } else {
        for (const tlv of [...name, ...inn]) {
          await runner.post(writeTag, {
            flags: 1,
            tlv: { tag: tlv.readUInt16LE(0), value: tlv.subarray(4) },
          });
        }
      }
    }
    if (receipt.correction) {
      // 1173, then 1174 holding the date (1178, midnight of that day as FFD seconds) and any order number.
      const [year, month, day] = receipt.correction.baseDate.split('-').map(Number) as [
        number,
        number,
        number,
      ];
      const seconds = wallClockToFfdSeconds({ year, month, day, hour: 0, minute: 0, second: 0 });
      await runner.post(writeTag, {
        flags: 1,
        tlv: { tag: Tag.correctionType, value: Buffer.of(CORRECTION_TYPES[receipt.correction.type]) },
      });
      const number = receipt.correction.baseNumber;
      await runner.post(writeTag, {
        flags: 1,
        tlv: {
          tag: Tag.correctionBasis,
          value: Buffer.concat([
            tlvUint32(Tag.correctionDate, seconds),
            ...(number === undefined ? [] : [encodeTlv(Tag.correctionNumber, encodeCp866(number))]),
          ]),
        },
      });
    }
    if (receipt.internet) {
      await runner.post(writeTag, { flags: 1, tlv: { tag: Tag.internet, value: Buffer.of(1) } });
    }
    if (receipt.marker) await text(Tag.marker, receipt.marker);
  }

  /**
   * Positions: `EA` and the position's tags posted, `EB` waited for, which also reports any refusal of
   * what was posted before it (docs/protocol/atol-v3.md §3.3, §7). Text lines are waited for, so that
   * the close never follows a command whose fate is open.
   */
  private async writeItems(runner: CommandRunner, receipt: Receipt, ffdVersion: number): Promise<void> {
    const flags = PAYS_OUT.has(receipt.type) ? PositionFlags.NoCashCheck : 0;
    for (const item of receipt.items) {
      if (item.type === 'text') {
        await runner.run(printLine, { text: item.text });
        continue;
      }
      await runner.post(beginPosition, undefined);
      if (isFfd12(ffdVersion)) {
        await runner.post(writeTag, {
          flags: 0,
          tlv: { tag: Tag.measurementUnit, value: Buffer.of(MEASUREMENT_UNITS[item.measurementUnit]) },
        });
      }
      await runner.run(registerPosition, {
        flags,
        priceKop: item.priceKop,
        quantityMilli: item.quantityMilli,
        amountKop: item.amountKop,
        taxCode: this.taxTable.byteFor(item.tax.type)!,
        taxSumKop: 0,
        department: item.department,
        paymentObject: PAYMENT_OBJECTS[item.paymentObject],
        paymentMethod: PAYMENT_METHODS[item.paymentMethod],
        discountSign: 0,
        discountKop: 0,
        name: item.name,
      });
    }
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

  /**
   * The document the operation has just made. The normal path reads the number after the last one the
   * driver saw, and only as far as a result needs (docs/protocol/atol-v3.md §10). When that is not the
   * expected document (another one came between, or the driver knew no last number), the FN is asked for
   * its last document, which is read in full and, for a receipt, must carry the receipt's marker.
   */
  private async readNewDocument(
    runner: CommandRunner,
    documentType: number,
    marker?: string,
  ): Promise<FiscalDocument> {
    const known = this.knownDocument;
    if (known) {
      const expected = known.number + 1;
      const quick = await this.readDocument(runner, expected, 'result').catch(() => undefined);
      if (quick && quick.documentType === documentType && quick.fiscalDocumentNumber === expected) {
        this.knownDocument = { number: expected, fnSerial: quick.fnNumber ?? known.fnSerial };
        return { ...quick, fnNumber: quick.fnNumber ?? known.fnSerial };
      }
      this.options.logger?.info({
        event: 'kkt.read-back-fallback',
        expected,
        found: quick?.fiscalDocumentNumber,
      });
    }
    const { lastDocumentNumber } = await this.readFnStatus(runner);
    const document = await this.readDocument(runner, lastDocumentNumber, 'full');
    if (document.documentType !== documentType) {
      throw new Error(
        `the last document (${document.fiscalDocumentNumber}) is of type ${document.documentType}, not ${documentType}`,
      );
    }
    if (marker !== undefined && document.marker !== marker) {
      throw new Error(
        `the last document (${document.fiscalDocumentNumber}) does not carry this receipt's marker`,
      );
    }
    return document;
  }
}
