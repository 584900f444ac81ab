import type { ErrorCode } from '../../../lib/errors.js';
import type { LocalModuleStatus } from './answers.js';
import type { LocalModuleCondition, LocalModuleState } from './reportTypes.js';

/**
 * How the shop's local module of Честный ЗНАК stands, as the agent last saw it (a sale's status request or
 * a doctor run): the one reading of its status answer that the sale's offline rule and the doctor share
 * (docs/protocol/chestny-znak-local-module.md §3), and the last condition the device's snapshot shows in
 * `status` and the state document (docs/marking.md, "Checking the module").
 */

const HOUR_MS = 3_600_000;

/** What is wrong with a status answer the module gave, with the code the doctor shows for it. */
export interface StatusFault {
  code: Extract<ErrorCode, 'MARKING_LM_NOT_READY' | 'MARKING_LM_SYNC_STALE'>;
  reason: string;
}

/** Why a module that answered its status cannot check codes now, or undefined when it is ready and fresh. */
export function statusFault(
  status: LocalModuleStatus,
  maxSyncAgeHours: number,
  nowMs: number,
): StatusFault | undefined {
  return readinessFault(status) ?? syncFault(status, maxSyncAgeHours, nowMs);
}

/** `status` must be `ready`, the mode `active`, no new database download pending. */
export function readinessFault(status: LocalModuleStatus): StatusFault | undefined {
  const notReady = (reason: string): StatusFault => ({ code: 'MARKING_LM_NOT_READY', reason });
  if (status.status.toLowerCase() !== 'ready') return notReady(`its status is ${status.status}`);
  if (status.operationMode !== undefined && status.operationMode.toLowerCase() !== 'active') {
    return notReady(`it is in ${status.operationMode} mode`);
  }
  if (status.requiresDownload === true) return notReady('its database must be downloaded again');
  return undefined;
}

/** The last sync with Честный ЗНАК must be known and no older than `maxSyncAgeHours`. */
export function syncFault(
  status: LocalModuleStatus,
  maxSyncAgeHours: number,
  nowMs: number,
): StatusFault | undefined {
  if (status.lastSyncMs === undefined || status.lastSyncMs === 0) {
    return {
      code: 'MARKING_LM_SYNC_STALE',
      reason: 'it does not say when it last synced with Честный ЗНАК',
    };
  }
  const ageMs = nowMs - status.lastSyncMs;
  if (ageMs > maxSyncAgeHours * HOUR_MS) {
    return {
      code: 'MARKING_LM_SYNC_STALE',
      reason: `its last sync with Честный ЗНАК was ${Math.floor(ageMs / HOUR_MS)} h ago (at most ${maxSyncAgeHours} h)`,
    };
  }
  return undefined;
}

/** Keeps the module's last condition; the sale's check and the doctor write it, the snapshot reads it. */
export class LocalModuleWatch {
  private last: LocalModuleCondition | undefined;

  constructor(
    readonly url: string,
    private readonly credentialsFile: string,
  ) {}

  get condition(): LocalModuleCondition | undefined {
    return this.last;
  }

  note(
    state: LocalModuleState,
    facts: Omit<LocalModuleCondition, 'state' | 'seenAt' | 'url'> = {},
    at: Date = new Date(),
  ): void {
    this.last = { state, seenAt: at.toISOString(), url: this.url, ...facts };
  }

  /** A request failed with a typed error of the module (credentials, unreadable answer); others are ignored. */
  noteError(error: { code: string; message: string; details?: Record<string, unknown> }): void {
    const state = conditionOfError(error);
    if (!state) return;
    const reason =
      state === 'credentialsRefused'
        ? `HTTP ${String(error.details?.statusCode ?? 401)} for the login in ${this.credentialsFile}`
        : error.message;
    this.note(state, { reason });
  }

  /** The module answered its status: its own facts, and whether it can check codes. */
  noteStatus(status: LocalModuleStatus, fault: StatusFault | undefined, at: Date = new Date()): void {
    const facts = {
      status: status.status,
      ...(status.lastSyncMs ? { lastSyncAt: new Date(status.lastSyncMs).toISOString() } : {}),
      ...(status.version !== undefined ? { version: status.version } : {}),
      ...(fault ? { reason: fault.reason } : {}),
    };
    const state = !fault ? 'ready' : fault.code === 'MARKING_LM_SYNC_STALE' ? 'staleSync' : 'notReady';
    this.note(state, facts, at);
  }
}

/** The condition a typed failure of a request to the module shows, or undefined for any other error. */
export function conditionOfError(error: { code: string }): LocalModuleState | undefined {
  switch (error.code) {
    case 'MARKING_LM_AUTH_FAILED':
      return 'credentialsRefused';
    case 'MARKING_LM_CREDENTIALS':
      return 'credentialsUnusable';
    case 'MARKING_LM_ANSWER_INVALID':
      return 'answerInvalid';
    default:
      return undefined;
  }
}
