import { z } from 'zod';
import { LocalModuleError } from './localModuleError.js';

/**
 * The local module's answers as docs/protocol/chestny-znak-local-module.md records them from public
 * clients: its status, and a code's check (the fields of Честный ЗНАК's own `codes/check`, plus the
 * module's instance and database version). Fields the module adds are ignored; a field the agent relies
 * on that is missing or of the wrong type is a typed error naming it.
 */

/** The module answered with something the agent cannot read: nothing is printed, the field is named. */
export class LocalModuleAnswerError extends LocalModuleError {
  readonly field: string;

  constructor(what: string, field: string, reason: string) {
    super(
      'MARKING_LM_ANSWER_INVALID',
      `The local module of Честный ЗНАК answered ${what} with an unreadable ${field}: ${reason}.`,
      false,
      { field },
    );
    this.field = field;
  }
}

const statusSchema = z.looseObject({
  status: z.string().min(1),
  operationMode: z.string().optional(),
  /** Last sync with Честный ЗНАК, milliseconds since 1970. */
  lastSync: z.number().int().nonnegative().optional(),
  inst: z.string().optional(),
  version: z.string().optional(),
  requiresDownload: z.boolean().optional(),
});

/** `GET /api/v{1,2}/status`. */
export interface LocalModuleStatus {
  /** `ready`, `initialization`, `sync_error`, `not_configured`… */
  status: string;
  /** `active`, or `service` while it updates itself. */
  operationMode?: string;
  lastSyncMs?: number;
  requiresDownload?: boolean;
  /** The module's software version (`1.4.1`), as public clients show it beside its status. */
  version?: string;
}

/** One code in a check's answer (which flags decide a sale: permits.ts, `refusalOf`). */
const codeSchema = z.looseObject({
  cis: z.string().optional(),
  gtin: z.string().optional(),
  valid: z.boolean().optional(),
  found: z.boolean().optional(),
  verified: z.boolean().optional(),
  utilised: z.boolean().optional(),
  realizable: z.boolean().optional(),
  isBlocked: z.boolean().optional(),
  sold: z.boolean().optional(),
  grayZone: z.boolean().optional(),
  /** ISO date or date-time. */
  expireDate: z
    .string()
    .refine((text) => !Number.isNaN(Date.parse(text)), 'must be a date')
    .nullish(),
  errorCode: z.number().int().optional(),
  message: z.string().nullish(),
});

export type LocalModuleCode = z.output<typeof codeSchema>;

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** What 1265 may carry after `Inst=` and `Ver=` (src/agent/domain/marking.ts). */
const PERMIT_TOKEN = /^[0-9A-Za-z._-]{1,64}$/;

const resultSchema = z.looseObject({
  code: z.number().int(),
  description: z.string().nullish(),
  reqId: z.string().optional(),
  /** A number; one public client quotes an offline answer with it as a string of digits. */
  reqTimestamp: z
    .union([
      z.number().int(),
      z
        .string()
        .regex(/^\d{1,16}$/)
        .transform(Number),
    ])
    .optional(),
  inst: z.string().optional(),
  version: z.string().optional(),
  codes: z.array(codeSchema).optional(),
});

const v2Schema = z.looseObject({
  code: z.number().int().optional(),
  description: z.string().nullish(),
  results: z.array(z.unknown()).min(1),
});

/** A check the module made: its verdict per code is decided by `refusalOf` (permits.ts). */
export interface LocalModuleCheck {
  kind: 'checked';
  reqId: string;
  reqTimestamp: number;
  instance?: string;
  version?: string;
  code: LocalModuleCode;
}

/** The module answered, but with its own error instead of a check (`code` ≠ 0). */
export interface LocalModuleFailure {
  kind: 'moduleError';
  code: number;
  description: string;
}

export function parseStatus(body: unknown): LocalModuleStatus {
  const parsed = statusSchema.safeParse(body);
  if (!parsed.success) throw answerError('its status', parsed.error);
  const { status, operationMode, lastSync, requiresDownload, version } = parsed.data;
  return {
    status,
    ...(version !== undefined ? { version } : {}),
    ...(operationMode !== undefined ? { operationMode } : {}),
    ...(lastSync !== undefined ? { lastSyncMs: lastSync } : {}),
    ...(requiresDownload !== undefined ? { requiresDownload } : {}),
  };
}

/**
 * A check's answer: v1 is the result itself, v2 wraps it in `results` (one per request; the agent asks
 * one code at a time so each position gets its own permit).
 */
export function parseCheck(body: unknown, apiVersion: 1 | 2): LocalModuleCheck | LocalModuleFailure {
  let result: unknown = body;
  let prefix = '';
  if (apiVersion === 2) {
    const wrapper = v2Schema.safeParse(body);
    if (!wrapper.success) throw answerError('the check', wrapper.error);
    if (wrapper.data.code !== undefined && wrapper.data.code !== 0) {
      return { kind: 'moduleError', code: wrapper.data.code, description: wrapper.data.description ?? '' };
    }
    result = wrapper.data.results[0];
    prefix = 'results[0].';
  }
  const parsed = resultSchema.safeParse(result);
  if (!parsed.success) throw answerError('the check', parsed.error, prefix);
  const data = parsed.data;
  if (data.code !== 0) return { kind: 'moduleError', code: data.code, description: data.description ?? '' };
  const field = (name: string) => `${prefix}${name}`;
  if (data.reqId === undefined || !UUID.test(data.reqId)) {
    throw new LocalModuleAnswerError('the check', field('reqId'), 'expected the check request UUID');
  }
  if (data.reqTimestamp === undefined || data.reqTimestamp < 1_500_000_000_000) {
    throw new LocalModuleAnswerError(
      'the check',
      field('reqTimestamp'),
      'expected the check time in milliseconds since 1970',
    );
  }
  for (const name of ['inst', 'version'] as const) {
    const value = data[name];
    if (value !== undefined && !PERMIT_TOKEN.test(value)) {
      throw new LocalModuleAnswerError('the check', field(name), 'expected letters, digits, ".", "_" or "-"');
    }
  }
  if (data.codes?.length !== 1) {
    throw new LocalModuleAnswerError(
      'the check',
      field('codes'),
      `expected the one code asked about, got ${data.codes?.length ?? 'none'}`,
    );
  }
  return {
    kind: 'checked',
    reqId: data.reqId,
    reqTimestamp: data.reqTimestamp,
    // 1265 names an offline check's instance and version together, or neither.
    ...(data.inst && data.version ? { instance: data.inst, version: data.version } : {}),
    code: data.codes[0]!,
  };
}

function answerError(what: string, error: z.ZodError, prefix = ''): LocalModuleAnswerError {
  const issue = error.issues[0];
  const path = issue?.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') ?? '';
  const field = `${prefix}${path.replace(/^\./, '')}` || '(the answer)';
  return new LocalModuleAnswerError(what, field, issue?.message ?? 'unreadable');
}
