import { describe, expect, it } from 'vitest';
import { buildStateBody, stateFingerprint } from './state.js';

const environment = {
  deviceName: 'pi',
  os: 'Linux 6.1',
  softwareVersion: '1.0.0',
  timeZone: 'Europe/Moscow',
};

describe('POST /state body', () => {
  it('always carries the required fields, even without a device', () => {
    const body = buildStateBody(undefined, environment, {
      message: 'OK',
      lastAttemptAt: '2026-11-22T07:00:00Z',
    });
    expect(body).toEqual({
      environment: {
        device: 'pi',
        os: 'Linux 6.1',
        software: { name: 'kkt-agent', vendor: 'kkt-agent', version: '1.0.0' },
      },
      state: { sync: { message: 'OK', lastAttemptMoment: '2026-11-22 10:00:00' } },
    });
  });

  it('reports an offline register and FN warnings as the fiscal memory error', () => {
    const offline = buildStateBody({ id: 'k', kind: 'atol', online: false }, environment, {
      message: 'OK',
      lastAttemptAt: '2026-11-22T07:00:00Z',
    });
    expect(offline.state.fiscalMemory?.error?.code).toBe('OFFLINE');
    const warned = buildStateBody(
      {
        id: 'k',
        kind: 'atol',
        online: true,
        fn: { warnings: ['memoryFull99', 'replaceUrgently'] },
        ofd: { unsentCount: 0 },
      },
      { ...environment, taxSystem: 'GENERAL_TAX_SYSTEM' },
      { message: 'OK', lastAttemptAt: '2026-11-22T07:00:00Z' },
    );
    expect(warned.state.fiscalMemory).toEqual({
      error: { code: 'memoryFull99', message: 'memoryFull99, replaceUrgently' },
      notSendDocCount: 0,
    });
    expect(warned.environment.chequePrinter).toMatchObject({
      vendor: 'АТОЛ',
      name: 'atol',
      taxSystem: 'GENERAL_TAX_SYSTEM',
    });
  });

  it('ignores the attempt time when deciding whether something changed', () => {
    const a = buildStateBody(undefined, environment, {
      message: 'OK',
      lastAttemptAt: '2026-11-22T07:00:00Z',
    });
    const b = buildStateBody(undefined, environment, {
      message: 'OK',
      lastAttemptAt: '2026-11-22T08:00:00Z',
    });
    const c = buildStateBody(undefined, environment, {
      message: 'error',
      lastAttemptAt: '2026-11-22T08:00:00Z',
    });
    expect(stateFingerprint(a)).toBe(stateFingerprint(b));
    expect(stateFingerprint(a)).not.toBe(stateFingerprint(c));
  });
});
