import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AtolEmulator,
  EMULATOR_EXTRA_TAX_BYTES,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import { type MockBridge, startMockBridge } from '../../src/emulators/bridge/index.js';
import { type AgentProcess, REPO_ROOT, startAgentInDir, until } from '../support/agentProcess.js';
import { packagesOf, parseBuiltinList, parseModuleList } from '../support/moduleProbe.js';

/**
 * Issue 17: `run` loads only what its config names. A preloaded probe (`test/support/moduleProbe.ts`, from
 * dist/ as the daemon runs) lists the modules the real daemon loaded once it serves; the heavy parts a
 * bridge-only box never uses (the demo, the emulators, the embedded broker, pino-pretty, mqtt, the serial
 * stack, other connectors and devices) must not be among them, and must be once the config names them.
 */

let dir: string;
let atol: AtolEmulator;
let bridge: MockBridge;
let agent: AgentProcess | undefined;

const probe = pathToFileURL(join(REPO_ROOT, 'dist', 'test', 'support', 'moduleProbe.js')).href;

interface Loaded {
  paths: string[];
  packages: Set<string>;
  /** Node's own modules (`internal/deps/undici/undici`). */
  builtins: Set<string>;
}

/** Starts the daemon with the probe and reads what it loaded once it serves (or once `settled` holds). */
async function loadedModules(
  config: Record<string, unknown>,
  settled: (loaded: Loaded) => boolean = () => true,
): Promise<Loaded> {
  const file = join(dir, 'modules.txt');
  const running = await startAgentInDir(dir, config, {
    nodeArgs: ['--import', probe],
    env: { KKT_PROBE_MODULES_FILE: file },
  });
  agent = running;
  let last: Loaded = { paths: [], packages: new Set(), builtins: new Set() };
  try {
    return await until(async () => {
      running.child.kill('SIGUSR2');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const written = await readFile(file, 'utf8').catch(() => '');
      if (!written.endsWith('done\n')) return undefined;
      const paths = parseModuleList(written);
      last = { paths, packages: packagesOf(paths), builtins: parseBuiltinList(written) };
      return settled(last) ? last : undefined;
    }, 'the module probe');
  } catch {
    // The assertions then show what was loaded.
    return last;
  }
}

const atolOnTcp = () => ({
  id: 'kkt',
  kind: 'atol',
  link: { type: 'tcp', host: '127.0.0.1', port: atol.port },
  operator: { name: 'Кассир' },
  taxBytes: EMULATOR_EXTRA_TAX_BYTES,
});

const ofSources = (paths: string[], folder: string) =>
  paths.filter((path) => path.includes(`/dist/src/${folder}`));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-lazy-'));
  atol = await startAtolEmulator({ port: 0, persist: false, timeZone: 'Europe/Moscow' });
  bridge = await startMockBridge({ port: 0, timeZone: 'Europe/Moscow', bills: [] });
});

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  await bridge.close();
  await atol.close();
  await rm(dir, { recursive: true, force: true });
});

describe('modules a running agent loads', () => {
  it('a register on TCP and a bridge account load neither the tools nor the unused stacks', async () => {
    const { paths, packages } = await loadedModules({
      timeZone: 'Europe/Moscow',
      devices: [atolOnTcp()],
      connectors: { bridge: [{ id: '120', baseUrl: bridge.url, autoFiscalize: { enabled: false } }] },
    });
    // The probe sees what the config does use.
    expect(ofSources(paths, 'agent/connectors/bridge/connector.js')).toHaveLength(1);
    expect(ofSources(paths, 'agent/devices/atol/atolDevice.js')).toHaveLength(1);
    expect(packages.has('better-sqlite3')).toBe(true);
    for (const unused of ['pino-pretty', 'aedes', 'mqtt', 'serialport', '@serialport/stream', 'usb']) {
      expect(packages.has(unused), unused).toBe(false);
    }
    for (const folder of [
      'emulators/',
      'cli/demo.js',
      'agent/mqtt/service.js',
      'agent/mqtt/embeddedBroker.js',
      // The config schema names every connector's fields; the connectors themselves stay unloaded.
      'agent/connectors/moysklad/connector.js',
      'agent/connectors/moysklad/pairing.js',
      'agent/connectors/oxsystem/connector.js',
      'agent/devices/intent/',
      'agent/devices/atolWeb/atolWebDevice.js',
      'drivers/atol/transport/serialLink.js',
      'drivers/atol/usb/',
    ]) {
      expect(ofSources(paths, folder), folder).toEqual([]);
    }
  });

  it('polling a bridge does not load fetch (undici and its WebAssembly parser: ~14 MiB of RSS)', async () => {
    const polled = () => bridge.requests.filter((request) => request.endpoint === 'list').length;
    const { builtins, paths } = await loadedModules(
      {
        timeZone: 'Europe/Moscow',
        devices: [atolOnTcp()],
        connectors: {
          bridge: [{ id: '120', baseUrl: bridge.url, autoFiscalize: { enabled: true, intervalMs: 200 } }],
        },
      },
      () => polled() >= 2,
    );
    expect(polled()).toBeGreaterThanOrEqual(2);
    expect(ofSources(paths, 'agent/connectors/bridge/connector.js')).toHaveLength(1);
    expect(builtins.has('http'), 'node:http').toBe(true);
    expect(builtins.has('internal/deps/undici/undici'), 'undici (fetch)').toBe(false);
  });

  it('a serial register and a broker in the config load the serial stack and mqtt', async () => {
    const needed = ['serialport', 'mqtt'];
    const { packages } = await loadedModules(
      {
        timeZone: 'Europe/Moscow',
        devices: [{ ...atolOnTcp(), link: { type: 'serial', path: join(dir, 'no-such-tty') } }],
        // Nothing listens there: the client is loaded and keeps retrying while the agent serves.
        mqtt: { url: 'mqtt://127.0.0.1:9', deviceId: 'box', connectTimeoutMs: 500 },
      },
      // The register's link is opened (and serialport loaded) by its first connect, just after READY.
      (loaded) => needed.every((name) => loaded.packages.has(name)),
    );
    expect(packages.has('serialport')).toBe(true);
    expect(packages.has('mqtt')).toBe(true);
    expect(packages.has('aedes')).toBe(false);
    expect(packages.has('pino-pretty')).toBe(false);
  });
});
