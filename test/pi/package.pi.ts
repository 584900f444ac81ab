import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenUnixDatagram, type UnixDatagramListener } from '../../src/agent/systemd/index.js';
import {
  type AtolEmulator,
  EMULATOR_EXTRA_TAX_BYTES,
  type JournalEntry,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import { type MockBridge, startMockBridge } from '../../src/emulators/bridge/index.js';
import { untilWith } from '../support/until.js';
import { type RootProcess, runInRoot, startInRoot } from './chroot.js';

/**
 * The release package as a Pi gets it: installed with dpkg into an arm64 Debian 12 root and run under
 * qemu-user. scripts/test-pi.sh builds the package and the root and passes them in; `npm run test:pi`.
 * The emulators run on the host (x86): only the packaged agent runs emulated, as it would on the Pi.
 */

const DEB = process.env.KKT_PI_DEB ?? '';
const ROOT = process.env.KKT_PI_ROOT ?? '';
const FIGURES = process.env.KKT_PI_FIGURES ?? '';
const TZ = 'Europe/Moscow';
// qemu-user on a shared 2-core machine is 10-30x slower than the Pi itself.
const until = untilWith({ timeoutMs: 240_000, intervalMs: 250 });
const figures: Record<string, number | string> = {};

let root: string;
let service: { uid: number; gid: number; dialout: number };

const at = (path: string) => join(root, path);
const modeOf = (path: string) => (statSync(at(path)).mode & 0o7777).toString(8);

function dpkg(...args: string[]) {
  const result = runInRoot(root, ['dpkg', ...args]);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  return result;
}

function passwdEntry(file: string, name: string): string[] {
  const line = readFileSync(at(file), 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  if (!line) throw new Error(`${name} is not in ${file}`);
  return line.split(':');
}

/** As the service user, the way `sudo -u kkt-agent kkt-agent …` runs on the Pi. */
function asService(command: string[], cwd = '/var/lib/kkt-agent') {
  return runInRoot(root, command, {
    user: `${service.uid}:${service.gid}`,
    groups: String(service.dialout),
    cwd,
  });
}

/** ExecStart= of the installed unit, split into words (the unit has no quoting). */
function execStart(): string[] {
  const unit = readFileSync(at('lib/systemd/system/kkt-agent.service'), 'utf8');
  const line = unit.split('\n').find((entry) => entry.startsWith('ExecStart='));
  if (!line) throw new Error('the unit has no ExecStart=');
  return line.slice('ExecStart='.length).trim().split(/\s+/);
}

function unitEnvironment(): Record<string, string> {
  const unit = readFileSync(at('lib/systemd/system/kkt-agent.service'), 'utf8');
  const env: Record<string, string> = {};
  for (const match of unit.matchAll(/^Environment=(\w+)=(.*)$/gm)) env[match[1]!] = match[2]!;
  return env;
}

/**
 * Resident memory of the qemu process running the daemon, from the host: all of it, and the parts that are
 * qemu's own (its translated-code buffer, the one anonymous rwx mapping, and its malloc heap), so that
 * what is left approximates what the agent would hold on a Pi.
 */
function memoryKib(pid: number): { total: number; qemuCodeCache: number; qemuHeap: number } {
  const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  let mapping = '';
  const sums = { total: 0, qemuCodeCache: 0, qemuHeap: 0 };
  for (const line of smaps.split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) mapping = line;
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (!rss) continue;
    const kib = Number(rss[1]);
    sums.total += kib;
    const fields = mapping.trim().split(/\s+/);
    if (fields[1] === 'rwxp' && fields.length === 5) sums.qemuCodeCache += kib;
    if (fields[5] === '[heap]') sums.qemuHeap += kib;
  }
  return sums;
}

beforeAll(() => {
  if (!DEB || !ROOT)
    throw new Error('run through scripts/test-pi.sh (npm run test:pi): it builds the package');
  root = ROOT;
  copyFileSync(DEB, at('tmp/kkt-agent.deb'));
});

afterAll(() => {
  if (FIGURES) writeFileSync(FIGURES, `${JSON.stringify(figures, null, 2)}\n`);
});

describe('the arm64 package on Debian 12 under qemu', () => {
  it('installs with dpkg: user, directories, first config, unit, udev rule, command on PATH', () => {
    const started = Date.now();
    dpkg('-i', '/tmp/kkt-agent.deb');
    figures.installSeconds = Math.round((Date.now() - started) / 100) / 10;

    const [, , uid, gid] = passwdEntry('etc/passwd', 'kkt-agent');
    const dialout = passwdEntry('etc/group', 'dialout')[2];
    service = { uid: Number(uid), gid: Number(gid), dialout: Number(dialout) };
    expect(passwdEntry('etc/passwd', 'kkt-agent')[6]).toBe('/usr/sbin/nologin');

    expect(modeOf('etc/kkt-agent')).toBe('750');
    expect(modeOf('etc/kkt-agent/config.json')).toBe('640');
    expect(statSync(at('etc/kkt-agent/config.json')).gid).toBe(service.gid);
    expect(readFileSync(at('etc/kkt-agent/config.json'), 'utf8')).toBe(
      readFileSync(at('opt/kkt-agent/config.example.json'), 'utf8'),
    );
    expect(statSync(at('var/lib/kkt-agent')).uid).toBe(service.uid);
    expect(modeOf('var/lib/kkt-agent')).toBe('750');
    expect(statSync(at('var/log/kkt-agent')).uid).toBe(service.uid);
    expect(existsSync(at('lib/udev/rules.d/99-atol-kkt.rules'))).toBe(true);
    // The packaged node runs the agent (node flags the unit may carry stay between the two).
    expect(execStart()[0]).toBe('/opt/kkt-agent/node/bin/node');
    expect(execStart()).toContain('/opt/kkt-agent/bin/kkt-agent.js');
    const which = runInRoot(root, ['sh', '-c', 'command -v kkt-agent']);
    expect(which.stdout.trim()).toBe('/usr/bin/kkt-agent');
  });

  it('runs its own Node.js, and every native module it ships is AArch64 and loads through its package', () => {
    const release = JSON.parse(readFileSync(at('opt/kkt-agent/release.json'), 'utf8')) as {
      node: string;
      natives: { name: string; version: string; from: string }[];
    };
    const names = release.natives.map((native) => native.name);
    // unix-dgram (sd_notify), serialport's bindings, usb, and whatever else the lockfile brings.
    expect(names).toEqual(expect.arrayContaining(['unix-dgram', '@serialport/bindings-cpp']));
    expect(names.some((name) => name.startsWith('@node-usb/'))).toBe(true);

    const binaries: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.node')) binaries.push(path);
      }
    };
    walk(at('opt/kkt-agent/node_modules'));
    // ELF, 64-bit, e_machine 0xb7 (AArch64): nothing for another CPU is shipped.
    for (const path of binaries) {
      const head = readFileSync(path).subarray(0, 20);
      expect([head.toString('latin1', 1, 4), head[4], head.readUInt16LE(18)], relative(root, path)).toEqual([
        'ELF',
        2,
        0xb7,
      ]);
    }

    // Each package loads its binary the way the agent does (its own loader picks the file); better-sqlite3
    // loads its binding only when a database is opened.
    const script = `
      const loaded = [];
      for (const name of JSON.parse(process.argv[1])) {
        const module = require(name);
        if (name === 'better-sqlite3') new module(':memory:').prepare('select sqlite_version()').pluck().get();
        loaded.push(name);
      }
      console.log(JSON.stringify({ arch: process.arch, version: process.version, loaded }));
    `;
    const result = asService(
      ['/opt/kkt-agent/node/bin/node', '-e', script, JSON.stringify(names)],
      '/opt/kkt-agent',
    );
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { arch: string; version: string; loaded: string[] };
    expect(report).toEqual({ arch: 'arm64', version: `v${release.node}`, loaded: names });
    figures.nativePackages = names.join(', ');
  });

  it('validates a config with the kkt-agent command, and names the field of a bad one', () => {
    writeFileSync(at('tmp/bad.json'), JSON.stringify({ version: 1, dataDir: 42 }));
    chmodSync(at('tmp/bad.json'), 0o644);
    const good = asService(['kkt-agent', 'config', 'validate', '/etc/kkt-agent/config.json']);
    expect(good.code, good.stdout + good.stderr).toBe(0);
    const bad = asService(['kkt-agent', 'config', 'validate', '/tmp/bad.json']);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain('dataDir');
  });

  describe('the daemon, as the unit starts it', () => {
    let emulator: AtolEmulator;
    let bridge: MockBridge;
    let notify: UnixDatagramListener;
    const notifications: string[] = [];
    const receipts: JournalEntry[] = [];
    let daemon: RootProcess | undefined;

    beforeAll(async () => {
      emulator = await startAtolEmulator({ port: 0, persist: false, timeZone: TZ });
      emulator.on('document', (entry) => {
        if (entry.kind === 'receipt') receipts.push(entry);
      });
      bridge = await startMockBridge({ port: 0, timeZone: TZ });
      // The service manager's side of sd_notify, at a path inside the root.
      mkdirSync(at('run/kkt-pi'), { recursive: true });
      notify = await listenUnixDatagram(at('run/kkt-pi/notify.sock'), (message) =>
        notifications.push(message.toString()),
      );
      chmodSync(at('run/kkt-pi/notify.sock'), 0o666);
      // The shop's technician edits the installed config (root-owned, group-readable).
      const config = JSON.parse(readFileSync(at('etc/kkt-agent/config.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      config.timeZone = TZ;
      config.devices = [
        {
          id: 'kkt',
          kind: 'atol',
          link: { type: 'tcp', host: '127.0.0.1', port: emulator.port },
          operator: { name: 'Кассир' },
          // The mock bridge's sample bills include 5 % and 7 % VAT, which only УСН may charge.
          taxationType: 'usnIncome',
          // 5 %, 7 % and 22 % have no publicly known byte: the technician sets what the emulator takes.
          taxBytes: EMULATOR_EXTRA_TAX_BYTES,
        },
      ];
      config.connectors = {
        bridge: [
          {
            id: '120',
            baseUrl: bridge.url,
            autoFiscalize: { enabled: true, intervalMs: 2000 },
            defaultPayment: 'card',
          },
        ],
      };
      writeFileSync(at('etc/kkt-agent/config.json'), JSON.stringify(config, null, 2));
    });

    afterAll(async () => {
      if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
        daemon.child.kill('SIGKILL');
        await daemon.exited;
      }
      notify?.close();
      await bridge?.close();
      await emulator?.close();
    });

    it('reports READY over the notify socket, prints the bills, answers status, stops on SIGTERM', async () => {
      const started = Date.now();
      daemon = startInRoot(root, execStart(), {
        user: `${service.uid}:${service.gid}`,
        groups: String(service.dialout),
        cwd: '/var/lib/kkt-agent',
        env: { ...unitEnvironment(), NOTIFY_SOCKET: '/run/kkt-pi/notify.sock', WATCHDOG_USEC: '30000000' },
      });
      const running = daemon;
      const alive = () => {
        if (running.child.exitCode !== null || running.child.signalCode !== null) {
          throw new Error(`the daemon exited:\n${running.output()}`);
        }
      };
      await until(() => {
        alive();
        return notifications.some((message) => message.split('\n').includes('READY=1'));
      }, `READY=1 (output so far:\n${running.output()})`);
      figures.readySeconds = Math.round((Date.now() - started) / 100) / 10;

      const expected = bridge.bills().length;
      await until(() => {
        alive();
        return bridge.receipts.length === expected;
      }, `${expected} receipts reported to the bridge`);
      expect(receipts).toHaveLength(expected);
      expect(new Set(receipts.map((receipt) => receipt.marker)).size).toBe(expected);
      figures.bills = expected;
      figures.billsSeconds = Math.round((Date.now() - started) / 100) / 10;

      const status = asService(['kkt-agent', 'status']);
      expect(status.code, status.stdout + status.stderr).toBe(0);
      expect(status.stdout).toMatch(/Device kkt \(atol\) — online/);
      const json = JSON.parse(asService(['kkt-agent', 'status', '--json']).stdout) as {
        jobs: Record<string, number>;
      };
      expect(json.jobs.REPORTED).toBe(expected);
      expect(notifications.some((message) => message.includes('WATCHDOG=1'))).toBe(true);

      // What the daemon holds once idle, seen from the host: the qemu process, i.e. the agent plus qemu's
      // own translation cache (an upper bound for the Pi).
      const memory = memoryKib(running.child.pid!);
      figures.rssKibUnderQemu = memory.total;
      figures.qemuCodeCacheKib = memory.qemuCodeCache;
      figures.qemuHeapKib = memory.qemuHeap;

      running.child.kill('SIGTERM');
      const exit = await running.exited;
      expect(exit, running.output()).toEqual({ code: 0, signal: null });
      expect(notifications.some((message) => message.split('\n').includes('STOPPING=1'))).toBe(true);
    });
  });

  it('apt remove keeps config, state and user; a reinstall keeps the edited config; purge deletes them', () => {
    const edited = readFileSync(at('etc/kkt-agent/config.json'), 'utf8');
    dpkg('-r', 'kkt-agent');
    expect(existsSync(at('opt/kkt-agent'))).toBe(false);
    expect(existsSync(at('usr/bin/kkt-agent'))).toBe(false);
    expect(existsSync(at('lib/systemd/system/kkt-agent.service'))).toBe(false);
    expect(readFileSync(at('etc/kkt-agent/config.json'), 'utf8')).toBe(edited);
    expect(readdirSync(at('var/lib/kkt-agent')).length).toBeGreaterThan(0);

    dpkg('-i', '/tmp/kkt-agent.deb');
    expect(readFileSync(at('etc/kkt-agent/config.json'), 'utf8')).toBe(edited);

    dpkg('--purge', 'kkt-agent');
    for (const path of ['opt/kkt-agent', 'etc/kkt-agent', 'var/lib/kkt-agent', 'var/log/kkt-agent']) {
      expect(existsSync(at(path)), path).toBe(false);
    }
    expect(readFileSync(at('etc/passwd'), 'utf8')).not.toMatch(/^kkt-agent:/m);
  });
});
