import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/agent/config/config.js';
import { EXIT_RESTART, startDaemon } from '../../src/agent/daemon.js';
import type { CommandAnswer } from '../../src/agent/mqtt/commandLog.js';
import type { ConfigReported } from '../../src/agent/mqtt/remoteConfig.js';
import type { PresencePayload } from '../../src/agent/mqtt/service.js';
import { Mosquitto } from '../support/mosquitto.js';
import { Observer, tempDir, uniqueDeviceId, until } from './harness.js';

let broker: Mosquitto;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  broker = await Mosquitto.start();
});

afterAll(async () => {
  await broker.dispose();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe('the daemon with MQTT', () => {
  it('answers commands, restarts for a config it cannot apply live, and starts again with it', async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const deviceId = uniqueDeviceId();
    const root = `kkt/${deviceId}`;
    const watcher = await Observer.connect(broker.url, [`${root}/#`]);
    cleanups.push(() => watcher.close());
    const fileConfig = parseConfig({
      dataDir: dir.path,
      log: { level: 'silent' },
      devices: [{ id: 'term', kind: 'intent', baseUrl: 'http://127.0.0.1:9' }],
      mqtt: { url: broker.url, deviceId, reconnect: { initialDelayMs: 50, maxDelayMs: 300 } },
      state: { debounceMs: 20 },
    });
    const exits: number[] = [];
    const start = async () => {
      const daemon = await startDaemon(fileConfig, { exit: (code) => exits.push(code) });
      cleanups.push(() => daemon.stop('test'));
      return daemon;
    };
    await start();
    const birth = await watcher.waitFor<PresencePayload>(
      `${root}/status`,
      (p) => p.state === 'online',
      'birth',
    );

    await watcher.publish(`${root}/cmd/status`, JSON.stringify({ cmdId: 'd-1' }));
    const status = await watcher.waitFor<{ cmdId: string } & CommandAnswer>(
      `${root}/resp/status`,
      (a) => a.cmdId === 'd-1',
      'status answer',
    );
    expect(status).toMatchObject({
      ok: true,
      result: {
        mqtt: { connected: true, deviceId },
        config: { version: 0, source: 'file' },
        state: { post: { enabled: false } },
      },
    });

    const desired = {
      version: 3,
      config: {
        devices: [{ id: 'term', kind: 'intent', baseUrl: 'http://127.0.0.1:9', cashier: 'Иванова' }],
        log: { level: 'silent' },
        state: { debounceMs: 20 },
      },
    };
    await watcher.publish(`${root}/config/desired`, JSON.stringify(desired), { qos: 1, retain: true });
    await watcher.waitFor<ConfigReported>(
      `${root}/config/reported`,
      (r) => r.status === 'restarting',
      'restarting',
    );
    await until(() => exits.length === 1, 'exit after a clean stop');
    expect(exits).toEqual([EXIT_RESTART]);
    const offline = await watcher.waitFor<PresencePayload>(
      `${root}/status`,
      (p) => p.state === 'offline',
      'offline',
    );
    expect(offline.session).toBe(birth.session);

    const second = await start();
    await watcher.waitFor<ConfigReported>(
      `${root}/config/reported`,
      (r) => r.status === 'applied' && r.appliedVersion === 3,
      'applied after the restart',
    );
    expect(second.remote.remote?.config.devices[0]).toMatchObject({ cashier: 'Иванова' });
    expect(second.remote.status()).toMatchObject({ config: { version: 3, source: 'remote' } });
    expect(exits).toEqual([EXIT_RESTART]);
  });
});
