import { describe, expect, it } from 'vitest';
import type { AgentStatus } from '../agent.js';
import { buildStateDocument, stateFingerprint } from './document.js';

const status: AgentStatus = {
  startedAt: '2026-11-22T07:00:00.000Z',
  devices: [
    {
      id: 'kkt1',
      kind: 'atol',
      online: true,
      model: 'ATOL 30F',
      serial: '00106712345678',
      firmware: '5.8.100',
      shift: {
        state: 'open',
        number: 12,
        openedAt: '2026-11-22T08:00:00+03:00',
        expiresAt: '2026-11-23T08:00:00+03:00',
      },
      fn: {
        serial: '9960440300123456',
        validUntil: '2027-10-01',
        warnings: ['fn-nearly-full'],
        lastDocumentNumber: 4711,
        lastDocumentAt: '2026-11-22T10:00:00+03:00',
      },
      ofd: { unsentCount: 3, oldestUnsentAt: '2026-11-22T09:00:00+03:00' },
      paper: { present: true, nearEnd: false },
      coverOpen: false,
    },
  ],
  jobs: { RECEIVED: 1, PRINTING: 0, FISCALIZED: 0, REPORTED: 5, FAILED: 0, BLOCKED: 1 },
  kinds: { sell: 5, sellReturn: 1, sellCorrection: 1 },
  links: {
    return: 1,
    correction: 1,
    advance: 0,
    advanceReturn: 0,
    offset: 0,
    credit: 0,
    creditPayment: 0,
  },
  failed: [],
  blocked: [
    {
      id: 'j9',
      key: 'bridge/a/9',
      deviceId: 'kkt1',
      updatedAt: '2026-11-22T09:30:00.000Z',
      reason: 'lost answer',
    },
  ],
  outbox: {
    mqtt: { pending: 2, dead: 1, delivered: 9, attempts: 4, oldestPendingAt: '2026-11-22T09:59:00.000Z' },
    'bridge:a': { pending: 0, dead: 0, delivered: 5, attempts: 0 },
  },
  connectors: [
    { name: 'bridge:a', online: true, lastSuccessAt: '2026-11-22T09:59:30.000Z', details: { secretish: 1 } },
  ],
  storage: {
    path: '/var/lib/kkt-agent/agent.db',
    databaseBytes: 4096 * 300,
    walBytes: 8192,
    freeDiskBytes: 2 ** 30,
  },
  memory: { rssBytes: 70 * 2 ** 20, heapUsedBytes: 20 * 2 ** 20 },
  recovery: {
    origin: 'upgraded',
    rebuild: 'not-needed',
    since: '2026-11-01T00:00:00.000Z',
    devices: [],
    receipts: { found: 0, taken: 0 },
  },
};

describe('buildStateDocument', () => {
  it('maps the agent status onto the state document', () => {
    const doc = buildStateDocument(status, {
      deviceId: 'box-1',
      version: '1.2.3',
      session: 7,
      config: { version: 4, source: 'remote' },
      now: new Date('2026-11-22T10:00:00.000Z'),
    });
    expect(doc).toEqual({
      schemaVersion: 1,
      deviceId: 'box-1',
      generatedAt: '2026-11-22T10:00:00.000Z',
      agent: {
        version: '1.2.3',
        startedAt: status.startedAt,
        uptimeSeconds: 10_800,
        session: 7,
        config: { version: 4, source: 'remote' },
        memory: { rssBytes: 70 * 2 ** 20, heapUsedBytes: 20 * 2 ** 20 },
      },
      storage: { databaseBytes: 4096 * 300, walBytes: 8192, freeDiskBytes: 2 ** 30 },
      devices: [
        {
          id: 'kkt1',
          kind: 'atol',
          online: true,
          model: 'ATOL 30F',
          serial: '00106712345678',
          firmware: '5.8.100',
          shift: {
            state: 'open',
            number: 12,
            openedAt: '2026-11-22T08:00:00+03:00',
            expiresAt: '2026-11-23T08:00:00+03:00',
          },
          fn: { serial: '9960440300123456', validUntil: '2027-10-01', warnings: ['fn-nearly-full'] },
          ofd: { unsentCount: 3, oldestUnsentAt: '2026-11-22T09:00:00+03:00' },
          paper: { present: true, nearEnd: false },
          coverOpen: false,
          lastDocument: { number: 4711, at: '2026-11-22T10:00:00+03:00' },
        },
      ],
      jobs: {
        counts: status.jobs,
        kinds: { sell: 5, sellReturn: 1, sellCorrection: 1 },
        links: status.links,
        blocked: 1,
        blockedJobs: [
          { id: 'j9', deviceId: 'kkt1', reason: 'lost answer', since: '2026-11-22T09:30:00.000Z' },
        ],
      },
      outbox: {
        sinks: {
          mqtt: { depth: 2, oldestPendingAt: '2026-11-22T09:59:00.000Z', oldestAgeSeconds: 60, dead: 1 },
          'bridge:a': { depth: 0, dead: 0 },
        },
        deadLetters: 1,
      },
      connectors: [{ name: 'bridge:a', online: true, lastSuccessAt: '2026-11-22T09:59:30.000Z' }],
    });
  });

  it('has a fingerprint that ignores clocks but not content', () => {
    const context = { deviceId: 'b', version: '1', config: { version: 0, source: 'file' as const } };
    const a = buildStateDocument(status, { ...context, now: new Date('2026-11-22T10:00:00Z') });
    const later = buildStateDocument(status, { ...context, now: new Date('2026-11-22T10:05:00Z') });
    const changed = buildStateDocument({ ...status, jobs: { ...status.jobs, REPORTED: 6 } }, context);
    const grown = buildStateDocument(
      {
        ...status,
        memory: { rssBytes: 71 * 2 ** 20, heapUsedBytes: 21 * 2 ** 20 },
        storage: { ...status.storage, databaseBytes: 4096 * 301 },
      },
      { ...context, now: new Date('2026-11-22T10:00:00Z') },
    );
    expect(stateFingerprint(later)).toBe(stateFingerprint(a));
    expect(stateFingerprint(grown)).toBe(stateFingerprint(a));
    expect(stateFingerprint(changed)).not.toBe(stateFingerprint(a));
  });

  it("carries the local module's last condition; a new sighting of the same condition is not news", () => {
    const context = { deviceId: 'b', version: '1', config: { version: 0, source: 'file' as const } };
    const withModule = (condition: NonNullable<AgentStatus['devices'][number]['localModule']>) =>
      buildStateDocument(
        { ...status, devices: [{ ...status.devices[0]!, kind: 'atol-web', localModule: condition }] },
        { ...context, now: new Date('2026-11-22T10:00:00Z') },
      );
    const seen = {
      state: 'ready' as const,
      seenAt: '2026-11-22T09:58:00.000Z',
      url: 'http://127.0.0.1:5995',
      status: 'ready',
      lastSyncAt: '2026-11-22T09:00:00.000Z',
      version: '1.4.1',
    };
    const ready = withModule(seen);
    expect(ready.devices[0]!.localModule).toEqual(seen);
    const again = withModule({
      ...seen,
      seenAt: '2026-11-22T09:59:00.000Z',
      lastSyncAt: '2026-11-22T09:30:00.000Z',
    });
    expect(stateFingerprint(again)).toBe(stateFingerprint(ready));
    const down = withModule({
      state: 'unreachable',
      seenAt: seen.seenAt,
      url: seen.url,
      reason: 'unreachable (ECONNREFUSED)',
    });
    expect(stateFingerprint(down)).not.toBe(stateFingerprint(ready));
  });
});
