import type { AgentStatus } from '../agent.js';
import type { DeviceSnapshot } from '../devices/device.js';
import type { LocalModuleCondition } from '../devices/localModule/reportTypes.js';
import type { ReceiptKind } from '../domain/receiptKind.js';
import type { JobState } from '../jobs/job.js';
import type { LinkKind } from '../jobs/links.js';

/**
 * The state document: one JSON object with everything a dashboard needs about this box (R6), published
 * retained on `…/state` and POSTed to `state.postUrl`. Field reference: docs/mqtt.md, "State document".
 */
export interface StateDocument {
  schemaVersion: 1;
  /** The box's id (the MQTT device id, or the host name). */
  deviceId: string;
  generatedAt: string;
  agent: {
    version: string;
    startedAt: string;
    uptimeSeconds: number;
    /** The MQTT presence session (absent without MQTT). */
    session?: number;
    config: { version: number; source: 'file' | 'remote' };
    /** The process's memory: a fleet watches boxes age. */
    memory: { rssBytes: number; heapUsedBytes: number };
  };
  /** The database and the disk it is on. */
  storage: { databaseBytes: number; walBytes: number; freeDiskBytes: number };
  devices: DeviceState[];
  jobs: {
    counts: Record<JobState, number>;
    /** Jobs per receipt kind (sell, sellReturn, buy, … sellCorrection …), kinds never seen left out. */
    kinds: Partial<Record<ReceiptKind, number>>;
    /** Links between jobs per kind: returns, corrections, and the order ledgers (advance, offset, credit…). */
    links: Record<LinkKind, number>;
    blocked: number;
    blockedJobs: Array<{ id: string; deviceId: string; reason: string; since: string }>;
  };
  outbox: {
    sinks: Record<
      string,
      {
        depth: number;
        oldestPendingAt?: string;
        oldestAgeSeconds?: number;
        dead: number;
        lastError?: { code: string; message: string; at: string };
      }
    >;
    /** Reports no sink will take without a person (sum over sinks). */
    deadLetters: number;
  };
  connectors: Array<{
    name: string;
    online: boolean;
    lastSuccessAt?: string;
    lastError?: { code: string; message: string; at: string };
  }>;
  /** What a technician should act on (OFD backlog, FN expiry…), from the periodic checks. */
  alerts?: Array<{ code: string; device?: string; connector?: string; message: string; since: string }>;
  /** The agent's schedules with their next run. */
  schedules?: Array<{ name: string; cron: string; nextRun?: string; lastRun?: string; lastError?: string }>;
}

export interface DeviceState {
  id: string;
  kind: string;
  online: boolean;
  model?: string;
  serial?: string;
  firmware?: string;
  shift?: { state: 'closed' | 'open' | 'expired'; number?: number; openedAt?: string; expiresAt?: string };
  fn?: { serial?: string; validUntil?: string; warnings: string[] };
  ofd?: { unsentCount: number; oldestUnsentAt?: string };
  paper?: { present: boolean; nearEnd?: boolean };
  coverOpen?: boolean;
  lastDocument?: { number?: number; at?: string };
  /** The register has not answered since then, although its link was open. */
  notAnsweringSince?: string;
  lastError?: { code: string; message: string; at: string };
  /** The shop's local module of Честный ЗНАК as the agent last saw it (docs/marking.md, "Checking the module"). */
  localModule?: LocalModuleCondition;
}

export interface StateContext {
  deviceId: string;
  version: string;
  session?: number;
  config: { version: number; source: 'file' | 'remote' };
  now?: Date;
  uptimeSeconds?: number;
  alerts?: StateDocument['alerts'];
  schedules?: StateDocument['schedules'];
}

/** Drops undefined values so the document's JSON is what the object shows. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function deviceState(snapshot: DeviceSnapshot): DeviceState {
  const fn = snapshot.fn;
  return defined({
    id: snapshot.id,
    kind: snapshot.kind,
    online: snapshot.online,
    model: snapshot.model,
    serial: snapshot.serial,
    firmware: snapshot.firmware,
    shift: snapshot.shift && defined({ ...snapshot.shift }),
    fn: fn && defined({ serial: fn.serial, validUntil: fn.validUntil, warnings: fn.warnings ?? [] }),
    ofd: snapshot.ofd && defined({ ...snapshot.ofd }),
    paper: snapshot.paper && defined({ ...snapshot.paper }),
    coverOpen: snapshot.coverOpen,
    lastDocument:
      fn && (fn.lastDocumentNumber !== undefined || fn.lastDocumentAt !== undefined)
        ? defined({ number: fn.lastDocumentNumber, at: fn.lastDocumentAt })
        : undefined,
    notAnsweringSince: snapshot.notAnsweringSince,
    lastError: snapshot.lastError,
    localModule: snapshot.localModule && defined({ ...snapshot.localModule }),
  });
}

export function buildStateDocument(status: AgentStatus, context: StateContext): StateDocument {
  const now = context.now ?? new Date();
  const sinks: StateDocument['outbox']['sinks'] = {};
  let deadLetters = 0;
  for (const [name, stats] of Object.entries(status.outbox)) {
    deadLetters += stats.dead;
    sinks[name] = defined({
      depth: stats.pending,
      oldestPendingAt: stats.oldestPendingAt,
      oldestAgeSeconds:
        stats.oldestPendingAt === undefined
          ? undefined
          : Math.max(0, Math.round((now.getTime() - Date.parse(stats.oldestPendingAt)) / 1000)),
      dead: stats.dead,
      lastError: stats.lastError,
    });
  }
  return {
    schemaVersion: 1,
    deviceId: context.deviceId,
    generatedAt: now.toISOString(),
    agent: defined({
      version: context.version,
      startedAt: status.startedAt,
      uptimeSeconds:
        context.uptimeSeconds ?? Math.round((now.getTime() - Date.parse(status.startedAt)) / 1000),
      session: context.session,
      config: context.config,
      memory: { rssBytes: status.memory.rssBytes, heapUsedBytes: status.memory.heapUsedBytes },
    }),
    storage: {
      databaseBytes: status.storage.databaseBytes,
      walBytes: status.storage.walBytes,
      freeDiskBytes: status.storage.freeDiskBytes,
    },
    devices: status.devices.map(deviceState),
    jobs: {
      counts: status.jobs,
      kinds: status.kinds,
      links: status.links,
      blocked: status.blocked.length,
      blockedJobs: status.blocked.map((job) => ({
        id: job.id,
        deviceId: job.deviceId,
        reason: job.reason,
        since: job.updatedAt,
      })),
    },
    outbox: { sinks, deadLetters },
    connectors: status.connectors.map((c) =>
      defined({ name: c.name, online: c.online, lastSuccessAt: c.lastSuccessAt, lastError: c.lastError }),
    ),
    ...(context.alerts ? { alerts: context.alerts } : {}),
    ...(context.schedules ? { schedules: context.schedules } : {}),
  };
}

/** What changes by itself (clock, ages, uptime, memory, file sizes): not a reason to send the document. */
const DRIFTING_FIELDS = new Set([
  'generatedAt',
  'uptimeSeconds',
  'oldestAgeSeconds',
  'nextRun',
  'lastRun',
  'memory',
  'storage',
  // The local module's: asked at each marked sale, syncing by itself; its `state` says when it matters.
  'seenAt',
  'lastSyncAt',
]);

/** The document without what changes by itself: equal fingerprints, nothing new to say. */
export function stateFingerprint(doc: StateDocument): string {
  return JSON.stringify(doc, (key, value: unknown) => (DRIFTING_FIELDS.has(key) ? undefined : value));
}
