import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CommandAnswer } from '../../src/agent/mqtt/commandLog.js';
import type { ReceiptEvent } from '../../src/agent/mqtt/receiptSink.js';
import { signEnvelope } from '../../src/agent/mqtt/signing.js';
import { sampleBill } from '../support/bills.js';
import { Mosquitto } from '../support/mosquitto.js';
import {
  type CountingDevice,
  Observer,
  type Rig,
  startRig,
  tempDir,
  uniqueDeviceId,
  until,
} from './harness.js';

type Answer = { cmdId?: string } & CommandAnswer;

let broker: Mosquitto;
let root: string;
let watcher: Observer;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  broker = await Mosquitto.start();
});

afterAll(async () => {
  await broker.dispose();
});

beforeEach(async () => {
  const deviceId = uniqueDeviceId();
  root = `kkt/${deviceId}`;
  watcher = await Observer.connect(broker.url, [`${root}/resp/+`, `${root}/event/+`, 'app/replies/#']);
  cleanups.push(() => watcher.close());
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function rig(
  options: { dataDir?: string; mqtt?: Parameters<typeof startRig>[0]['mqtt']; device?: CountingDevice } = {},
): Promise<Rig> {
  let dataDir = options.dataDir;
  if (!dataDir) {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    dataDir = dir.path;
  }
  const deviceId = root.split('/')[1]!;
  const started = await startRig({
    dataDir,
    url: broker.url,
    device: options.device,
    mqtt: { deviceId, ...options.mqtt },
  });
  cleanups.push(started.stop);
  await until(
    () => started.service.status().connected && started.service.status().commands,
    'agent connected',
  );
  return started;
}

const send = (name: string, payload: unknown) =>
  watcher.publish(`${root}/cmd/${name}`, typeof payload === 'string' ? payload : JSON.stringify(payload));

const answersTo = (name: string, cmdId: string) =>
  watcher.jsonOn<Answer>(`${root}/resp/${name}`).filter((a) => a.cmdId === cmdId);

const answerTo = (name: string, cmdId: string) =>
  until(() => answersTo(name, cmdId)[0], `answer to ${name} ${cmdId}`);

describe('dedupe', () => {
  it('runs each of 100 commands exactly once although most are delivered several times', async () => {
    const { device } = await rig();
    const copies = (i: number) => 1 + (i % 3);
    const sends: Promise<unknown>[] = [];
    // Interleaved: copy 0 of every command, then copy 1 of every other… so duplicates overlap running ones.
    for (let copy = 0; copy < 3; copy++) {
      for (let i = 0; i < 100; i++) {
        if (copy < copies(i)) sends.push(send('cashIn', { cmdId: `c-${i}`, amountMinor: 100 + i }));
      }
    }
    await Promise.all(sends);
    await until(
      () =>
        Array.from({ length: 100 }, (_, i) => answersTo('cashIn', `c-${i}`).length >= copies(i)).every(
          Boolean,
        ),
      'an answer for every delivery',
    );
    // A late duplicate, after everything finished, is answered from the log and runs nothing.
    await send('cashIn', { cmdId: 'c-7', amountMinor: 107 });
    await until(() => answersTo('cashIn', 'c-7').length === copies(7) + 1, 'late duplicate answered');
    expect(device.cashIns).toHaveLength(100);
    expect([...device.cashIns].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i));
    for (let i = 0; i < 100; i++) {
      const answers = answersTo('cashIn', `c-${i}`);
      expect(answers.every((a) => JSON.stringify(a) === JSON.stringify(answers[0]))).toBe(true);
      expect(answers[0]).toEqual({ cmdId: `c-${i}`, ok: true, result: { amountMinor: 100 + i } });
    }
  });

  it('answers a redelivery after an agent restart with the original answer, running nothing', async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const first = await rig({ dataDir: dir.path });
    await send('cashOut', { cmdId: 'r-1', amountMinor: 500 });
    const original = await answerTo('cashOut', 'r-1');
    expect(first.device.cashOuts).toEqual([500]);
    await first.stop();
    const second = await rig({ dataDir: dir.path });
    await send('cashOut', { cmdId: 'r-1', amountMinor: 500 });
    await until(() => answersTo('cashOut', 'r-1').length === 2, 'answer after restart');
    expect(answersTo('cashOut', 'r-1')[1]).toEqual(original);
    expect(second.device.cashOuts).toEqual([]);
  });

  it('refuses a cmdId reused for another command', async () => {
    const { device } = await rig();
    await send('cashIn', { cmdId: 'u-1', amountMinor: 1 });
    await answerTo('cashIn', 'u-1');
    await send('cashOut', { cmdId: 'u-1', amountMinor: 1 });
    const answer = await answerTo('cashOut', 'u-1');
    expect(answer).toMatchObject({ ok: false, error: { code: 'MQTT_CMDID_REUSED', field: 'cmdId' } });
    expect(device.cashOuts).toEqual([]);
  });
});

describe('validation', () => {
  it('answers malformed, mistyped, oversized and unknown commands with errors naming the field; nothing runs', async () => {
    const { device, agent } = await rig({ mqtt: { maxPayloadBytes: 2048 } });
    await send('cashIn', '{"cmdId": "m-1", "amountMinor": }');
    await send('cashIn', { cmdId: 'm-2', amountMinor: '100' });
    await send('cashIn', { cmdId: 'm-3', amountMinor: 10.5 });
    await send('cashIn', { cmdId: 'm-4', amountMinor: 100, padding: 'x'.repeat(3000) });
    await send('selfDestruct', { cmdId: 'm-5' });
    await send('cashIn', { cmdId: 42, amountMinor: 100 });
    await send('cashIn', { amountMinor: 100 });
    await send('cashIn', '[1, 2, 3]');
    await send('fiscalize', { cmdId: 'm-6', bill: { ...sampleBill('bad-1'), totalMinor: 1 } });
    await send('fiscalize', { cmdId: 'm-7', number: '12', billId: '12' });
    const error = async (name: string, cmdId: string) => {
      const answer = await answerTo(name, cmdId);
      expect(answer.ok).toBe(false);
      return (answer as Extract<Answer, { ok: false }>).error;
    };
    expect(await error('cashIn', 'm-1')).toMatchObject({ code: 'JSON_MALFORMED' });
    expect(await error('cashIn', 'm-2')).toMatchObject({ code: 'VALIDATION_FAILED', field: 'amountMinor' });
    expect(await error('cashIn', 'm-3')).toMatchObject({ code: 'VALIDATION_FAILED', field: 'amountMinor' });
    expect(await error('cashIn', 'm-4')).toMatchObject({ code: 'MQTT_PAYLOAD_TOO_LARGE' });
    expect(await error('selfDestruct', 'm-5')).toMatchObject({ code: 'MQTT_UNKNOWN_COMMAND' });
    expect(await error('fiscalize', 'm-6')).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'bill.totalMinor',
    });
    expect(await error('fiscalize', 'm-7')).toMatchObject({ code: 'VALIDATION_FAILED' });
    // The agent is unaffected: the next command runs, and only it did anything.
    await send('cashIn', { cmdId: 'ok-1', amountMinor: 700 });
    expect(await answerTo('cashIn', 'ok-1')).toMatchObject({ ok: true });
    expect(device.cashIns).toEqual([700]);
    expect(agent.jobs.all()).toHaveLength(0);
    // Payloads without a readable cmdId cannot be answered on resp/ (they are logged).
    expect(watcher.jsonOn<Answer>(`${root}/resp/cashIn`).filter((a) => a.cmdId === undefined)).toEqual([]);
  });

  it('answers an MQTT 5 request on its response topic with its correlation data, even without a cmdId', async () => {
    await rig();
    const correlationData = Buffer.from('corr-123');
    await watcher.publish(`${root}/cmd/status`, JSON.stringify({ cmdId: 'v5-1' }), {
      qos: 1,
      properties: { responseTopic: 'app/replies/box', correlationData },
    });
    await watcher.publish(`${root}/cmd/status`, JSON.stringify({ noId: true }), {
      qos: 1,
      properties: { responseTopic: 'app/replies/box', correlationData: Buffer.from('corr-456') },
    });
    const replies = await until(() => {
      const list = watcher.on('app/replies/box');
      return list.length >= 2 ? list : undefined;
    }, 'two replies');
    const byCorrelation = (value: string) =>
      replies.find((r) => r.packet.properties?.correlationData?.toString() === value)?.json as Answer;
    expect(byCorrelation('corr-123')).toMatchObject({
      cmdId: 'v5-1',
      ok: true,
      result: { version: '9.9.9-test' },
    });
    expect(byCorrelation('corr-456')).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED', field: 'cmdId' },
    });
    expect(watcher.on(`${root}/resp/status`)).toEqual([]);
  });

  it('does not answer into its own topic tree when a response topic points there', async () => {
    await rig();
    await watcher.publish(`${root}/cmd/status`, JSON.stringify({ cmdId: 'hijack-1' }), {
      qos: 1,
      properties: { responseTopic: `${root}/state`, correlationData: Buffer.from('x') },
    });
    expect(await answerTo('status', 'hijack-1')).toMatchObject({ ok: true });
  });
});

describe('the commands', () => {
  it('fiscalizes an inline bill and publishes its receipt event', async () => {
    const { agent, device } = await rig();
    const bill = {
      ...sampleBill('mq-1', { source: 'mqtt' }),
      customer: { emailOrPhone: 'buyer@example.com' },
    };
    await send('fiscalize', { cmdId: 'f-1', bill });
    const answer = await answerTo('fiscalize', 'f-1');
    expect(answer).toMatchObject({ ok: true, result: { duplicate: false, job: { state: 'RECEIVED' } } });
    const jobId = (answer as { result: { job: { id: string } } }).result.job.id;
    const event = await watcher.waitFor<ReceiptEvent>(
      `${root}/event/receipt`,
      (e) => e.jobId === jobId,
      'receipt event',
    );
    expect(event).toMatchObject({
      type: 'receipt',
      bill: { billId: 'mq-1', totalMinor: bill.totalMinor, currency: 'RUB' },
      fiscal: { fiscalDocumentNumber: 101, deviceId: 'fake' },
    });
    expect(JSON.stringify(event)).not.toContain('buyer@example.com');
    await until(() => agent.jobs.get(jobId)?.state === 'REPORTED', 'job REPORTED after PUBACK');
    expect(device.printed).toHaveLength(1);
  });

  it('maps every command onto its control method', async () => {
    const { device } = await rig();
    for (const [name, params] of [
      ['openShift', {}],
      ['closeShift', {}],
      ['reportX', {}],
      ['cashIn', { amountMinor: 1000 }],
      ['cashOut', { amountMinor: 300 }],
      ['outboxRetry', {}],
      ['resolveJob', { id: 'no-such-job', printed: true }],
      ['status', {}],
      ['rebirth', {}],
    ] as const) {
      await send(name, { cmdId: `all-${name}`, ...params });
    }
    expect(await answerTo('openShift', 'all-openShift')).toMatchObject({
      ok: true,
      result: { shiftNumber: 7 },
    });
    expect(await answerTo('closeShift', 'all-closeShift')).toMatchObject({
      ok: true,
      result: { shiftNumber: 7 },
    });
    expect(await answerTo('reportX', 'all-reportX')).toMatchObject({ ok: true, result: { printed: true } });
    expect(await answerTo('cashIn', 'all-cashIn')).toMatchObject({ ok: true, result: { amountMinor: 1000 } });
    expect(await answerTo('cashOut', 'all-cashOut')).toMatchObject({
      ok: true,
      result: { amountMinor: 300 },
    });
    expect(await answerTo('outboxRetry', 'all-outboxRetry')).toMatchObject({
      ok: true,
      result: { moved: 0 },
    });
    expect(await answerTo('resolveJob', 'all-resolveJob')).toMatchObject({ ok: false });
    expect(await answerTo('status', 'all-status')).toMatchObject({
      ok: true,
      result: { devices: [{ id: 'fake' }] },
    });
    expect(await answerTo('rebirth', 'all-rebirth')).toMatchObject({
      ok: true,
      result: { republished: [`${root}/status`] },
    });
    expect(device.reportsX).toBe(1);
  });

  it('runs the doctor over MQTT, and refuses a wire trace there (a file on the box is for the CLI)', async () => {
    await rig();
    await send('doctor', { cmdId: 'dr-1' });
    expect(await answerTo('doctor', 'dr-1')).toMatchObject({
      ok: true,
      result: { reports: [{ deviceId: 'fake', probes: 'unsupported', findings: [] }] },
    });
    await send('doctor', { cmdId: 'dr-2', traceWire: '/tmp/x.trace' });
    expect(await answerTo('doctor', 'dr-2')).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED', field: 'traceWire' },
    });
  });
});

describe('requireSigned', () => {
  const key = 'per-device-key-0123456789';

  it('runs well-signed commands and rejects unsigned, badly signed, replayed and unstamped ones', async () => {
    const { device } = await rig({ mqtt: { requireSigned: true, signingKey: key } });
    const topic = `${root}/cmd/cashIn`;
    const signed = (cmdId: string, extra: Record<string, unknown> = {}, signKey = key, onTopic = topic) =>
      signEnvelope(
        signKey,
        onTopic,
        JSON.stringify({ cmdId, amountMinor: 250, issuedAt: new Date().toISOString(), ...extra }),
      );
    await send('cashIn', signed('s-good'));
    await send('cashIn', { cmdId: 's-unsigned', amountMinor: 250, issuedAt: Date.now() });
    await send('cashIn', signed('s-wrong-key', {}, 'another-key'));
    await send('cashIn', signed('s-other-topic', {}, key, `${root}/cmd/cashOut`));
    await send('cashIn', signEnvelope(key, topic, JSON.stringify({ cmdId: 's-no-time', amountMinor: 250 })));
    await send('cashIn', signed('s-old', { issuedAt: Date.now() - 48 * 3_600_000 }));
    expect(await answerTo('cashIn', 's-good')).toMatchObject({ ok: true });
    expect(await answerTo('cashIn', 's-unsigned')).toMatchObject({
      ok: false,
      error: { code: 'MQTT_SIGNATURE_REQUIRED' },
    });
    expect(await answerTo('cashIn', 's-wrong-key')).toMatchObject({
      ok: false,
      error: { code: 'MQTT_SIGNATURE_INVALID' },
    });
    expect(await answerTo('cashIn', 's-other-topic')).toMatchObject({
      ok: false,
      error: { code: 'MQTT_SIGNATURE_INVALID' },
    });
    expect(await answerTo('cashIn', 's-no-time')).toMatchObject({ ok: false, error: { field: 'issuedAt' } });
    expect(await answerTo('cashIn', 's-old')).toMatchObject({
      ok: false,
      error: { code: 'MQTT_COMMAND_EXPIRED' },
    });
    expect(device.cashIns).toEqual([250]);
  });
});
