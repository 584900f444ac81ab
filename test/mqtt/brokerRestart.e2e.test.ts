import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src/agent/jobs/job.js';
import type { CommandAnswer } from '../../src/agent/mqtt/commandLog.js';
import type { ReceiptEvent } from '../../src/agent/mqtt/receiptSink.js';
import type { PresencePayload } from '../../src/agent/mqtt/service.js';
import { sampleBill } from '../support/bills.js';
import { Mosquitto } from '../support/mosquitto.js';
import { Observer, type Rig, startRig, tempDir, uniqueDeviceId, until } from './harness.js';

let broker: Mosquitto;
let root: string;
let rig: Rig;
let watcher: Observer;
const cleanups: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  broker = await Mosquitto.start();
  cleanups.push(() => broker.dispose());
  const deviceId = uniqueDeviceId();
  root = `kkt/${deviceId}`;
  // A persistent session (and mosquitto persistence): what is published while the watcher reconnects waits.
  watcher = await Observer.connect(broker.url, [`${root}/#`], {
    clientId: `watcher-${deviceId}`,
    clean: false,
    properties: { sessionExpiryInterval: 3600 },
  });
  cleanups.push(() => watcher.close());
  const dir = await tempDir();
  cleanups.push(dir.remove);
  rig = await startRig({ dataDir: dir.path, url: broker.url, mqtt: { deviceId } });
  cleanups.push(rig.stop);
  await watcher.waitFor<PresencePayload>(`${root}/status`, (p) => p.state === 'online', 'birth');
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const cashIn = (i: number) =>
  watcher.publish(`${root}/cmd/cashIn`, JSON.stringify({ cmdId: `b-${i}`, amountMinor: 1000 + i }));

describe('broker restart mid-run', () => {
  it('reconnects, restores presence and state, and loses or repeats no command', async () => {
    const { service, device } = rig;
    const sessionBefore = service.session;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) sends.push(cashIn(i));
    await Promise.all(sends);
    await broker.stop();
    // While the broker is down: more commands (queued by the sender), duplicates, and a newer state.
    for (let i = 30; i < 60; i++) sends.push(cashIn(i));
    for (let i = 0; i < 60; i += 7) sends.push(cashIn(i));
    await until(() => !service.status().connected, 'agent notices the broker is gone');
    service.publishState({ marker: 'state-while-down' });
    await broker.restart();
    for (let i = 60; i < 90; i++) sends.push(cashIn(i));
    await Promise.all(sends);

    const answered = (i: number) =>
      watcher
        .jsonOn<{ cmdId: string } & CommandAnswer>(`${root}/resp/cashIn`)
        .some((a) => a.cmdId === `b-${i}` && a.ok);
    await until(
      () => Array.from({ length: 90 }, (_, i) => answered(i)).every(Boolean),
      'all 90 commands answered',
      15_000,
    );
    expect([...device.cashIns].sort((a, b) => a - b)).toEqual(Array.from({ length: 90 }, (_, i) => 1000 + i));

    const birth = await watcher.waitFor<PresencePayload>(
      `${root}/status`,
      (p) => p.state === 'online' && p.session > sessionBefore,
      'birth after the broker restart',
    );
    expect(await Observer.retained(broker.url, `${root}/status`)).toMatchObject({
      state: 'online',
      session: birth.session,
    });
    expect(await Observer.retained(broker.url, `${root}/state`)).toEqual({ marker: 'state-while-down' });
  });

  it('buffers receipts in the outbox while the broker is down and delivers them after', async () => {
    const { agent } = rig;
    await broker.stop();
    await until(() => !rig.service.status().connected, 'agent notices the broker is gone');
    const jobs: Job[] = [];
    for (const id of ['down-1', 'down-2', 'down-3']) {
      jobs.push((await agent.intake.submit({ bill: sampleBill(id), trigger: { kind: 'test' } })).job);
    }
    await until(
      () => jobs.every((job) => agent.jobs.get(job.id)?.state === 'FISCALIZED'),
      'printed while offline',
    );
    const stats = await until(() => {
      const mqtt = agent.outbox.sinkStats()['mqtt'];
      return mqtt?.pending === 3 && mqtt.lastError?.code === 'MQTT_NOT_CONNECTED' ? mqtt : undefined;
    }, 'three receipts waiting, delivery refused as retryable');
    expect(stats).toMatchObject({ pending: 3, dead: 0 });

    await broker.restart();
    const events = await until(() => {
      const received = watcher.jsonOn<ReceiptEvent>(`${root}/event/receipt`);
      return jobs.every((job) => received.some((e) => e.jobId === job.id)) ? received : undefined;
    }, 'the buffered receipts');
    expect(events.map((e) => e.bill.billId).sort()).toEqual(['down-1', 'down-2', 'down-3']);
    await until(() => jobs.every((job) => agent.jobs.get(job.id)?.state === 'REPORTED'), 'jobs REPORTED');
    expect(agent.outbox.sinkStats()['mqtt']).toMatchObject({ pending: 0, delivered: 3 });
  });
});
