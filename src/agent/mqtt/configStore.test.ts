import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentConfig, parseConfig } from '../config/config.js';
import {
  changedPaths,
  combineConfigs,
  configHash,
  planChange,
  RemoteConfigFile,
  resolveStartupConfig,
  restartRequiredPaths,
} from './configStore.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-config-store-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const device = { id: 'term', kind: 'intent', baseUrl: 'http://127.0.0.1:9' };

function fileConfig(extra: Record<string, unknown> = {}): AgentConfig {
  return parseConfig({
    dataDir: dir,
    devices: [device],
    mqtt: { url: 'mqtt://broker.local:1883', deviceId: 'box-1' },
    log: { level: 'info', file: { path: '/var/log/kkt/agent.log' } },
    ...extra,
  });
}

describe('restartRequiredPaths', () => {
  it('finds the fields marked restartRequired in the config schema', () => {
    const paths = restartRequiredPaths().map((p) => p.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['dataDir', 'control', 'devices', 'mqtt']));
    expect(paths).not.toContain('log');
  });
});

describe('planChange', () => {
  const live = [['log', 'level'], ['log', 'modules'], ['state'], ['version']];

  it('applies live when every changed field has an applier', () => {
    const plan = planChange([['version'], ['log', 'modules', 'kkt'], ['state', 'intervalMs']], live);
    expect(plan).toEqual({
      restart: false,
      restartFields: [],
      liveFields: ['version', 'log.modules.kkt', 'state.intervalMs'],
    });
  });

  it('restarts for a marked field or a field no applier claims', () => {
    expect(planChange([['devices']], [...live, ['devices']]).restart).toBe(true);
    expect(planChange([['fiscalizer', 'retryDelayMs'], ['version']], live)).toEqual({
      restart: true,
      restartFields: ['fiscalizer.retryDelayMs'],
      liveFields: ['version'],
    });
  });
});

describe('changedPaths and configHash', () => {
  it('lists changed leaves, arrays as one value', () => {
    expect(
      changedPaths({ a: 1, b: { c: [1, 2], d: 'x' }, e: true }, { a: 1, b: { c: [1, 3], d: 'y' }, f: 1 }),
    ).toEqual([['b', 'c'], ['b', 'd'], ['e'], ['f']]);
  });

  it('hashes equal configs equally whatever their key order', () => {
    expect(configHash({ a: 1, b: { c: 2, d: 3 } })).toBe(configHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(configHash({ a: 1 })).not.toBe(configHash({ a: 2 }));
  });
});

describe('combineConfigs', () => {
  it('takes local-only fields from the file and reports those the remote config carried', () => {
    const { config, ignoredFields } = combineConfigs(
      {
        dataDir: '/elsewhere',
        mqtt: { url: 'mqtt://evil:1883' },
        log: { level: 'debug', file: { path: '/tmp/x.log' } },
        devices: [device],
        version: 99,
      },
      fileConfig(),
      4,
    );
    expect(ignoredFields).toEqual(['dataDir', 'mqtt', 'log.file']);
    expect(config).toMatchObject({
      version: 4,
      dataDir: dir,
      mqtt: { url: 'mqtt://broker.local:1883', deviceId: 'box-1' },
      log: { level: 'debug', file: { path: '/var/log/kkt/agent.log' } },
    });
  });

  it('names the field of an invalid remote config', () => {
    expect(() => combineConfigs({ devices: [{ ...device, kind: 'nope' }] }, fileConfig(), 2)).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        details: expect.objectContaining({ field: 'devices[0].kind' }),
      }),
    );
  });
});

describe('resolveStartupConfig', () => {
  const store = () => new RemoteConfigFile(dir);
  const persist = (version: number, config: Record<string, unknown>) =>
    store().write({ version, receivedAt: new Date().toISOString(), config, hash: configHash(config) });

  it('uses the file when nothing was stored', async () => {
    await expect(resolveStartupConfig(fileConfig())).resolves.toMatchObject({ source: 'file', version: 0 });
  });

  it('uses a stored remote config whose version is above the file version', async () => {
    await persist(3, { devices: [device], fiscalizer: { retryDelayMs: 555 } });
    const startup = await resolveStartupConfig(fileConfig());
    expect(startup).toMatchObject({ source: 'remote', version: 3 });
    expect(startup.config.fiscalizer.retryDelayMs).toBe(555);
    expect(startup.config.mqtt?.deviceId).toBe('box-1');
  });

  it('uses the file once its version reaches the stored one', async () => {
    await persist(3, { devices: [device], fiscalizer: { retryDelayMs: 555 } });
    const startup = await resolveStartupConfig(fileConfig({ version: 3 }));
    expect(startup).toMatchObject({ source: 'file', version: 3, notice: { code: 'REMOTE_CONFIG_OLDER' } });
    expect(startup.config.fiscalizer.retryDelayMs).toBe(2000);
  });

  it('falls back to the file when the stored config is unreadable or no longer valid', async () => {
    await writeFile(join(dir, 'remote-config.json'), '{ torn');
    await expect(resolveStartupConfig(fileConfig())).resolves.toMatchObject({
      source: 'file',
      notice: { code: 'REMOTE_CONFIG_UNREADABLE' },
    });
    await persist(5, { devices: [], unknownSection: true });
    await expect(resolveStartupConfig(fileConfig())).resolves.toMatchObject({
      source: 'file',
      notice: { code: 'CONFIG_INVALID' },
    });
  });
});
