import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveStartupConfig } from '../../src/agent/mqtt/configStore.js';
import type { ConfigReported } from '../../src/agent/mqtt/remoteConfig.js';
import { signEnvelope } from '../../src/agent/mqtt/signing.js';
import { Mosquitto } from '../support/mosquitto.js';
import { Observer, type ServicesRig, startServices, tempDir, uniqueDeviceId, until } from './harness.js';

const SECRET_TOKEN = 'SUPERSECRET-TOKEN-4711';
const SECRET_PIN = 'PIN-SECRET-9876';

let broker: Mosquitto;
let deviceId: string;
let root: string;
let dataDir: string;
let watcher: Observer;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  broker = await Mosquitto.start();
});

afterAll(async () => {
  await broker.dispose();
});

beforeEach(async () => {
  deviceId = uniqueDeviceId();
  root = `kkt/${deviceId}`;
  const dir = await tempDir();
  cleanups.push(dir.remove);
  dataDir = dir.path;
  watcher = await Observer.connect(broker.url, [`${root}/config/reported`]);
  cleanups.push(() => watcher.close());
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** The file config (what /etc/kkt-agent/config.json would hold). */
function fileRaw(mqtt: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    dataDir,
    devices: [{ id: 'term', kind: 'intent', baseUrl: 'http://127.0.0.1:9', pin: SECRET_PIN }],
    mqtt: { url: broker.url, deviceId, reconnect: { initialDelayMs: 50, maxDelayMs: 300 }, ...mqtt },
    state: { intervalMs: 60_000, debounceMs: 20 },
  };
}

/** A desired config: the whole config, as the cloud would send it (no local-only fields needed). */
function desiredConfig(patch: Record<string, unknown> = {}): Record<string, unknown> {
  const { dataDir: _d, mqtt: _m, ...rest } = fileRaw();
  return { ...rest, ...patch };
}

async function services(mqtt: Record<string, unknown> = {}): Promise<ServicesRig> {
  const rig = await startServices(fileRaw(mqtt));
  cleanups.push(rig.stop);
  await watcher.waitFor<ConfigReported>(
    `${root}/config/reported`,
    (r) => r.status === 'applied',
    'initial report',
  );
  return rig;
}

const publishDesired = (payload: unknown, raw?: string) =>
  watcher.publish(`${root}/config/desired`, raw ?? JSON.stringify(payload), { qos: 1, retain: true });

const reportFor = (version: number | null, status: ConfigReported['status']) =>
  watcher.waitFor<ConfigReported>(
    `${root}/config/reported`,
    (r) => r.version === version && r.status === status,
    `reported ${status} for version ${version}`,
  );

const persisted = async () =>
  JSON.parse(await readFile(join(dataDir, 'remote-config.json'), 'utf8')) as {
    version: number;
    config: unknown;
  };

describe('remote config', () => {
  it('applies log levels and the state schedule live, and stores the config', async () => {
    const rig = await services();
    const kkt = rig.log.module('kkt');
    expect(kkt.level).toBe('info');
    await publishDesired({
      version: 5,
      config: desiredConfig({
        log: { level: 'warn', modules: { kkt: 'debug' } },
        state: { intervalMs: 5000, debounceMs: 20 },
      }),
    });
    const reported = await reportFor(5, 'applied');
    expect(reported).toMatchObject({
      appliedVersion: 5,
      source: 'remote',
      restartRequired: false,
      error: null,
    });
    expect(reported.changed).toEqual(
      expect.arrayContaining(['version', 'log.level', 'log.modules.kkt', 'state.intervalMs']),
    );
    expect(kkt.level).toBe('debug');
    expect(rig.log.root.level).toBe('warn');
    expect(rig.remote.remote?.config.state.intervalMs).toBe(5000);
    expect(rig.restarts).toEqual([]);
    expect((await persisted()).version).toBe(5);
  });

  it('stores a change it cannot apply live, reports it, asks for a restart; the next start uses it', async () => {
    const rig = await services();
    await publishDesired({ version: 2, config: desiredConfig({ fiscalizer: { retryDelayMs: 777 } }) });
    const reported = await reportFor(2, 'restarting');
    expect(reported).toMatchObject({ restartRequired: true, appliedVersion: 0, error: null });
    expect(reported.changed).toContain('fiscalizer.retryDelayMs');
    await until(() => rig.restarts.length === 1, 'restart requested');
    expect(rig.remote.remote?.config.fiscalizer.retryDelayMs).toBe(2000);

    const startup = await resolveStartupConfig(rig.fileConfig);
    expect(startup).toMatchObject({ source: 'remote', version: 2 });
    expect(startup.config.fiscalizer.retryDelayMs).toBe(777);
    expect(startup.config.dataDir).toBe(dataDir);
    expect(startup.config.mqtt?.deviceId).toBe(deviceId);

    // After the restart the retained desired config comes again: it is the one in effect, reported applied.
    await rig.stop();
    const restarted = await startServices(fileRaw());
    cleanups.push(restarted.stop);
    const again = await reportFor(2, 'applied');
    expect(again).toMatchObject({ appliedVersion: 2, source: 'remote', restartRequired: false, error: null });
    expect(restarted.restarts).toEqual([]);
  });

  it('rejects an invalid config naming the field, keeps the running config, echoes no secret', async () => {
    const rig = await services();
    const before = structuredClone(rig.remote.remote?.config);
    await publishDesired({
      version: 3,
      config: desiredConfig({
        devices: [{ id: 'term', kind: 'intent', baseUrl: 'http://127.0.0.1:9', pin: SECRET_PIN }],
        connectors: {
          bridge: [
            {
              id: 'crm',
              baseUrl: 'https://crm.example/bridge',
              auth: { type: 'bearer', token: SECRET_TOKEN },
            },
          ],
        },
        fiscalizer: { retryDelayMs: 'fast' },
      }),
    });
    const reported = await reportFor(3, 'rejected');
    expect(reported).toMatchObject({
      appliedVersion: 0,
      restartRequired: false,
      error: { code: 'CONFIG_INVALID', field: 'fiscalizer.retryDelayMs' },
    });
    expect(rig.remote.remote?.config).toEqual(before);
    expect(rig.restarts).toEqual([]);
    await expect(readFile(join(dataDir, 'remote-config.json'))).rejects.toThrow();
    // Wrong JSON and a wrong envelope are reported too.
    await publishDesired(undefined, '{"version": 4, "config": ');
    await watcher.waitFor<ConfigReported>(
      `${root}/config/reported`,
      (r) => r.error?.code === 'JSON_MALFORMED',
      'malformed',
    );
    await publishDesired({ version: 'four', config: {} });
    await watcher.waitFor<ConfigReported>(
      `${root}/config/reported`,
      (r) => r.error?.field === 'version',
      'bad version',
    );
    const everything = [...watcher.messages.map((m) => m.text), ...rig.lines].join('\n');
    expect(everything).not.toContain(SECRET_TOKEN);
    expect(everything).not.toContain(SECRET_PIN);
  });

  it('ignores a version not above the one in effect, and takes local-only fields from the file', async () => {
    const rig = await services();
    await publishDesired({
      version: 7,
      config: { ...desiredConfig(), dataDir: '/elsewhere', mqtt: { url: 'mqtt://evil.example:1883' } },
    });
    const applied = await reportFor(7, 'applied');
    expect(applied.ignoredFields).toEqual(['dataDir', 'mqtt']);
    expect(rig.remote.remote?.config.dataDir).toBe(dataDir);
    expect(rig.remote.remote?.config.mqtt?.url).toBe(broker.url);
    await publishDesired({ version: 6, config: desiredConfig({ log: { level: 'debug' } }) });
    const ignored = await reportFor(6, 'ignored');
    expect(ignored).toMatchObject({
      appliedVersion: 7,
      error: { code: 'CONFIG_VERSION_NOT_NEWER', field: 'version' },
    });
    await publishDesired({ version: 7, config: desiredConfig({ log: { level: 'debug' } }) });
    await reportFor(7, 'ignored');
    expect(rig.log.root.level).toBe('info');
  });

  it('with requireSigned, rejects an unsigned desired config and applies a signed one', async () => {
    const key = 'desired-config-key';
    const rig = await services({ requireSigned: true, signingKey: key });
    await publishDesired({ version: 8, config: desiredConfig({ log: { level: 'debug' } }) });
    const unsigned = await watcher.waitFor<ConfigReported>(
      `${root}/config/reported`,
      (r) => r.status === 'rejected',
      'unsigned rejected',
    );
    expect(unsigned.error).toMatchObject({ code: 'MQTT_SIGNATURE_REQUIRED' });
    const inner = JSON.stringify({ version: 8, config: desiredConfig({ log: { level: 'debug' } }) });
    await publishDesired(undefined, signEnvelope('not-the-key', `${root}/config/desired`, inner));
    await watcher.waitFor<ConfigReported>(
      `${root}/config/reported`,
      (r) => r.error?.code === 'MQTT_SIGNATURE_INVALID',
      'badly signed rejected',
    );
    expect(rig.log.root.level).toBe('info');
    await publishDesired(undefined, signEnvelope(key, `${root}/config/desired`, inner));
    await reportFor(8, 'applied');
    expect(rig.log.root.level).toBe('debug');
  });
});
