import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unitNodeFlags } from '../support/unitFlags.js';
import { repoRoot } from './compileModule.js';

const UNIT_FILE = join(repoRoot, 'systemd/kkt-agent.service');
const MAX_EXPOSURE = 2.5;

function findTool(name: string): string | undefined {
  try {
    return execFileSync('which', [name], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** [section] → key → every value assigned (DeviceAllow= and friends repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1] as string, current);
      continue;
    }
    const assignment = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!assignment || !current) throw new Error(`unparsable unit line: ${raw}`);
    const [, key, value] = assignment as unknown as [string, string, string];
    current.set(key, [...(current.get(key) ?? []), value]);
  }
  return sections;
}

const unitText = readFileSync(UNIT_FILE, 'utf8');
const unit = parseUnit(unitText);
const value = (section: string, key: string) => unit.get(section)?.get(key)?.at(-1);
const values = (section: string, key: string) => unit.get(section)?.get(key) ?? [];

describe('kkt-agent.service settings', () => {
  it('is a notify service whose main process is node itself, with a watchdog', () => {
    expect(value('Service', 'Type')).toBe('notify');
    expect(value('Service', 'NotifyAccess')).toBe('main');
    expect(value('Service', 'ExecStart')).toBe(
      '/usr/bin/node --optimize-for-size --max-semi-space-size=1 --max-old-space-size=128 --no-sparkplug --no-maglev --no-opt ' +
        '/opt/kkt-agent/bin/kkt-agent.js run --config /etc/kkt-agent/config.json',
    );
    expect(unitText).not.toMatch(/^ExecStart=.*\bnpm\b/m);
    expect(value('Service', 'WatchdogSec')).toBe('30s');
    expect(value('Service', 'Environment')).toBe('NODE_ENV=production');
  });

  it('starts node with flags this node accepts (a flag it does not know would stop every start)', () => {
    const flags = unitNodeFlags(UNIT_FILE);
    expect(flags.length).toBeGreaterThan(0);
    const run = spawnSync(process.execPath, [...flags, '-e', 'process.exit(0)'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it("keeps hot code in V8's interpreter on this node: no baseline, Maglev or TurboFan tier", () => {
    // The memory goals rest on it (docs/operations.md, "Node flags"); Node 22+ tiers up to Maglev unless told not to.
    const flags = unitNodeFlags(UNIT_FILE);
    const hot = [
      'function f(a) { let s = 0; for (let i = 0; i < 100; i++) s += a * i; return s; }',
      'let t = 0; for (let i = 0; i < 300000; i++) t += f(i);',
      'console.log(JSON.stringify({ ignition: %ActiveTierIsIgnition(f), sparkplug: %ActiveTierIsSparkplug(f),',
      '  maglev: %ActiveTierIsMaglev(f), turbofan: %ActiveTierIsTurbofan(f) }));',
    ].join('\n');
    const tiersOf = (nodeFlags: string[]) => {
      const run = spawnSync(process.execPath, [...nodeFlags, '--allow-natives-syntax', '-e', hot], {
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      return JSON.parse(run.stdout) as Record<string, boolean>;
    };
    expect(tiersOf([])).toMatchObject({ ignition: false });
    expect(tiersOf(flags)).toEqual({ ignition: true, sparkplug: false, maglev: false, turbofan: false });
  });

  it('always restarts and never stops trying', () => {
    expect(value('Service', 'Restart')).toBe('always');
    expect(value('Service', 'RestartSec')).toBe('10s');
    expect(value('Unit', 'StartLimitIntervalSec')).toBe('0');
  });

  it('leaves time to finish a receipt on stop', () => {
    expect(Number.parseInt(value('Service', 'TimeoutStopSec') ?? '0', 10)).toBeGreaterThanOrEqual(90);
  });

  it('runs as kkt-agent with dialout and systemd-managed directories', () => {
    expect(value('Service', 'User')).toBe('kkt-agent');
    expect(value('Service', 'SupplementaryGroups')).toBe('dialout');
    expect(value('Service', 'StateDirectory')).toBe('kkt-agent');
    expect(value('Service', 'ConfigurationDirectory')).toBe('kkt-agent');
    expect(value('Service', 'LogsDirectory')).toBe('kkt-agent');
    expect(value('Service', 'UMask')).toBe('0027');
  });

  it('is sandboxed but may reach serial ports, raw USB devices and hotplug events', () => {
    expect(value('Service', 'ProtectSystem')).toBe('strict');
    expect(value('Service', 'NoNewPrivileges')).toBe('yes');
    expect(value('Service', 'CapabilityBoundingSet')).toBe('');
    expect(value('Service', 'DevicePolicy')).toBe('closed');
    expect(values('Service', 'DeviceAllow')).toEqual(
      expect.arrayContaining(['char-ttyACM rw', 'char-ttyUSB rw', 'char-ttyS rw', 'char-usb_device rw']),
    );
    expect(value('Service', 'RestrictAddressFamilies')).toBe('AF_UNIX AF_INET AF_INET6 AF_NETLINK');
    expect(values('Service', 'SystemCallFilter')).toContain('@system-service');
    expect(value('Service', 'PrivateDevices')).toBeUndefined();
  });

  it('does not set MemoryDenyWriteExecute, which crashes V8', () => {
    expect(unitText).not.toMatch(/^MemoryDenyWriteExecute=/m);
  });
});

// CI installs systemd when systemd-analyze is missing (.ci/run); without it these tests fail, they never skip.
const systemdAnalyze = findTool('systemd-analyze') ?? 'systemd-analyze';

describe('kkt-agent.service under systemd-analyze', () => {
  let dir: string;
  let unitCopy: string;

  beforeAll(() => {
    // verify checks that ExecStart's binary exists: point it at the node running this test.
    dir = mkdtempSync(join(tmpdir(), 'kkt-unit-'));
    unitCopy = join(dir, 'kkt-agent.service');
    writeFileSync(
      unitCopy,
      unitText.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `),
    );
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes systemd-analyze verify without warnings about the unit', () => {
    const result = spawnSync(systemdAnalyze, ['verify', unitCopy], { encoding: 'utf8' });
    const aboutUnit = result.stderr.split('\n').filter((line) => line.includes('kkt-agent.service'));
    expect(aboutUnit).toEqual([]);
    expect(result.status).toBe(0);
  });

  it(`has an offline security exposure of at most ${MAX_EXPOSURE}`, (context) => {
    const result = spawnSync(systemdAnalyze, ['security', '--offline=true', '--no-pager', unitCopy], {
      encoding: 'utf8',
    });
    if (/unrecognized option|unknown option/i.test(result.stderr)) {
      context.skip(`this systemd-analyze has no --offline: ${result.stderr.trim()}`);
    }
    const score = /Overall exposure level for kkt-agent\.service: (\d+(?:\.\d+)?)/.exec(result.stdout);
    expect(score, result.stdout + result.stderr).not.toBeNull();
    expect(Number(score?.[1])).toBeLessThanOrEqual(MAX_EXPOSURE);
  });
});
