import { describe, expect } from 'vitest';
import { it } from './e2e.js';
import { FN_NUMBER, pairedFile, ShiftRegister, until } from './support.js';

describe('POST /state', () => {
  it('reports the register in MoySklad shape, again only when something changed, latest wins', async ({
    mock,
    dir,
    open,
  }) => {
    const credentials = await pairedFile(mock, dir);
    const device = new ShiftRegister();
    const harness = await open(
      credentials,
      {
        mode: 'master',
        state: { enabled: true, checkIntervalMs: 50, intervalMs: 3_600_000, deviceName: 'Pi у кассы' },
      },
      device,
    );
    await until(() => mock.states.length >= 1, 'first state');
    expect(mock.states[0]!.body).toMatchObject({
      environment: {
        device: 'Pi у кассы',
        software: { name: 'kkt-agent', vendor: 'kkt-agent', version: '0.1.0-test' },
        chequePrinter: {
          vendor: 'АТОЛ',
          name: 'АТОЛ 30Ф',
          serial: '00106712345678',
          firmwareVersion: '5.8.100',
          fiscalDataVersion: '1.2',
          driver: { name: 'kkt-agent', version: '0.1.0-test' },
          fiscalMemory: { fiscalDataVersion: '1.2', fiscalValidityDate: '2027-06-30 00:00:00' },
        },
      },
      state: {
        sync: { message: 'OK', lastAttemptMoment: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/) },
        fiscalMemory: { notSendDocCount: 3, notSendFirstDocMoment: '2026-11-22 09:15:00' },
      },
    });
    const checks = () => mock.counters.byRoute['POST /state'] ?? 0;
    // Several check intervals pass; nothing changed, nothing is sent.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(checks()).toBe(1);

    device.snapshotExtra = {
      ofd: { unsentCount: 12, oldestUnsentAt: '2026-11-22T08:00:00+03:00' },
      fn: { serial: FN_NUMBER, warnings: ['replaceUrgently'] },
    };
    await until(() => mock.states.length === 2, 'second state after the change');
    expect(mock.states[1]!.body).toMatchObject({
      state: { fiscalMemory: { notSendDocCount: 12, error: { code: 'replaceUrgently' } } },
    });

    // MoySklad is failing: the state is not queued; once it answers, only the latest is sent.
    mock.inject({ kind: 'status500', path: /^\/state/, times: 1000 });
    device.snapshotExtra = { ...device.snapshotExtra, ofd: { unsentCount: 13 } };
    await until(
      () =>
        harness.connector.status().details?.state &&
        (harness.connector.status().details!.state as { lastError?: unknown }).lastError,
      'state error',
    );
    device.snapshotExtra = { ...device.snapshotExtra, ofd: { unsentCount: 14 } };
    await new Promise((resolve) => setTimeout(resolve, 100));
    mock.clearFaults();
    await until(() => mock.states.length === 3, 'third state');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(mock.states).toHaveLength(3);
    expect(mock.states[2]!.body).toMatchObject({ state: { fiscalMemory: { notSendDocCount: 14 } } });
  });
});
