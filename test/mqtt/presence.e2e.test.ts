import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../src/agent/mqtt/embeddedBroker.js';
import type { PresencePayload } from '../../src/agent/mqtt/service.js';
import { Mosquitto } from '../support/mosquitto.js';
import { Observer, type Rig, startRig, tempDir, uniqueDeviceId, until } from './harness.js';

let broker: Mosquitto;
let dir: Awaited<ReturnType<typeof tempDir>>;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  broker = await Mosquitto.start({ tls: { users: { agent: 's3cret-pass' } } });
});

afterAll(async () => {
  await broker.dispose();
});

let deviceId: string;
let STATUS: string;

beforeEach(() => {
  deviceId = uniqueDeviceId();
  STATUS = `kkt/${deviceId}/status`;
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function rig(
  options: Omit<Parameters<typeof startRig>[0], 'dataDir'> & { dataDir?: string },
): Promise<Rig> {
  if (!options.dataDir) {
    dir = await tempDir();
    cleanups.push(dir.remove);
  }
  const started = await startRig({
    dataDir: options.dataDir ?? dir.path,
    ...options,
    mqtt: { deviceId, ...options.mqtt },
  });
  cleanups.push(started.stop);
  return started;
}

async function observer(topics: string[]): Promise<Observer> {
  const o = await Observer.connect(broker.url, topics);
  cleanups.push(() => o.close());
  return o;
}

const presence = (o: Observer) => o.jsonOn<PresencePayload>(STATUS);

describe('connection', () => {
  it('connects over TLS with a client certificate and a password read from a file', async () => {
    const secrets = await tempDir();
    cleanups.push(secrets.remove);
    const passwordFile = join(secrets.path, 'mqtt-password');
    await writeFile(passwordFile, 's3cret-pass\n');
    const tls = broker.tlsMaterial!;
    const watcher = await observer([STATUS]);
    const { service } = await rig({
      url: broker.tlsUrl,
      mqtt: {
        username: 'agent',
        passwordFile,
        tls: { caFile: tls.caFile, certFile: tls.clientCertFile, keyFile: tls.clientKeyFile },
      },
    });
    const birth = await watcher.waitFor<PresencePayload>(
      STATUS,
      (p) => p.state === 'online',
      'birth over TLS',
    );
    expect(birth).toMatchObject({ state: 'online', session: 1, version: '9.9.9-test' });
    expect(service.status()).toMatchObject({ connected: true, protocolVersion: 5, session: 1 });
  });

  it('keeps retrying with backoff when the broker refuses the password, without crashing', async () => {
    const tls = broker.tlsMaterial!;
    const { service } = await rig({
      url: broker.tlsUrl,
      mqtt: {
        username: 'agent',
        password: 'wrong',
        tls: { caFile: tls.caFile, certFile: tls.clientCertFile, keyFile: tls.clientKeyFile },
      },
    });
    // 134/135: MQTT 5 "bad user name or password" / "not authorized"; each attempt has a new session.
    await until(
      () => ['134', '135'].includes(service.status().lastError?.code ?? '') && service.session >= 3,
      'refused attempts',
    );
    expect(service.status().connected).toBe(false);
  });

  it('falls back to MQTT 3.1.1 against a broker that refuses version 5 (embedded aedes)', async () => {
    const embedded = await startEmbeddedBroker();
    cleanups.push(() => embedded.close());
    const watcher = await Observer.connect(embedded.url, [STATUS, `kkt/${deviceId}/resp/+`], {
      protocolVersion: 4,
    });
    cleanups.push(() => watcher.close());
    const { service } = await rig({ url: embedded.url });
    await watcher.waitFor<PresencePayload>(STATUS, (p) => p.state === 'online', 'birth on 3.1.1');
    expect(service.status().protocolVersion).toBe(4);
    await watcher.publish(`kkt/${deviceId}/cmd/status`, JSON.stringify({ cmdId: 'aedes-1' }));
    const answer = await watcher.waitFor(
      `kkt/${deviceId}/resp/status`,
      (a) => a['cmdId'] === 'aedes-1',
      'status answer',
    );
    expect(answer['ok']).toBe(true);
  });
});

describe('presence', () => {
  it('publishes lost with the same session when the socket dies, then online with a higher session', async () => {
    const watcher = await observer([STATUS]);
    const { service } = await rig({ url: broker.url });
    const first = await watcher.waitFor<PresencePayload>(STATUS, (p) => p.state === 'online', 'first birth');
    service.connection.dropConnection();
    const lost = await watcher.waitFor<PresencePayload>(STATUS, (p) => p.state === 'lost', 'the will');
    expect(lost.session).toBe(first.session);
    const second = await watcher.waitFor<PresencePayload>(
      STATUS,
      (p) => p.state === 'online' && p.session > first.session,
      'second birth',
    );
    expect(second.session).toBeGreaterThan(lost.session);
    expect(await Observer.retained(broker.url, STATUS)).toMatchObject({
      state: 'online',
      session: second.session,
    });
  });

  it('answers a stale lost (an older session) with its birth, so the stale will never wins', async () => {
    const watcher = await observer([STATUS]);
    const { service } = await rig({ url: broker.url });
    await watcher.waitFor<PresencePayload>(STATUS, (p) => p.state === 'online', 'first birth');
    service.connection.dropConnection();
    const current = await watcher.waitFor<PresencePayload>(
      STATUS,
      (p) => p.state === 'online' && p.session >= 2,
      'birth of session 2',
    );
    const stale: PresencePayload = {
      state: 'lost',
      session: current.session - 1,
      since: current.since,
      version: '9.9.9-test',
    };
    await watcher.publish(STATUS, JSON.stringify(stale), { qos: 1, retain: true });
    await until(() => {
      const list = presence(watcher);
      const staleAt = list.findIndex(
        (p) => p.state === 'lost' && p.session === stale.session && p.since === stale.since,
      );
      return (
        staleAt >= 0 &&
        list.slice(staleAt + 1).some((p) => p.state === 'online' && p.session === current.session)
      );
    }, 'birth republished after the stale will');
    expect(await Observer.retained(broker.url, STATUS)).toMatchObject({
      state: 'online',
      session: current.session,
    });
  });

  it('keeps sessions across restarts of the agent: a new process never reuses a session', async () => {
    const data = await tempDir();
    cleanups.push(data.remove);
    const watcher = await observer([STATUS]);
    const first = await startRig({ dataDir: data.path, url: broker.url, mqtt: { deviceId } });
    const birth1 = await watcher.waitFor<PresencePayload>(
      STATUS,
      (p) => p.state === 'online',
      'first process birth',
    );
    await first.stop();
    const offline = await watcher.waitFor<PresencePayload>(
      STATUS,
      (p) => p.state === 'offline',
      'clean offline',
    );
    expect(offline.session).toBe(birth1.session);
    const second = await rig({ dataDir: data.path, url: broker.url });
    const birth2 = await watcher.waitFor<PresencePayload>(
      STATUS,
      (p) => p.state === 'online' && p.session > birth1.session,
      'second process birth',
    );
    expect(second.service.session).toBe(birth2.session);
  });

  it('raises its session above one published by an earlier install (data dir wiped)', async () => {
    const watcher = await observer([STATUS]);
    await watcher.publish(
      STATUS,
      JSON.stringify({ state: 'lost', session: 57, since: new Date().toISOString(), version: '0.0.1' }),
      { qos: 1, retain: true },
    );
    await rig({ url: broker.url });
    const birth = await watcher.waitFor<PresencePayload>(
      STATUS,
      (p) => p.state === 'online' && p.session > 57,
      'birth above 57',
    );
    expect(birth.session).toBe(58);
  });
});
