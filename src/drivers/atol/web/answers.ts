import { z } from 'zod';
import { ValidationError } from '../../../lib/errors.js';
import {
  isLosslessNumber,
  jsonInteger,
  jsonMinor,
  LosslessNumber,
  parseWithSchema,
} from '../../../lib/json.js';
import type { DeviceInfo, FiscalDocument, FnInfo, KktStatus } from '../kkt.js';
import { MODELS } from '../models.js';
import { parseDeviceDate, readDeviceDateTime } from './dateTime.js';
import { KktDriverError } from './driverErrors.js';
import { KktWebError } from './errors.js';

/**
 * The web server's answers are external input: every one is parsed losslessly (`parseJsonLossless`) and
 * checked here before anything inside the agent reads it. Money comes back in roubles and becomes integer
 * kopecks through decimal text.
 */

const int = (min = 0) => jsonInteger({ min });
const kop = jsonMinor({ fractionDigits: 2 });
/** A value sent as text or as a number ("3442353402" or 3442353402), yielded as its text. */
const textOrNumber = z.unknown().transform((value, ctx): string => {
  if (typeof value === 'string') return value.trim();
  if (isLosslessNumber(value)) return value.toString();
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  ctx.addIssue({ code: 'custom', message: 'expected a string or a number' });
  return z.NEVER;
});

// ---- the request envelope (§7.4) -------------------------------------------------------------------

export const driverErrorSchema = z.object({
  code: int(),
  description: z.string().optional(),
});

export const taskResultSchema = z.object({
  status: z.string().min(1),
  error: driverErrorSchema.nullish(),
  result: z.unknown().optional(),
});
export type TaskResult = z.output<typeof taskResultSchema>;

export const requestResultsSchema = z.object({ results: z.array(taskResultSchema).min(1) });

/** Statuses of a task that has not finished (docs/protocol/atol-v3.md §12). */
export const PENDING_STATUSES: ReadonlySet<string> = new Set(['wait', 'inProgress']);

export type TaskVerdict =
  /** Queued or running. */
  | { kind: 'pending' }
  /** Finished successfully (`ready`). */
  | { kind: 'done'; result: unknown }
  /** Finished without effect: a definite driver error, or cancelled before it ran. */
  | { kind: 'refused'; error: KktDriverError | KktWebError }
  /** Ended in a way that does not prove anything (interrupted, blocked, connection lost mid-task…). */
  | { kind: 'uncertain'; reason: string; error?: KktDriverError };

/**
 * What a task's result means. `interrupted`, `blocked` and unknown statuses are uncertain (⚠ their meaning
 * is unverified); `canceled` is taken as "never ran".
 */
export function taskVerdict(task: TaskResult, operation: string): TaskVerdict {
  if (PENDING_STATUSES.has(task.status)) return { kind: 'pending' };
  if (task.status === 'ready') return { kind: 'done', result: task.result };
  const error =
    task.error && task.error.code !== 0
      ? new KktDriverError(task.error.code, operation, task.error.description)
      : undefined;
  if (task.status === 'error') {
    if (!error) return { kind: 'uncertain', reason: 'the task failed without an error code' };
    return error.uncertain ? { kind: 'uncertain', reason: error.message, error } : { kind: 'refused', error };
  }
  if (task.status === 'canceled') {
    return {
      kind: 'refused',
      error:
        error ??
        new KktWebError(
          'KKT_WEB_TASK_CANCELED',
          `The ATOL web server cancelled ${operation} before it ran.`,
          {
            operation,
          },
        ),
    };
  }
  return {
    kind: 'uncertain',
    reason: `the task ended with status "${task.status}"${error ? ` (${error.message})` : ''}`,
    ...(error ? { error } : {}),
  };
}

// ---- task results --------------------------------------------------------------------------------

const fiscalParamsSchema = z.object({
  fiscalDocumentNumber: int(1),
  fiscalDocumentSign: textOrNumber.optional(),
  fiscalDocumentDateTime: z.union([z.string(), int()]).optional(),
  fiscalReceiptNumber: int().optional(),
  shiftNumber: int().optional(),
  fnNumber: z.string().optional(),
  registrationNumber: z.string().optional(),
  total: kop.optional(),
});

export const fiscalTaskResultSchema = z.object({ fiscalParams: fiscalParamsSchema });

export interface WebFiscalParams {
  fiscalDocumentNumber: number;
  fiscalSign: string;
  dateTime: string;
  receiptNumber: number | undefined;
  shiftNumber: number | undefined;
  fnNumber: string | undefined;
  registrationNumber: string | undefined;
  totalKop: number | undefined;
}

/** `fiscalParams` of a sell, sellReturn, openShift or closeShift result. */
export function parseFiscalParams(result: unknown, timeZone: string): WebFiscalParams {
  const { fiscalParams: p } = parseWithSchema(fiscalTaskResultSchema, result, 'result');
  return {
    fiscalDocumentNumber: p.fiscalDocumentNumber,
    fiscalSign: p.fiscalDocumentSign ?? '',
    dateTime: readDeviceDateTime(p.fiscalDocumentDateTime, timeZone) ?? '',
    receiptNumber: p.fiscalReceiptNumber,
    shiftNumber: p.shiftNumber,
    fnNumber: p.fnNumber?.trim(),
    registrationNumber: p.registrationNumber?.trim(),
    totalKop: p.total,
  };
}

export const deviceStatusResultSchema = z.object({
  deviceStatus: z.object({
    currentDateTime: z.string(),
    shift: z.string(),
    blocked: z.boolean(),
    coverOpened: z.boolean(),
    paperPresent: z.boolean(),
    paperNearEnd: z.boolean().optional(),
    fiscal: z.boolean(),
    fnFiscal: z.boolean(),
    fnPresent: z.boolean(),
    cashDrawerOpened: z.boolean(),
  }),
});

export const shiftStatusResultSchema = z.object({
  shiftStatus: z.object({
    state: z.string(),
    number: int(),
    expiredTime: z.string().optional(),
  }),
});

const SHIFT_STATES: Readonly<Record<string, KktStatus['shift']['state']>> = {
  closed: 'closed',
  opened: 'open',
  open: 'open',
  expired: 'expired',
};

/** What the web backend can know of the register's state (the driver hides modes and the open receipt). */
export interface WebKktStatus {
  deviceDateTime: string;
  /** The register and its FN are registered with the tax service. */
  fiscalized: boolean;
  /** The register refuses fiscal documents (for example, the OFD backlog is too old). */
  blocked: boolean;
  fnPresent: boolean;
  shift: KktStatus['shift'];
  paper: { present: boolean; nearEnd?: boolean };
  coverOpen: boolean;
  cashDrawerOpen: boolean;
}

export function parseStatus(deviceResult: unknown, shiftResult: unknown, timeZone: string): WebKktStatus {
  const { deviceStatus: d } = parseWithSchema(deviceStatusResultSchema, deviceResult, 'result');
  const { shiftStatus: s } = parseWithSchema(shiftStatusResultSchema, shiftResult, 'result');
  const state = SHIFT_STATES[s.state] ?? SHIFT_STATES[d.shift];
  if (!state) throw new ValidationError('result.shiftStatus.state', `unknown shift state "${s.state}"`);
  const shift: KktStatus['shift'] = { state, number: s.number };
  if (state !== 'closed' && s.expiredTime) {
    const expiresAt = readDeviceDateTime(s.expiredTime, timeZone);
    if (expiresAt) shift.expiresAt = expiresAt;
  }
  return {
    deviceDateTime: readDeviceDateTime(d.currentDateTime, timeZone) ?? d.currentDateTime,
    fiscalized: d.fiscal && d.fnFiscal,
    blocked: d.blocked,
    fnPresent: d.fnPresent,
    shift,
    paper: { present: d.paperPresent, ...(d.paperNearEnd === undefined ? {} : { nearEnd: d.paperNearEnd }) },
    coverOpen: d.coverOpened,
    cashDrawerOpen: d.cashDrawerOpened,
  };
}

export const deviceInfoResultSchema = z.object({
  deviceInfo: z.object({
    model: int(),
    modelName: z.string(),
    serial: z.string(),
    firmwareVersion: z.string(),
    receiptLineLength: int().optional(),
    ffdVersion: z.string().optional(),
    fnFfdVersion: z.string().optional(),
  }),
});

/** FFD version names → tag 1209 codes (the protocol backend reports the codes). */
const FFD_CODES: Readonly<Record<string, number>> = { '1.0': 1, '1.05': 2, '1.1': 3, '1.2': 4 };

export function parseDeviceInfo(result: unknown): DeviceInfo {
  const { deviceInfo: d } = parseWithSchema(deviceInfoResultSchema, result, 'result');
  const known = MODELS.get(d.model);
  return {
    model: d.model,
    modelName: d.modelName || known?.name || `model ${d.model}`,
    platform: known?.platform ?? 'unknown',
    serial: d.serial.trim(),
    firmwareVersion: d.firmwareVersion,
    lineWidth: d.receiptLineLength || known?.lineWidth || 32,
    ffdVersion: {
      kkt: FFD_CODES[d.ffdVersion ?? ''] ?? 0,
      fn: FFD_CODES[d.fnFfdVersion ?? ''] ?? 0,
    },
  };
}

const fnWarningsSchema = z.object({
  memoryOverflow: z.boolean().default(false),
  needReplacement: z.boolean().default(false),
  ofdTimeout: z.boolean().default(false),
  resourceExhausted: z.boolean().default(false),
  criticalError: z.boolean().default(false),
});

export const fnInfoResultSchema = z.object({
  fnInfo: z.object({
    serial: z.string(),
    registrationsRemaining: int().optional(),
    validityDate: z.string(),
    warnings: fnWarningsSchema,
  }),
});

export const fnStatusResultSchema = z.object({
  fnStatus: z.object({
    fiscalDocumentNumber: int(),
    fiscalReceiptNumber: int().optional(),
  }),
});

export const ofdExchangeStatusResultSchema = z.object({
  status: z.object({
    notSentCount: int(),
    notSentFirstDocNumber: int().optional(),
    notSentFirstDocDateTime: z.string().optional(),
  }),
});

export const registrationInfoResultSchema = z.object({
  organization: z.object({
    vatin: z.string(),
    taxationTypes: z.array(z.string()).default([]),
  }),
  device: z.object({ registrationNumber: z.string().optional() }),
});

/** The last FD number the FN reports (`getFnStatus`), the anchor of every print. */
export function parseLastDocumentNumber(result: unknown): number {
  return parseWithSchema(fnStatusResultSchema, result, 'result').fnStatus.fiscalDocumentNumber;
}

/** The FN's serial number (`getFnInfo`). */
export function parseFnSerial(result: unknown): string {
  return parseWithSchema(fnInfoResultSchema, result, 'result').fnInfo.serial.trim();
}

export interface FnInfoParts {
  fnInfo: unknown;
  fnStatus: unknown;
  ofd: unknown;
  registration: unknown;
  /** The date-time of the last document, read separately (the FN info tasks do not carry it). */
  lastDocumentDateTime: string;
}

export function parseFnInfo(parts: FnInfoParts, timeZone: string): FnInfo {
  const { fnInfo: f } = parseWithSchema(fnInfoResultSchema, parts.fnInfo, 'result');
  const { fnStatus } = parseWithSchema(fnStatusResultSchema, parts.fnStatus, 'result');
  const { status: ofd } = parseWithSchema(ofdExchangeStatusResultSchema, parts.ofd, 'result');
  const registration = parseWithSchema(registrationInfoResultSchema, parts.registration, 'result');
  const unsent: FnInfo['ofd'] = { unsentCount: ofd.notSentCount };
  if (ofd.notSentCount > 0) {
    if (ofd.notSentFirstDocNumber !== undefined) unsent.firstUnsentNumber = ofd.notSentFirstDocNumber;
    if (ofd.notSentFirstDocDateTime) {
      const first = readDeviceDateTime(ofd.notSentFirstDocDateTime, timeZone);
      if (first) unsent.firstUnsentDateTime = first;
    }
  }
  return {
    serial: f.serial.trim(),
    lastDocumentNumber: fnStatus.fiscalDocumentNumber,
    lastDocumentDateTime: parts.lastDocumentDateTime,
    validUntil: readDate(f.validityDate),
    registrationsRemaining: f.registrationsRemaining ?? 0,
    warnings: f.warnings,
    ofd: unsent,
    inn: registration.organization.vatin.trim(),
    registrationNumber: registration.device.registrationNumber?.trim() ?? '',
    taxationTypes: registration.organization.taxationTypes,
  };
}

// ---- documents read back from the FN (getFnDocument) -----------------------------------------------

/** `fiscalDocumentType` names of `getFnDocument` → FFD document type codes. */
export const FISCAL_DOCUMENT_TYPES: Readonly<Record<string, number>> = {
  registration: 1,
  openShift: 2,
  receipt: 3,
  bso: 4,
  closeShift: 5,
  closeArchive: 6,
  changeRegistrationParameters: 11,
  ofdExchangeStatus: 21,
  receiptCorrection: 31,
  bsoCorrection: 41,
};

export const fnDocumentResultSchema = z.object({
  documentTLV: z.record(z.string(), z.unknown()),
});

const optionalInt = int().optional();
const optionalText = textOrNumber.optional();
const optionalKop = kop.optional();

function field<T>(schema: z.ZodType<T>, value: unknown): T | undefined {
  if (value === undefined || value === null) return undefined;
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/**
 * A document of `getFnDocument` as the protocol backend's `FiscalDocument`. The document is keyed by tag
 * number ("1040", "1192"…); the types of the values are not confirmed (⚠), so numbers may come as text
 * and the reader takes either.
 */
export function parseFnDocument(result: unknown, requestedNumber: number, timeZone: string): FiscalDocument {
  const { documentTLV: tlv } = parseWithSchema(fnDocumentResultSchema, result, 'result');
  const typeValue = tlv.fiscalDocumentType;
  const documentType =
    typeof typeValue === 'string' ? FISCAL_DOCUMENT_TYPES[typeValue] : field(optionalInt, typeValue);
  if (documentType === undefined) {
    throw new ValidationError(
      'result.documentTLV.fiscalDocumentType',
      `unknown document type "${String(typeValue)}"`,
    );
  }
  const integer = (tag: string) => field(optionalInt, tlv[tag]) ?? field(optionalInt, numericText(tlv[tag]));
  // Tag 1012 comes as a date-time text, or as Unix seconds; an unreadable one is left empty.
  const seconds = integer('1012');
  const rawDateTime = tlv['1012'];
  const dateTime =
    readDeviceDateTime(seconds ?? (typeof rawDateTime === 'string' ? rawDateTime : undefined), timeZone) ??
    '';
  const text = (tag: string) => field(optionalText, tlv[tag]);
  return {
    fiscalDocumentNumber: integer('1040') ?? requestedNumber,
    documentType,
    fiscalSign: text('1077') ?? '',
    dateTime,
    shiftNumber: integer('1038'),
    receiptNumber: integer('1042'),
    totalKop: field(optionalKop, tlv['1020']) ?? field(optionalKop, numericText(tlv['1020'])),
    operationType: integer('1054'),
    fnNumber: text('1041'),
    registrationNumber: text('1037'),
    marker: typeof tlv['1192'] === 'string' ? tlv['1192'] : undefined,
  };
}

/** "12" or "455.50" → a lossless JSON number, so numbers sent as text read the same (and exactly). */
function numericText(value: unknown): unknown {
  return typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim())
    ? new LosslessNumber(value.trim())
    : undefined;
}

function readDate(value: string): string {
  try {
    return parseDeviceDate(value, 'validityDate');
  } catch {
    return '';
  }
}
