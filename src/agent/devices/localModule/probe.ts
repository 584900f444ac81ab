import type { ErrorCode, KktAgentError } from '../../../lib/errors.js';
import type { LocalModuleStatus } from './answers.js';
import type { LocalModuleClient, LocalModuleReply } from './client.js';
import { type LocalModuleWatch, readinessFault, syncFault } from './condition.js';
import type { LocalModuleConfig } from './config.js';
import { LocalModuleError } from './localModuleError.js';
import type {
  LocalModuleCheckName,
  LocalModuleCondition,
  LocalModuleProbeLine,
  LocalModuleReport,
} from './reportTypes.js';

/**
 * `kkt-agent doctor`'s look at the shop's local module of Честный ЗНАК (docs/marking.md, "Checking the
 * module"): one status request, read as five lines a technician takes in at a glance (reachable,
 * credentials, status, last sync, version), each failure with its code and what to do.
 */

const HOUR_MS = 3_600_000;
const SEE = 'docs/marking.md, "Checking the module"';

/** What a technician does about each status the module may report (FMU's enum, protocol note §3). */
const WHAT_TO_DO_PER_STATUS: Record<string, string> = {
  not_configured: `it is not initialised: initialise it once with the shop's ГИС МТ token (docs/marking.md, "Initialising the module"), then run doctor again`,
  initialization: `it is initialising or loading its database from Честный ЗНАК: keep its internet up and run doctor again later; if it stays so for hours, initialise it again (docs/marking.md, "Initialising the module")`,
  sync_error: `its last sync with Честный ЗНАК failed: check the module's internet access; if it persists, initialise it again (docs/marking.md, "Initialising the module")`,
};

export interface LocalModuleDoctorOptions {
  client: Pick<LocalModuleClient, 'status'>;
  config: Pick<
    LocalModuleConfig,
    'url' | 'apiVersion' | 'enabled' | 'credentialsFile' | 'timeoutMs' | 'maxSyncAgeHours'
  >;
  watch?: LocalModuleWatch;
  now?: () => number;
}

export class LocalModuleDoctor {
  private readonly now: () => number;

  constructor(private readonly options: LocalModuleDoctorOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The module as last seen by a sale or a doctor run (for `status`). */
  get condition(): LocalModuleCondition | undefined {
    return this.options.watch?.condition;
  }

  async probe(): Promise<LocalModuleReport> {
    const { config } = this.options;
    const startedMs = performance.now();
    let reply: LocalModuleReply<LocalModuleStatus> | undefined;
    let failure: KktAgentError | undefined;
    try {
      reply = await this.options.client.status();
    } catch (error) {
      if (!(error instanceof LocalModuleError)) throw error;
      failure = error;
    }
    const elapsedMs = Math.round(performance.now() - startedMs);
    const lines = reply ? this.linesOf(reply, elapsedMs) : this.linesOfFailure(failure!, elapsedMs);
    return { url: config.url, apiVersion: config.apiVersion, enabled: config.enabled, lines };
  }

  private linesOf(reply: LocalModuleReply<LocalModuleStatus>, elapsedMs: number): LocalModuleProbeLine[] {
    const { config, watch } = this.options;
    if (reply.kind === 'unavailable' && reply.httpStatus === undefined) {
      watch?.note('unreachable', { reason: reply.reason });
      return [
        failed(
          'reachable',
          `${config.url}: ${reply.reason}`,
          'MARKING_LM_UNREACHABLE',
          `check that the module's service runs, that localModule.url (host and port, 5995 by default) is its address, and that this box reaches it; a sale waits localModule.timeoutMs (${config.timeoutMs} ms) for it`,
        ),
        ...notAsked('credentials', 'status', 'sync', 'version'),
      ];
    }
    const reached = ok('reachable', `${config.url} answered in ${elapsedMs} ms`);
    if (reply.kind === 'unavailable') {
      watch?.note('notReady', { reason: `it answered ${reply.reason}` });
      return [
        reached,
        skipped('credentials', `not confirmed: it answered HTTP ${reply.httpStatus}`),
        failed(
          'status',
          `it answered ${reply.reason} instead of its status`,
          'MARKING_LM_NOT_READY',
          'the module itself is failing: look at its own log and restart its service, then run doctor again',
        ),
        ...notAsked('sync', 'version'),
      ];
    }
    const status = reply.value;
    const nowMs = this.now();
    const notReady = readinessFault(status);
    const stale = syncFault(status, config.maxSyncAgeHours, nowMs);
    watch?.noteStatus(status, notReady ?? stale, new Date(nowMs));
    const lines = [reached, ok('credentials', `accepted (${config.credentialsFile})`)];
    const described = `${status.status}${status.operationMode ? ` (${status.operationMode} mode)` : ''}${status.requiresDownload ? ', its database must be downloaded again' : ''}`;
    lines.push(
      notReady
        ? failed('status', described, 'MARKING_LM_NOT_READY', statusTodo(status))
        : ok('status', described),
    );
    const lastSync = status.lastSyncMs
      ? `last sync ${describeAge(nowMs - status.lastSyncMs)} (${new Date(status.lastSyncMs).toISOString()}), at most ${config.maxSyncAgeHours} h allowed`
      : undefined;
    lines.push(
      stale
        ? failed(
            'sync',
            lastSync ?? 'it does not say when it last synced with Честный ЗНАК',
            'MARKING_LM_SYNC_STALE',
            `it has not synced with Честный ЗНАК within localModule.maxSyncAgeHours (the module blocks itself after 72 h): check its internet access; until it syncs, marked sales are refused (or sold without a permit if whenUnavailable is sellWithoutPermit)`,
          )
        : ok('sync', lastSync!),
    );
    lines.push(
      status.version !== undefined
        ? ok('version', status.version)
        : skipped('version', 'its status answer does not carry one'),
    );
    return lines;
  }

  private linesOfFailure(error: KktAgentError, elapsedMs: number): LocalModuleProbeLine[] {
    const { config, watch } = this.options;
    watch?.noteError(error);
    if (error.code === 'MARKING_LM_CREDENTIALS') {
      return [
        skipped('reachable', 'not asked: the credentials file cannot be used'),
        failed(
          'credentials',
          error.message,
          error.code,
          `write the module's login and password (set when it was installed) into ${config.credentialsFile} as {"username": "…", "password": "…"}, owned by the agent's user, mode 0600`,
        ),
        ...notAsked('status', 'sync', 'version'),
      ];
    }
    const reached = ok('reachable', `${config.url} answered in ${elapsedMs} ms`);
    if (error.code === 'MARKING_LM_AUTH_FAILED') {
      const httpStatus = (error.details as { statusCode?: number }).statusCode;
      return [
        reached,
        failed(
          'credentials',
          `the module refused the login in ${config.credentialsFile} (HTTP ${httpStatus})`,
          error.code,
          `put the login and password set when the module was installed into ${config.credentialsFile}; the agent reads it at each request, no restart needed`,
        ),
        ...notAsked('status', 'sync', 'version'),
      ];
    }
    // MARKING_LM_ANSWER_INVALID: a wrong path or version (404…), or an answer that is not its status.
    const wrongPath = (error.details as { field?: string }).field === 'HTTP status';
    return [
      reached,
      wrongPath
        ? skipped('credentials', 'not confirmed: the status request was not understood')
        : ok('credentials', `accepted (${config.credentialsFile})`),
      failed(
        'status',
        error.message,
        error.code,
        `check that localModule.url is the module itself (not a proxy or another service) and that apiVersion (${config.apiVersion}) is what it speaks: 1 for /api/v1, 2 for /api/v2 (module 2.x)`,
      ),
      ...notAsked('sync', 'version'),
    ];
  }
}

function ok(check: LocalModuleCheckName, text: string): LocalModuleProbeLine {
  return { check, verdict: 'ok', text };
}

function skipped(check: LocalModuleCheckName, text: string): LocalModuleProbeLine {
  return { check, verdict: 'skipped', text };
}

function failed(
  check: LocalModuleCheckName,
  text: string,
  code: ErrorCode,
  todo: string,
): LocalModuleProbeLine {
  return { check, verdict: 'failed', text, error: { code, message: text }, todo: `${todo} (${SEE})` };
}

function notAsked(...checks: LocalModuleCheckName[]): LocalModuleProbeLine[] {
  return checks.map((check) => skipped(check, 'not known'));
}

function statusTodo(status: LocalModuleStatus): string {
  const word = status.status.toLowerCase();
  if (word !== 'ready') {
    return (
      WHAT_TO_DO_PER_STATUS[word] ??
      `it reports a status the agent does not know: look at the module's own page and log; sales ask it only when it says ready`
    );
  }
  if (status.operationMode !== undefined && status.operationMode.toLowerCase() !== 'active') {
    return 'it is in service mode (updating itself): wait and run doctor again';
  }
  return 'it must download its database again: keep its internet up and run doctor again later';
}

/** "12 min ago", "5 h ago", "4 d 2 h ago": an age a technician reads against a limit in hours. */
export function describeAge(ageMs: number): string {
  if (ageMs < 0) return "later than this box's clock (check both clocks)";
  if (ageMs < HOUR_MS) return `${Math.floor(ageMs / 60_000)} min ago`;
  const hours = Math.floor(ageMs / HOUR_MS);
  return `${hours < 48 ? `${hours} h` : `${Math.floor(hours / 24)} d ${hours % 24} h`} ago`;
}
