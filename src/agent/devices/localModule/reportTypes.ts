import type { ErrorCode } from '../../../lib/errors.js';

/**
 * What the local module of Честный ЗНАК looks like to the rest of the agent: the doctor's lines about it
 * (probe.ts) and its last known condition (condition.ts), which the device room's report and snapshot
 * types carry. Types only, so that those types need nothing else of the module's code.
 */

/** The module's condition in one word. */
export type LocalModuleState =
  | 'ready'
  | 'notReady'
  | 'staleSync'
  | 'unreachable'
  | 'credentialsRefused'
  | 'credentialsUnusable'
  | 'answerInvalid';

/** What `status` and the state document show of the module (absent until the agent first asked it). */
export interface LocalModuleCondition {
  state: LocalModuleState;
  /** When the agent last asked it (ISO 8601, UTC). */
  seenAt: string;
  url: string;
  /** What went wrong, as the doctor's line says it (absent when ready). */
  reason?: string;
  /** The module's own status word, last sync and version, when its status answer carried them. */
  status?: string;
  lastSyncAt?: string;
  version?: string;
}

export type LocalModuleCheckName = 'reachable' | 'credentials' | 'status' | 'sync' | 'version';

export interface LocalModuleProbeLine {
  check: LocalModuleCheckName;
  /** `skipped`: not known, because an earlier line failed or the answer does not say. */
  verdict: 'ok' | 'failed' | 'skipped';
  text: string;
  error?: { code: ErrorCode; message: string };
  /** What to do about a failure. */
  todo?: string;
}

/** The doctor report's part about the module (`DoctorReport.localModule`). */
export interface LocalModuleReport {
  url: string;
  apiVersion: 1 | 2;
  /** `localModule.enabled`: whether sales ask it (the doctor looks at it either way). */
  enabled: boolean;
  lines: LocalModuleProbeLine[];
}
