import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StateDocument } from '../../src/agent/state/document.js';
import { StatePoster } from '../../src/agent/state/poster.js';
import { sampleBill } from '../support/bills.js';
import { Mosquitto } from '../support/mosquitto.js';
import { Observer, startServices, tempDir, uniqueDeviceId, until } from './harness.js';

interface Received {
  body: StateDocument;
  authorization: string | undefined;
}

/** A loopback HTTP server whose answers the test controls. */
async function stateServer(
  handle: (req: IncomingMessage, res: ServerResponse, body: string) => void = (_req, res) => res.end('ok'),
): Promise<{ url: string; received: Received[]; server: Server; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ body: JSON.parse(body) as StateDocument, authorization: req.headers.authorization });
      handle(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/state`,
    received,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const doc = (marker: string) => ({ deviceId: marker }) as unknown as StateDocument;
const silent = pino({ level: 'silent' });
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe('POST /state', () => {
  it('sends only the newest document after the one in flight (latest wins), with the bearer token', async () => {
    const held: ServerResponse[] = [];
    const server = await stateServer((_req, res) => held.push(res));
    cleanups.push(server.close);
    const poster = new StatePoster(
      { postUrl: server.url, postToken: 'state-token', postTimeoutMs: 5000 },
      silent,
    );
    poster.offer(doc('A'));
    await until(() => server.received.length === 1, 'A in flight');
    poster.offer(doc('B'));
    poster.offer(doc('C'));
    poster.offer(doc('D'));
    held.shift()!.end('ok');
    await until(() => server.received.length === 2, 'D sent');
    held.shift()!.end('ok');
    await until(() => poster.status().posted === 2 && !poster.status().inFlight, 'both acknowledged');
    expect(server.received.map((r) => r.body.deviceId)).toEqual(['A', 'D']);
    expect(server.received.every((r) => r.authorization === 'Bearer state-token')).toBe(true);
    expect(poster.status()).toMatchObject({
      posted: 2,
      superseded: 2,
      failed: 0,
      target: new URL(server.url).origin,
    });
  });

  it('records timeouts, HTTP errors and refused connections in its status, and keeps going', async () => {
    let mode: 'hang' | 'fail' | 'ok' = 'hang';
    const server = await stateServer((_req, res) => {
      if (mode === 'fail') {
        res.statusCode = 503;
        res.end('busy');
      } else if (mode === 'ok') res.end('ok');
    });
    cleanups.push(server.close);
    const poster = new StatePoster({ postUrl: server.url, postTimeoutMs: 200 }, silent);
    poster.offer(doc('hang'));
    await until(() => poster.status().lastError?.code === 'STATE_POST_TIMEOUT', 'timeout recorded');
    mode = 'fail';
    poster.offer(doc('fail'));
    await until(() => poster.status().lastError?.code === 'HTTP_503', 'HTTP 503 recorded');
    mode = 'ok';
    poster.offer(doc('ok'));
    await until(() => poster.status().posted === 1, 'posted after failures');
    await server.close();
    poster.offer(doc('refused'));
    await until(() => poster.status().lastError?.code === 'STATE_POST_FAILED', 'connection refused recorded');
    expect(poster.status()).toMatchObject({ failed: 3, posted: 1 });
  });
});

describe('the state document', () => {
  let broker: Mosquitto;

  beforeAll(async () => {
    broker = await Mosquitto.start();
  });

  afterAll(async () => {
    await broker.dispose();
  });

  it('is published retained and POSTed on change, reflecting jobs and the outbox', async () => {
    const server = await stateServer();
    cleanups.push(server.close);
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const deviceId = uniqueDeviceId();
    const watcher = await Observer.connect(broker.url, [`kkt/${deviceId}/state`]);
    cleanups.push(() => watcher.close());
    const rig = await startServices({
      dataDir: dir.path,
      devices: [{ id: 'term', kind: 'intent', baseUrl: 'http://127.0.0.1:9' }],
      mqtt: { url: broker.url, deviceId, reconnect: { initialDelayMs: 50, maxDelayMs: 300 } },
      state: { intervalMs: 60_000, debounceMs: 20, postUrl: server.url, postToken: 'tkn' },
    });
    cleanups.push(rig.stop);
    const first = await watcher.waitFor<StateDocument>(
      `kkt/${deviceId}/state`,
      (s) => (s.agent.session ?? 0) >= 1,
      'a state with the connected session',
    );
    expect(first).toMatchObject({
      schemaVersion: 1,
      deviceId,
      agent: { version: '9.9.9-test', config: { version: 0, source: 'file' } },
      devices: [{ id: 'fake', kind: 'fake', online: true }],
      outbox: { sinks: { mqtt: { depth: 0, dead: 0 } }, deadLetters: 0 },
    });

    const { job } = await rig.agent.intake.submit({ bill: sampleBill('st-1'), trigger: { kind: 'test' } });
    await until(() => rig.agent.jobs.get(job.id)?.state === 'REPORTED', 'job reported');
    await watcher.waitFor<StateDocument>(
      `kkt/${deviceId}/state`,
      (s) => s.jobs.counts.REPORTED === 1,
      'state after the job',
    );
    await until(
      () => server.received.some((r) => r.body.jobs?.counts.REPORTED === 1),
      'POSTed state after the job',
    );
    expect(await Observer.retained(broker.url, `kkt/${deviceId}/state`)).toMatchObject({
      jobs: { counts: { REPORTED: 1 } },
    });
    expect(server.received.every((r) => r.authorization === 'Bearer tkn')).toBe(true);
    expect(rig.remote.status()).toMatchObject({
      state: { post: { enabled: true, failed: 0 } },
      mqtt: { connected: true },
    });
  });
});
