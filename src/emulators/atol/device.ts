import { EventEmitter } from 'node:events';
import { type CommandSpec, codeHex, encodeAnswer, findCommand } from '../../drivers/atol/commands/index.js';
import { type DeviceDateTime, wallClockToFfdSeconds } from '../../drivers/atol/protocol/dateTime.js';
import { decodeTlvList, type Tlv } from '../../drivers/atol/protocol/tlv.js';
import { FfdVersion } from '../../drivers/atol/receiptForm.js';
import { formatIsoWithOffset } from '../../lib/time.js';
import { type Clock, DeviceClock } from './clock.js';
import { type BuiltDocument, buildOpenShiftDocument, FfdTag } from './fiscalDocuments.js';
import { registerCashHandlers } from './handlers/cash.js';
import { registerFnHandlers } from './handlers/fn.js';
import { registerModeHandlers } from './handlers/modes.js';
import { registerPrintHandlers } from './handlers/print.js';
import { registerReceiptHandlers } from './handlers/receipt.js';
import { registerRegisterHandlers } from './handlers/registers.js';
import { registerReportHandlers } from './handlers/reports.js';
import { registerStatusHandlers } from './handlers/status.js';
import type { JournalEntry } from './journalEntry.js';
import { ErrorCode, fail, type Outcome } from './outcome.js';
import { type PrintJob, type RegisterHeader, renderPrintout } from './render.js';
import {
  type DeviceState,
  emptyCounters,
  type RegisterIdentity,
  type StoredDocument,
  type StoredTlv,
} from './state.js';
import { cashierTags, tagText } from './tags.js';
import { EmulatorVatTable } from './vat.js';

export const SHIFT_LIMIT_MS = 24 * 3600 * 1000;
export const OFD_BLOCK_AFTER_MS = 30 * 24 * 3600 * 1000;

/**
 * Commands that answer `A2` at once and deliver their result later as an `F0` packet (docs/emulator.md):
 * the close that makes a document, the reports, and `A4 45`, which fetches a whole document from the FN
 * (its TLVs then come from the register's memory).
 */
export const SLOW_COMMANDS: ReadonlySet<string> = new Set(['4a', '5a', '67', 'a445']);

/** Commands that only read; they are the ones a register still answers while it prints a report. */
const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set([
  '45',
  '3f',
  'a5',
  '9d',
  '91',
  'a430',
  'a432',
  'a433',
  'a420',
  'a443',
  'a445',
  'a446',
]);

export interface DeviceOptions {
  identity: RegisterIdentity;
  /** State saved by an earlier run; the register continues from it. */
  state?: DeviceState;
  documents?: readonly StoredDocument[];
  clock: Clock;
  timeZone?: string;
  /** Time the Z report spends in each of 3.2 and 7.1. */
  zReportStepMs: number;
  /** Time the X report spends printing (2.2). */
  xReportMs: number;
  /** Documents count as delivered to the OFD this long after they are made; undefined = never. */
  ofdAutoDrainMs?: number;
  /** How many printouts `printouts` keeps. */
  printoutHistory: number;
  /** The firmware's `EB` tax bytes. */
  vat?: EmulatorVatTable;
}

export interface Printout {
  kind: PrintJob['kind'];
  documentNumber?: number;
  text: string;
  /** Register clock, ms since the epoch. */
  atMs: number;
}

export interface CommandRecord {
  /** The spec's name, e.g. "closeReceipt (4A)". */
  name: string;
  /** The command code in hex, e.g. "4A", "A4 46". */
  code: string;
  params: unknown;
  errorCode: number;
  extendedCode?: number;
}

/** A fiscal document made by a command, with its journal line. */
export interface MadeDocument {
  document: StoredDocument;
  journal: JournalEntry;
}

export interface Execution {
  record: CommandRecord;
  /** The command answer (e.g. `55 00 …`), built with the command's spec. */
  answer: Buffer;
  failed: boolean;
  /** Delivered asynchronously (A2, then an F0 packet). */
  slow: boolean;
  documents: MadeDocument[];
  /** The new state as JSON when the command changed it (to persist before answering). */
  stateJson: string | undefined;
  /** An emulator bug while handling the command; it was answered with `13`. */
  internalError?: Error;
}

export interface DeviceEvents {
  document: [entry: JournalEntry];
  printed: [printout: Printout];
  /** The state changed outside a command (the OFD drained, the clock moved, the shift was backdated). */
  changed: [];
}

export interface ModeState {
  mode: number;
  submode: number;
}

type Handler = (params: unknown) => Outcome<unknown>;

export type HandlerRegistry = <P, R>(spec: CommandSpec<P, R>, handler: (params: P) => Outcome<R>) => void;

export interface DeviceFaults {
  noPaper: boolean;
  coverOpen: boolean;
  fnFull: boolean;
  ofdBacklog: boolean;
  /** An `EB` tax byte the firmware refuses (`EE`/0x0104); 0 = none. */
  refuseTaxCode: number;
}

/**
 * The emulated register: a state machine that turns command bodies into answers. Handlers (one module
 * per command family, in `handlers/`) read and change the state through the members below; every
 * answer is encoded with the command's spec, the same code the driver decodes with.
 */
export class AtolDevice extends EventEmitter<DeviceEvents> {
  state: DeviceState;
  readonly clock: DeviceClock;
  readonly documents = new Map<number, StoredDocument>();
  modeState: ModeState;
  /** A Z or X report is printing: only read-only commands are answered. */
  reportInProgress = false;
  readonly faults: DeviceFaults = {
    noPaper: false,
    coverOpen: false,
    fnFull: false,
    ofdBacklog: false,
    refuseTaxCode: 0,
  };
  /** The `EB` tax bytes this firmware knows. */
  readonly vat: EmulatorVatTable;
  /** The document `A4 45` selected (its TLVs) and how many `A4 46` has handed out. */
  reader: { tlvs: Buffer[]; next: number } | undefined;
  /** Lines printed with `4C` outside a receipt, waiting for a cut (`75`). */
  pendingText: string[] = [];
  readonly printouts: Printout[] = [];
  private made: MadeDocument[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly handlers = new Map<string, { spec: CommandSpec<unknown, unknown>; run: Handler }>();

  constructor(readonly options: DeviceOptions) {
    super();
    this.state = options.state ? structuredClone(options.state) : initialState(options.identity);
    this.clock = new DeviceClock(options.clock, options.timeZone, this.state.clockOffsetMs);
    this.vat = options.vat ?? new EmulatorVatTable();
    for (const document of options.documents ?? []) this.documents.set(document.number, document);
    // A register starts in mode 0, except that an open receipt keeps it in registration (48 refuses to leave).
    this.modeState = { mode: this.state.receipt ? 1 : 0, submode: 0 };
    const registry: HandlerRegistry = (spec, handler) => {
      this.handlers.set(spec.code.toString('hex'), {
        spec: spec as unknown as CommandSpec<unknown, unknown>,
        run: handler as Handler,
      });
    };
    for (const register of [
      registerStatusHandlers,
      registerModeHandlers,
      registerReceiptHandlers,
      registerReportHandlers,
      registerCashHandlers,
      registerPrintHandlers,
      registerRegisterHandlers,
      registerFnHandlers,
    ]) {
      register(this, registry);
    }
  }

  get identity(): RegisterIdentity {
    return this.state.identity;
  }

  /** Whether a handler answers this command code (anything else answers `7A`, unsupported). */
  handles(code: Buffer): boolean {
    return this.handlers.has(code.toString('hex'));
  }

  /** The FFD version code the register works to (2 = 1.05, 4 = 1.2). */
  get ffdVersion(): number {
    return this.state.identity.ffdVersion ?? FfdVersion.V1_2;
  }

  /** Runs one command body (code + params, no password). Never throws. */
  execute(body: Buffer): Execution {
    const before = JSON.stringify(this.state);
    this.made = [];
    const spec = findCommand(body);
    const hex = (spec ? spec.code : body.subarray(0, 1)).toString('hex');
    let record: CommandRecord;
    let answer: Buffer;
    let internalError: Error | undefined;
    if (!spec) {
      record = {
        name: 'unknown',
        code: codeHex(body.subarray(0, 1)),
        params: body.subarray(1),
        errorCode: ErrorCode.Unsupported,
      };
      answer = Buffer.of(0x55, ErrorCode.Unsupported);
    } else {
      let params: unknown;
      let outcome: Outcome<unknown>;
      let decoded = false;
      try {
        params = spec.decodeParams(body.subarray(spec.code.length));
        decoded = true;
        outcome = this.dispatch(hex, params);
      } catch (error) {
        if (decoded) internalError = error as Error;
        // A RangeError from the reader means the packet was too short; anything else is a malformed field.
        const tooShort = !decoded && error instanceof RangeError && /needs \d+ bytes/.test(error.message);
        outcome = fail(tooShort ? ErrorCode.BadLength : ErrorCode.BadFormat);
      }
      if (outcome.extendedCode !== undefined) {
        this.state.extendedError = { command: commandWord(spec.code), code: outcome.extendedCode };
      }
      try {
        answer = encodeAnswer(spec, outcome);
      } catch (error) {
        internalError = error as Error;
        outcome = fail(ErrorCode.BadFormat);
        answer = encodeAnswer(spec, outcome);
      }
      record = { name: spec.name, code: codeHex(spec.code), params, errorCode: outcome.errorCode };
      if (outcome.extendedCode !== undefined) record.extendedCode = outcome.extendedCode;
    }
    const after = JSON.stringify(this.state);
    const execution: Execution = {
      record,
      answer,
      failed: record.errorCode !== 0,
      slow: SLOW_COMMANDS.has(hex),
      documents: this.made,
      stateJson: after === before ? undefined : after,
    };
    if (internalError) execution.internalError = internalError;
    this.made = [];
    return execution;
  }

  private dispatch(hex: string, params: unknown): Outcome<unknown> {
    const handler = this.handlers.get(hex);
    if (!handler) return fail(ErrorCode.Unsupported);
    if (this.reportInProgress && !READ_ONLY_COMMANDS.has(hex)) return fail(ErrorCode.Busy);
    return handler.run(params);
  }

  // ---- clock and time-dependent state ----

  wallNow(): DeviceDateTime {
    return this.clock.wallClock();
  }

  ffdSecondsNow(): number {
    return wallClockToFfdSeconds(this.wallNow());
  }

  iso(t: DeviceDateTime): string {
    return formatIsoWithOffset(t, this.clock.timeZone);
  }

  isShiftExpired(): boolean {
    const { shift } = this.state;
    return (
      shift.open && shift.openedAtMs !== undefined && this.clock.nowMs() >= shift.openedAtMs + SHIFT_LIMIT_MS
    );
  }

  /** The FN refuses fiscal documents once the oldest unsent one is 30 days old. */
  isOfdBlocked(): boolean {
    const { ofd } = this.state;
    if (this.faults.ofdBacklog) return true;
    return (
      ofd.unsentCount > 0 &&
      ofd.firstUnsentAtMs !== undefined &&
      this.clock.nowMs() >= ofd.firstUnsentAtMs + OFD_BLOCK_AFTER_MS
    );
  }

  /** The number of the open shift, or of the last closed one. */
  currentShiftNumber(): number {
    const { shift } = this.state;
    return shift.open ? shift.lastClosedNumber + 1 : shift.lastClosedNumber;
  }

  advanceClock(ms: number): void {
    this.clock.advance(Math.round(ms));
    this.state.clockOffsetMs = this.clock.offsetMs;
    this.emit('changed');
  }

  setWallClock(t: DeviceDateTime): void {
    this.clock.setWallClock(t);
    this.state.clockOffsetMs = this.clock.offsetMs;
  }

  // ---- fiscal documents ----

  header(): RegisterHeader {
    const id = this.identity;
    return {
      organizationName: id.organizationName,
      address: id.address,
      inn: id.inn,
      registrationNumber: id.registrationNumber,
      serial: id.serial,
      fnSerial: id.fnSerial,
    };
  }

  /** Stores a document the FN has just signed and advances every counter that follows it. */
  storeDocument(built: BuiltDocument, journal: JournalEntry, ffdSeconds: number): void {
    const { state } = this;
    this.documents.set(built.document.number, built.document);
    state.lastDocumentNumber = built.document.number;
    state.lastDocumentSeconds = ffdSeconds;
    state.shift.documentsInShift++;
    if (state.ofd.unsentCount === 0) {
      state.ofd.firstUnsentNumber = built.document.number;
      state.ofd.firstUnsentAtMs = this.clock.nowMs();
    }
    state.ofd.unsentCount++;
    this.made.push({ document: built.document, journal });
    this.emit('document', journal);
    if (this.options.ofdAutoDrainMs !== undefined)
      this.after(this.options.ofdAutoDrainMs, () => this.drainOfd());
  }

  /** Opens the shift and makes its FD (type 2). Used by `9A` and implicitly by `92`, `49`, `4F`. */
  openShift(tags: StoredTlv[], openedAtMs = this.clock.nowMs()): void {
    const { state } = this;
    const wall = this.clock.wallClock(openedAtMs);
    const ffdSeconds = wallClockToFfdSeconds(wall);
    state.shift = {
      open: true,
      lastClosedNumber: state.shift.lastClosedNumber,
      openedAtMs,
      lastReceiptNumber: 0,
      documentsInShift: 0,
    };
    const documentNumber = state.lastDocumentNumber + 1;
    const shiftNumber = state.shift.lastClosedNumber + 1;
    const built = buildOpenShiftDocument({
      identity: this.identity,
      documentNumber,
      ffdSeconds,
      shiftNumber,
      tags,
    });
    const cashier = tagText(tags, FfdTag.cashierName);
    this.storeDocument(built, this.shiftJournal('openShift', built, wall, shiftNumber), ffdSeconds);
    this.print(
      {
        kind: 'openShift',
        header: this.header(),
        footer: { documentNumber, fiscalSign: built.sign.value, dateTime: wall },
        shiftNumber,
        cashier,
      },
      documentNumber,
    );
  }

  shiftJournal(
    kind: 'openShift' | 'closeShift',
    built: BuiltDocument,
    wall: DeviceDateTime,
    shiftNumber: number,
  ): JournalEntry {
    return {
      documentNumber: built.document.number,
      documentType: built.document.type,
      kind,
      fiscalSign: String(built.sign.value),
      dateTime: this.iso(wall),
      shiftNumber,
    };
  }

  drainOfd(): void {
    const { ofd } = this.state;
    if (ofd.unsentCount === 0) return;
    this.state.ofd = { unsentCount: 0, firstUnsentNumber: 0 };
    this.emit('changed');
  }

  /** Backdates the shift by 25 hours (opening one first when it is closed), so that it has expired. */
  expireShift(): void {
    const backdated = this.clock.nowMs() - SHIFT_LIMIT_MS - 3600 * 1000;
    if (this.state.shift.open) this.state.shift.openedAtMs = backdated;
    else this.openShift(cashierTags(this.state.pendingTags), backdated);
    this.emit('changed');
  }

  // ---- printing ----

  print(job: PrintJob, documentNumber?: number): void {
    const text = renderPrintout(job, this.identity.lineWidth);
    const printout: Printout = { kind: job.kind, text, atMs: this.clock.nowMs() };
    if (documentNumber !== undefined) printout.documentNumber = documentNumber;
    this.printouts.push(printout);
    if (this.printouts.length > this.options.printoutHistory) this.printouts.shift();
    this.emit('printed', printout);
  }

  /** Prints and clears text lines waiting for a cut. */
  flushText(): void {
    if (this.pendingText.length === 0) return;
    const lines = this.pendingText;
    this.pendingText = [];
    this.print({ kind: 'text', lines });
  }

  // ---- report walks ----

  /**
   * Walks through mode.submode states, one step every `stepMs`, as a printing report does, so that
   * a host polling `45` sees each. Read-only commands are answered meanwhile; others get `76` (busy).
   */
  walk(steps: ReadonlyArray<[mode: number, submode: number]>, stepMs: number): void {
    this.reportInProgress = true;
    const next = (remaining: ReadonlyArray<[number, number]>) => {
      const [head, ...tail] = remaining;
      if (head) this.modeState = { mode: head[0], submode: head[1] };
      if (!head || tail.length === 0) {
        this.reportInProgress = false;
        return;
      }
      this.after(stepMs, () => next(tail));
    };
    next(steps);
  }

  after(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  /** Stops report walks and drain timers (the emulator is closing). */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.reportInProgress = false;
  }

  // ---- views for the public API ----

  snapshotState(): DeviceState {
    return structuredClone(this.state);
  }

  decodedDocument(number: number): { number: number; type: number; tlvs: Tlv[] } | undefined {
    const stored = this.documents.get(number);
    return stored && { number, type: stored.type, tlvs: decodeTlvList(Buffer.from(stored.tlvHex, 'hex')) };
  }
}

export function initialState(identity: RegisterIdentity): DeviceState {
  return {
    format: 1,
    identity,
    userPasswords: Array.from({ length: 30 }, (_, i) => i + 1),
    clockOffsetMs: 0,
    cashierNumber: 0,
    shift: { open: false, lastClosedNumber: 0, lastReceiptNumber: 0, documentsInShift: 0 },
    pendingTags: [],
    lastDocumentNumber: 0,
    lastDocumentSeconds: 0,
    counters: emptyCounters(),
    cashKop: 0,
    ofd: { unsentCount: 0, firstUnsentNumber: 0 },
    extendedError: { command: 0, code: 0 },
  };
}

/** Register 0x37 reports the failed command as two bytes: `00 E8` for one-byte codes, `A4 46` for two. */
function commandWord(code: Buffer): number {
  return code.length === 1 ? code[0]! : code.readUInt16BE(0);
}
