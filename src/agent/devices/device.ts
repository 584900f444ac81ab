import { EventEmitter } from 'node:events';
import type { LinkTap } from '../../drivers/atol/transport/link.js';
import { type ErrorCode, KktAgentError, type ValidationError } from '../../lib/errors.js';
import type { Bill } from '../domain/bill.js';
import type { FiscalData, Job, ShiftEvent } from '../jobs/job.js';
import type { ReadBack, ReceiptHistory } from '../jobs/receiptHistory.js';
import type { DoctorOptions, DoctorReport } from './doctorReport.js';
import type { LocalModuleCondition } from './localModule/reportTypes.js';

/** What a reconcile concluded about a job left PRINTING. */
export type ReconcileOutcome =
  | { kind: 'fiscalized'; fiscal: FiscalData }
  /** The device proves nothing was printed (any open receipt was cancelled): printing again is safe. */
  | { kind: 'not-printed'; note: string }
  /** The device cannot tell: a person must decide (printed / not printed). */
  | { kind: 'ambiguous'; reason: string };

/**
 * Whether a job's receipt is on the device, looked up by its marker before a person's "not printed" is
 * taken (docs/fiscalization.md, "Resolving a blocked job"). `unknown` when the device cannot tell.
 */
export type ReceiptSearch =
  | { kind: 'found'; fiscalDocumentNumber: number; fnSerial: string }
  | { kind: 'absent'; checked: string }
  | { kind: 'unknown'; reason: string };

/** The device refused the receipt: nothing was printed. `retryable` when fixing the device helps (paper, shift). */
export class PrintRefusedError extends KktAgentError {
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, retryable: boolean, details: Record<string, unknown> = {}) {
    super(code, message, { ...details, retryable }, { outcome: 'refused' });
    this.retryable = retryable;
  }
}

/** The receipt may have been printed and the adapter cannot tell: the job is reconciled or decided by a person. */
export class PrintOutcomeUnknownError extends KktAgentError {
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details, { outcome: 'unknown' });
  }
}

/**
 * The device cannot sell what the bill carries: marked goods on a backend without the marking commands,
 * Belarusian marks on a Russian register… Refused at intake (the job is FAILED, nothing is sent) with the
 * field and what to do instead.
 */
export class MarkingUnsupportedError extends KktAgentError {
  readonly field: string;

  constructor(deviceId: string, deviceKind: string, field: string, reason: string) {
    super(
      'DEVICE_MARKING_UNSUPPORTED',
      `${field}: device "${deviceId}" (${deviceKind}) ${reason}`,
      {
        deviceId,
        deviceKind,
        field,
      },
      { outcome: 'not-sent' },
    );
    this.field = field;
  }
}

/** The failure code of a bill refused because ОИСМ did not answer the register's marking code check. */
export const MARKING_OISM_UNAVAILABLE = 'MARKING_OISM_UNAVAILABLE';

/**
 * Refusals that mean the shop's local module of Честный ЗНАК could not be used (down, not ready, stale,
 * credentials, unreadable answers), not that an item may not be sold: the agent raises an alert for them.
 */
export const LOCAL_MODULE_FAULT_CODES: ReadonlySet<string> = new Set([
  'MARKING_LM_UNAVAILABLE',
  'MARKING_LM_AUTH_FAILED',
  'MARKING_LM_CREDENTIALS',
  'MARKING_LM_ANSWER_INVALID',
]);

/** The first position that carries a Russian marking code, as a field path, or undefined. */
export function firstMarkedPosition(bill: Bill): string | undefined {
  const index = bill.positions.findIndex((position) => position.marking !== undefined);
  return index < 0 ? undefined : `positions[${index}].marking`;
}

/** The first position that carries Belarusian identification marks, as a field path, or undefined. */
export function firstIdentificationMarks(bill: Bill): string | undefined {
  const index = bill.positions.findIndex((position) => (position.identificationMarks?.length ?? 0) > 0);
  return index < 0 ? undefined : `positions[${index}].identificationMarks`;
}

/** The device state for the state document and `status`. Fields a device kind cannot know stay absent. */
export interface DeviceSnapshot {
  id: string;
  kind: string;
  online: boolean;
  model?: string;
  serial?: string;
  firmware?: string;
  shift?: { state: 'closed' | 'open' | 'expired'; number?: number; openedAt?: string; expiresAt?: string };
  fn?: {
    serial?: string;
    validUntil?: string;
    warnings?: string[];
    lastDocumentNumber?: number;
    lastDocumentAt?: string;
  };
  ofd?: { unsentCount: number; oldestUnsentAt?: string };
  paper?: { present: boolean; nearEnd?: boolean };
  coverOpen?: boolean;
  receiptOpen?: boolean;
  /** The register has not answered since then, although its link was open (it is being reopened). */
  notAnsweringSince?: string;
  lastError?: { code: string; message: string; at: string };
  /** The shop's local module of Честный ЗНАК as last seen (atol-web with `localModule`; absent until asked). */
  localModule?: LocalModuleCondition;
  details?: Record<string, unknown>;
}

/** The `lastError` a snapshot shows for whatever a device call threw (typed agent errors carry a code). */
export function deviceErrorSummary(
  error: unknown,
  at: Date = new Date(),
): NonNullable<DeviceSnapshot['lastError']> {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  return {
    code: typeof e?.code === 'string' ? e.code : 'ERROR',
    message: typeof e?.message === 'string' ? e.message : String(error),
    at: at.toISOString(),
  };
}

export interface FiscalDeviceEvents {
  /** The device became usable (connected, identified) or stopped being usable. */
  ready: [];
  unready: [reason: string];
  /** Shift opened or closed by the agent (explicitly or as part of a receipt). */
  shift: [event: { type: 'opened' | 'closed'; shift: ShiftEvent }];
}

/**
 * A fiscal device as the agent sees it. Drivers know devices; adapters implementing this know bills:
 * they map a job's bill to the device's receipt, print it, and reconcile a job whose outcome was lost.
 */
export abstract class FiscalDevice extends EventEmitter<FiscalDeviceEvents> {
  abstract readonly id: string;
  abstract readonly kind: string;
  /** Currencies the device can fiscalize (an ATOL register: RUB only). */
  abstract readonly currencies: readonly string[];
  /** Time of the last successful exchange with the device, for the watchdog's liveness probe. */
  lastActivityAt = 0;
  /**
   * How the device can tell what it printed without the agent's store (docs/fiscalization.md, "Rebuilding
   * from the register"): `history` devices return their `history()`.
   */
  abstract readonly readBack: ReadBack;

  /** The device's printed documents, newest first, when it keeps a readable history (its FN). */
  history(): ReceiptHistory | undefined {
    return undefined;
  }

  /**
   * Looks the job's receipt up on the device by its marker. Only a device with a readable history can; the
   * others leave the decision to the person, who has looked at the device.
   */
  async searchReceipt(_job: Job): Promise<ReceiptSearch> {
    return { kind: 'unknown', reason: `a ${this.kind} device cannot be searched for a receipt` };
  }

  abstract get ready(): boolean;

  /**
   * Whether this device can take the bill at all, asked at intake before a job exists: the refusal (a
   * typed error naming the field), or undefined. Default: every bill the intake validated.
   */
  admit(_bill: Bill): KktAgentError | undefined {
    return undefined;
  }

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
  /** Reads what a later reconcile needs (the last FD number), before PRINTING is journaled. */
  abstract preparePrint(job: Job): Promise<{ lastDocumentNumberBefore?: number; fnSerial?: string }>;
  /**
   * Prints the job's receipt. Throws an error that proves nothing happened (`provesNothingHappened`:
   * `ValidationError`, `PrintRefusedError`, a driver's `not-sent`) when nothing was printed; anything else
   * (`outcome: 'unknown'`) may have printed.
   */
  abstract print(job: Job): Promise<FiscalData>;
  abstract reconcile(job: Job): Promise<ReconcileOutcome>;
  abstract snapshot(): Promise<DeviceSnapshot>;

  /**
   * The self-test (`kkt-agent doctor`). A device kind without probes reports what its snapshot shows and
   * says that it has none.
   */
  async doctor(_options: DoctorOptions = {}): Promise<DoctorReport> {
    const snapshot = await this.snapshot();
    return {
      ...doctorBasics(this, snapshot),
      probes: snapshot.online ? 'unsupported' : 'offline',
      reason: snapshot.online
        ? { code: 'NO_PROBES', message: `a ${this.kind} device has no self-test probes` }
        : { code: 'OFFLINE', message: 'the device does not answer' },
      findings: [],
    };
  }

  /**
   * Devices that speak a framed protocol (ATOL v3) trace their wire into a tap made per link; returns the
   * tap factory it replaces. Absent on devices without frames.
   */
  traceWire?(tap: (() => LinkTap) | undefined): (() => LinkTap) | undefined;

  /** Why the last self-test's findings forbid this bill on this device, or undefined (the default). */
  admissionRefusal(_bill: Bill, _report: DoctorReport): ValidationError | undefined {
    return undefined;
  }

  abstract openShift(): Promise<ShiftEvent>;
  abstract closeShift(): Promise<ShiftEvent>;
  abstract reportX(): Promise<void>;
  abstract cashIn(amountMinor: number): Promise<void>;
  abstract cashOut(amountMinor: number): Promise<void>;
}

export class OperationNotSupportedError extends KktAgentError {
  constructor(deviceKind: string, operation: string) {
    super('DEVICE_OPERATION_UNSUPPORTED', `The ${deviceKind} device does not support "${operation}".`, {
      deviceKind,
      operation,
    });
  }
}

/** The parts of a doctor report every device kind can fill from its snapshot. */
export function doctorBasics(
  device: Pick<FiscalDevice, 'id' | 'kind'>,
  snapshot: DeviceSnapshot,
): Pick<DoctorReport, 'deviceId' | 'kind' | 'at' | 'identity' | 'shift' | 'paper' | 'ofd'> {
  return {
    deviceId: device.id,
    kind: device.kind,
    at: new Date().toISOString(),
    identity: {
      model: snapshot.model,
      serial: snapshot.serial,
      firmware: snapshot.firmware,
      ...(snapshot.fn
        ? {
            fn: {
              serial: snapshot.fn.serial,
              validUntil: snapshot.fn.validUntil,
              warnings: snapshot.fn.warnings,
            },
          }
        : {}),
    },
    ...(snapshot.shift ? { shift: snapshot.shift } : {}),
    ...(snapshot.paper ? { paper: snapshot.paper } : {}),
    ...(snapshot.ofd ? { ofd: snapshot.ofd } : {}),
  };
}
