import type { AgentStatus } from '../agent/agent.js';
import type { LocalModuleCondition } from '../agent/devices/localModule/reportTypes.js';
import { age, bytes, keyValues, table } from './format.js';

type StatusAnswer = AgentStatus & { version: string; uptimeSeconds: number; [extra: string]: unknown };

/** The `status` answer as a technician reads it: what is wrong first, then the details. */
export function renderStatus(status: StatusAnswer, now = Date.now()): string {
  const out: string[] = [];
  const problems = findProblems(status, now);
  out.push(
    problems.length === 0
      ? 'OK: nothing needs attention.'
      : `ATTENTION (${problems.length}):\n${problems.map((p) => `  ! ${p}`).join('\n')}`,
  );
  out.push('');
  out.push(
    keyValues([
      [
        'agent',
        `kkt-agent ${status.version}, up ${age(new Date(now - status.uptimeSeconds * 1000).toISOString(), now)}`,
      ],
      [
        'jobs',
        Object.entries(status.jobs)
          .filter(([, n]) => n > 0)
          .map(([state, n]) => `${state} ${n}`)
          .join(', ') || 'none',
      ],
      [
        'store',
        status.storage &&
          `${status.storage.path} ${bytes(status.storage.databaseBytes)}` +
            (status.storage.walBytes > 0 ? ` (+ WAL ${bytes(status.storage.walBytes)})` : '') +
            `, ${bytes(status.storage.freeDiskBytes)} free on its disk`,
      ],
      [
        'memory',
        status.memory &&
          `RSS ${bytes(status.memory.rssBytes)}, heap in use ${bytes(status.memory.heapUsedBytes)}`,
      ],
    ]),
  );
  for (const device of status.devices) {
    out.push('');
    const silent = device.notAnsweringSince ? `, not answering since ${device.notAnsweringSince}` : '';
    out.push(`Device ${device.id} (${device.kind}) — ${device.online ? 'online' : 'OFFLINE'}${silent}`);
    out.push(
      keyValues([
        [
          '  model',
          [
            device.model,
            device.serial && `serial ${device.serial}`,
            device.firmware && `fw ${device.firmware}`,
          ]
            .filter(Boolean)
            .join(', '),
        ],
        [
          '  shift',
          device.shift &&
            `${device.shift.state}${device.shift.number !== undefined ? ` #${device.shift.number}` : ''}${device.shift.expiresAt ? `, expires ${device.shift.expiresAt}` : ''}`,
        ],
        [
          '  FN',
          device.fn &&
            [
              device.fn.serial,
              device.fn.validUntil && `valid until ${device.fn.validUntil}`,
              device.fn.warnings?.length ? `warnings: ${device.fn.warnings.join(', ')}` : undefined,
            ]
              .filter(Boolean)
              .join(', '),
        ],
        [
          '  last FD',
          device.fn?.lastDocumentNumber !== undefined
            ? `${device.fn.lastDocumentNumber} at ${device.fn.lastDocumentAt ?? '?'}`
            : undefined,
        ],
        [
          '  OFD backlog',
          device.ofd &&
            (device.ofd.unsentCount === 0
              ? 'none'
              : `${device.ofd.unsentCount} unsent, oldest ${device.ofd.oldestUnsentAt}`),
        ],
        [
          '  paper',
          device.paper && (device.paper.present ? (device.paper.nearEnd ? 'near end' : 'ok') : 'OUT'),
        ],
        ['  cover', device.coverOpen === undefined ? undefined : device.coverOpen ? 'OPEN' : 'closed'],
        ['  last error', device.lastError && `${device.lastError.code}: ${device.lastError.message}`],
        ['  local module', device.localModule && localModuleLine(device.localModule, now)],
      ]),
    );
  }
  const sinks = Object.entries(status.outbox);
  if (sinks.length > 0) {
    out.push('');
    out.push('Outbox');
    out.push(
      table(
        ['sink', 'pending', 'oldest', 'dead', 'delivered', 'last error'],
        sinks.map(([name, s]) => [
          name,
          s.pending,
          age(s.oldestPendingAt, now),
          s.dead,
          s.delivered,
          s.lastError?.message,
        ]),
      ),
    );
  }
  if (status.connectors.length > 0) {
    out.push('');
    out.push('Connectors');
    out.push(
      table(
        ['connector', 'online', 'last success', 'last error'],
        status.connectors.map((c) => [
          c.name,
          c.online ? 'yes' : 'NO',
          age(c.lastSuccessAt, now),
          c.lastError?.message,
        ]),
      ),
    );
  }
  if (status.blocked.length > 0) {
    out.push('');
    out.push('Blocked jobs (resolve: kkt-agent jobs resolve <id> --printed | --not-printed)');
    out.push(
      table(
        ['job', 'bill', 'since', 'why'],
        status.blocked.map((b) => [b.id, b.key, age(b.updatedAt, now), b.reason]),
      ),
    );
  }
  // Older agents answer without `failed`.
  const failed = status.failed ?? [];
  if (failed.length > 0) {
    out.push('');
    out.push('Failed jobs, latest first (nothing was printed for them; kkt-agent jobs show <id>)');
    out.push(
      table(
        ['job', 'bill', 'when', 'code', 'why'],
        failed.map((f) => [f.id, f.key, age(f.updatedAt, now), f.code, f.reason]),
      ),
    );
  }
  return out.join('\n');
}

/** What each condition of the local module of Честный ЗНАК reads as (docs/marking.md, "Checking the module"). */
const LOCAL_MODULE_STATES: Record<LocalModuleCondition['state'], string> = {
  ready: 'ready',
  notReady: 'NOT READY',
  staleSync: 'SYNC STALE',
  unreachable: 'UNREACHABLE',
  credentialsRefused: 'CREDENTIALS REFUSED',
  credentialsUnusable: 'CREDENTIALS FILE UNUSABLE',
  answerInvalid: 'ANSWER UNREADABLE',
};

/** The module's last known condition in one line: its state, its own facts, when the agent last asked. */
function localModuleLine(condition: LocalModuleCondition, now: number): string {
  return [
    `${LOCAL_MODULE_STATES[condition.state] ?? condition.state}${condition.reason ? ` (${condition.reason})` : ''}`,
    condition.lastSyncAt && `last sync ${age(condition.lastSyncAt, now)} ago`,
    condition.version && `version ${condition.version}`,
    `seen ${age(condition.seenAt, now)} ago at ${condition.url}`,
  ]
    .filter(Boolean)
    .join(', ');
}

function findProblems(status: StatusAnswer, now: number): string[] {
  const problems: string[] = [];
  for (const d of status.devices) {
    if (d.notAnsweringSince)
      problems.push(
        `device ${d.id} is not answering since ${d.notAnsweringSince} (${d.online ? 'still connected' : 'its link is being reopened'})`,
      );
    else if (!d.online)
      problems.push(`device ${d.id} is offline${d.lastError ? `: ${d.lastError.message}` : ''}`);
    if (d.paper && !d.paper.present) problems.push(`device ${d.id}: out of paper`);
    if (d.coverOpen) problems.push(`device ${d.id}: cover open`);
    if (d.localModule && d.localModule.state !== 'ready')
      problems.push(
        `device ${d.id}: the local module of Честный ЗНАК was ${LOCAL_MODULE_STATES[d.localModule.state]?.toLowerCase() ?? d.localModule.state} when last asked (${age(d.localModule.seenAt, now)} ago${d.localModule.reason ? `: ${d.localModule.reason}` : ''}); kkt-agent doctor shows what to do`,
      );
    if (d.shift?.state === 'expired')
      problems.push(`device ${d.id}: shift older than 24 h, close it (kkt-agent shift close)`);
  }
  // OFD backlog and FN expiry come from the agent's periodic checks, with the configured thresholds.
  for (const alert of (status.alerts as Array<{ message: string }> | undefined) ?? [])
    problems.push(alert.message);
  if (status.blocked.length > 0)
    problems.push(`${status.blocked.length} job(s) blocked, waiting for a decision`);
  for (const [name, s] of Object.entries(status.outbox))
    if (s.dead > 0)
      problems.push(`${s.dead} report(s) to ${name} rejected for good (kkt-agent outbox list --state dead)`);
  for (const c of status.connectors)
    if (!c.online)
      problems.push(`connector ${c.name} is offline${c.lastError ? `: ${c.lastError.message}` : ''}`);
  return problems;
}
