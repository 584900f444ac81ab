import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import type { DeviceSnapshot } from '../../src/agent/devices/device.js';
import { deviceAlerts, shiftNeedsClosing } from '../../src/agent/schedules/checks.js';
import { Scheduler } from '../../src/agent/schedules/scheduler.js';
import { schedulesSchema } from '../../src/agent/schedules/schema.js';
import { FakeDevice } from '../support/fakeDevice.js';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const openShift = (expiresInMinutes: number): DeviceSnapshot => ({
  id: 'kkt',
  kind: 'atol',
  online: true,
  shift: { state: 'open', number: 5, expiresAt: new Date(NOW + expiresInMinutes * 60_000).toISOString() },
});

describe('shift guard', () => {
  it('closes a shift within the margin before its 24 h limit, and an expired one', () => {
    expect(shiftNeedsClosing(openShift(10), NOW, 20)).toBe(true);
    expect(shiftNeedsClosing(openShift(30), NOW, 20)).toBe(false);
    expect(shiftNeedsClosing({ ...openShift(0), shift: { state: 'expired', number: 5 } }, NOW, 20)).toBe(
      true,
    );
    expect(shiftNeedsClosing({ ...openShift(10), shift: { state: 'closed', number: 5 } }, NOW, 20)).toBe(
      false,
    );
    expect(shiftNeedsClosing({ ...openShift(10), online: false }, NOW, 20)).toBe(false);
    expect(shiftNeedsClosing(openShift(10), NOW, 0)).toBe(false);
  });
});

describe('alerts', () => {
  const options = { ofdAlertDays: 3, fnExpiryWarnDays: 30 };

  it('raises an OFD backlog alert with the days left before the register blocks itself', () => {
    const snapshot: DeviceSnapshot = {
      id: 'kkt',
      kind: 'atol',
      online: true,
      ofd: { unsentCount: 12, oldestUnsentAt: new Date(NOW - 5 * 86_400_000).toISOString() },
    };
    const [alert] = deviceAlerts(snapshot, NOW, options);
    expect(alert).toMatchObject({ code: 'OFD_BACKLOG', device: 'kkt' });
    expect(alert?.message).toContain('in 25 day(s)');
    expect(
      deviceAlerts(
        { ...snapshot, ofd: { unsentCount: 12, oldestUnsentAt: new Date(NOW - 86_400_000).toISOString() } },
        NOW,
        options,
      ),
    ).toEqual([]);
  });

  it('warns before the FN expires', () => {
    const soon: DeviceSnapshot = {
      id: 'kkt',
      kind: 'atol',
      online: true,
      fn: { validUntil: new Date(NOW + 10 * 86_400_000).toISOString().slice(0, 10) },
    };
    expect(deviceAlerts(soon, NOW, options).map((a) => a.code)).toEqual(['FN_EXPIRING']);
    const later: DeviceSnapshot = {
      ...soon,
      fn: { validUntil: new Date(NOW + 300 * 86_400_000).toISOString().slice(0, 10) },
    };
    expect(deviceAlerts(later, NOW, options)).toEqual([]);
  });
});

describe('scheduler under a fake clock', () => {
  let dir: string;
  let agent: Agent;
  let device: FakeDevice;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kkt-schedules-'));
    device = new FakeDevice('kkt');
    agent = await Agent.open({
      dataDir: dir,
      logger: pino({ level: 'silent' }),
      devices: [device],
      connectors: [],
      router: () => 'kkt',
    });
  });

  afterEach(async () => {
    vi.useRealTimers();
    await agent.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the Z report at the configured local time of the configured zone', async () => {
    let snapshotShift: DeviceSnapshot['shift'] = { state: 'open', number: 5 };
    device.snapshot = async () => ({ id: 'kkt', kind: 'fake', online: true, shift: snapshotShift });
    const closed: string[] = [];
    device.closeShift = async () => {
      closed.push(new Date().toISOString());
      snapshotShift = { state: 'closed', number: 5 };
      return { shiftNumber: 5, dateTime: '', dateTimeUtc: '' };
    };
    // 23:50 in Moscow (UTC+3); the Z report is due at 23:55 Moscow time, 20:55 UTC.
    vi.useFakeTimers({ now: new Date('2026-11-22T20:50:00Z') });
    const config = schedulesSchema.parse({
      zReport: '55 23 * * *',
      checks: '0 0 1 1 *',
      compaction: null,
    });
    const scheduler = new Scheduler(agent, config, 'Europe/Moscow', pino({ level: 'silent' }));
    scheduler.start();
    expect(scheduler.describe().find((s) => s.name === 'zReport')?.nextRun).toBe('2026-11-22T20:55:00.000Z');
    await vi.advanceTimersByTimeAsync(4 * 60_000);
    expect(closed).toEqual([]);
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    expect(closed).toHaveLength(1);
    expect(closed[0]!.slice(0, 16)).toBe('2026-11-22T20:55');
    await scheduler.stop();
  });

  it('closes a shift before its 24 h limit on the periodic check, and raises alerts', async () => {
    const expiresAt = new Date(Date.parse('2026-11-22T10:15:00Z')).toISOString();
    let shift: DeviceSnapshot['shift'] = { state: 'open', number: 9, expiresAt };
    device.snapshot = async () => ({
      id: 'kkt',
      kind: 'fake',
      online: true,
      shift,
      ofd: { unsentCount: 3, oldestUnsentAt: '2026-11-10T00:00:00Z' },
    });
    let closes = 0;
    device.closeShift = async () => {
      closes++;
      shift = { state: 'closed', number: 9 };
      return { shiftNumber: 9, dateTime: '', dateTimeUtc: '' };
    };
    vi.useFakeTimers({ now: new Date('2026-11-22T09:41:00Z') });
    const config = schedulesSchema.parse({
      zReport: null,
      checks: '*/5 * * * *',
      compaction: null,
      closeBeforeExpiryMinutes: 20,
    });
    const scheduler = new Scheduler(agent, config, 'UTC', pino({ level: 'silent' }));
    scheduler.start();
    await vi.advanceTimersByTimeAsync(5 * 60_000); // 09:45: 30 min left, not yet
    expect(closes).toBe(0);
    expect(scheduler.alerts.map((a) => a.code)).toEqual(['OFD_BACKLOG']);
    await vi.advanceTimersByTimeAsync(5 * 60_000); // 09:50: 25 min left
    expect(closes).toBe(0);
    await vi.advanceTimersByTimeAsync(5 * 60_000); // 09:55: 20 min left: close
    expect(closes).toBe(1);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(closes).toBe(1);
    await scheduler.stop();
  });
});
