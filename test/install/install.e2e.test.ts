import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// install.sh and uninstall.sh run against a throwaway DESTDIR, with npm, systemctl and udevadm replaced by
// scripts that only log their arguments: the host's /etc, /opt, users and services are never touched.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const INSTALL = join(repoRoot, 'scripts/install.sh');
const UNINSTALL = join(repoRoot, 'scripts/uninstall.sh');

let work: string;
let source: string;
let root: string;
let callLog: string;

function writeExecutable(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'kkt-install-'));
  source = join(work, 'checkout');
  root = join(work, 'root');
  callLog = join(work, 'calls.log');
  writeFileSync(callLog, '');

  // A built checkout in miniature, with the real unit and rule.
  mkdirSync(join(source, 'bin'), { recursive: true });
  mkdirSync(join(source, 'dist/src/cli'), { recursive: true });
  writeFileSync(join(source, 'bin/kkt-agent.js'), "#!/usr/bin/env node\nimport '../dist/src/cli/main.js';\n");
  writeFileSync(join(source, 'dist/src/cli/main.js'), 'console.log("kkt-agent");\n');
  writeFileSync(join(source, 'package.json'), '{"name":"kkt-agent","version":"0.0.0-test"}\n');
  writeFileSync(join(source, 'package-lock.json'), '{"lockfileVersion":3}\n');
  writeFileSync(join(source, 'config.example.json'), '{"example":true}\n');
  cpSync(join(repoRoot, 'systemd'), join(source, 'systemd'), { recursive: true });

  const tools = join(work, 'tools');
  mkdirSync(tools);
  writeExecutable(
    join(tools, 'npm'),
    `#!/usr/bin/env bash\necho "npm $*" >> "${callLog}"\nmkdir -p node_modules/left-pad\necho 'module.exports = 1;' > node_modules/left-pad/index.js\n`,
  );
  writeExecutable(join(tools, 'systemctl'), `#!/usr/bin/env bash\necho "systemctl $*" >> "${callLog}"\n`);
  writeExecutable(join(tools, 'udevadm'), `#!/usr/bin/env bash\necho "udevadm $*" >> "${callLog}"\n`);
  writeExecutable(join(tools, 'node18'), '#!/usr/bin/env bash\necho 18.19.0\n');
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

interface Result {
  status: number | null;
  output: string;
}

function run(script: string, args: string[], env: Record<string, string> = {}): Result {
  const tools = join(work, 'tools');
  const result = spawnSync('bash', [script, ...args], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      DESTDIR: root,
      NODE: process.execPath,
      NPM: join(tools, 'npm'),
      SYSTEMCTL: join(tools, 'systemctl'),
      UDEVADM: join(tools, 'udevadm'),
      ...env,
    },
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

const install = (...args: string[]) => run(INSTALL, ['--source', source, '--no-user', ...args]);
const uninstall = (...args: string[]) => run(UNINSTALL, ['--no-user', ...args]);

function calls(): string[] {
  return readFileSync(callLog, 'utf8').split('\n').filter(Boolean);
}

const at = (path: string) => join(root, path);
const modeOf = (path: string) => (lstatSync(at(path)).mode & 0o7777).toString(8);

/** Every entry below the root: type, mode, size, content hash, inode and mtime. Equal means untouched. */
function snapshot(): Record<string, string> {
  const entries: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      const hash = stat.isFile() ? createHash('sha256').update(readFileSync(path)).digest('hex') : '';
      entries[relative(root, path)] = [stat.mode.toString(8), stat.size, hash, stat.ino, stat.mtimeMs].join(
        ' ',
      );
      if (stat.isDirectory()) walk(path);
    }
  };
  walk(root);
  return entries;
}

describe('install.sh', () => {
  it('installs app, config, state and log directories, unit and udev rule with their modes', () => {
    const result = install();
    expect(result.status, result.output).toBe(0);

    expect(modeOf('opt/kkt-agent')).toBe('755');
    expect(modeOf('opt/kkt-agent/bin/kkt-agent.js')).toBe('755');
    expect(modeOf('opt/kkt-agent/dist/src/cli/main.js')).toBe('644');
    expect(readFileSync(at('opt/kkt-agent/node_modules/left-pad/index.js'), 'utf8')).toContain(
      'module.exports',
    );
    expect(existsSync(at('opt/kkt-agent/package.json'))).toBe(true);
    expect(existsSync(at('opt/kkt-agent/package-lock.json'))).toBe(true);

    expect(modeOf('etc/kkt-agent')).toBe('750');
    expect(modeOf('etc/kkt-agent/config.json')).toBe('640');
    expect(readFileSync(at('etc/kkt-agent/config.json'), 'utf8')).toBe('{"example":true}\n');
    expect(modeOf('var/lib/kkt-agent')).toBe('750');
    expect(modeOf('var/log/kkt-agent')).toBe('750');

    const unit = readFileSync(join(repoRoot, 'systemd/kkt-agent.service'), 'utf8');
    expect(readFileSync(at('etc/systemd/system/kkt-agent.service'), 'utf8')).toBe(
      unit.replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `),
    );
    expect(modeOf('etc/systemd/system/kkt-agent.service')).toBe('644');
    expect(readFileSync(at('etc/udev/rules.d/99-atol-kkt.rules'), 'utf8')).toBe(
      readFileSync(join(repoRoot, 'systemd/99-atol-kkt.rules'), 'utf8'),
    );
    expect(modeOf('etc/udev/rules.d/99-atol-kkt.rules')).toBe('644');

    expect(calls()).toEqual([
      'npm ci --omit=dev --no-audit --no-fund',
      'udevadm control --reload-rules',
      'udevadm trigger --action=change --subsystem-match=tty --subsystem-match=usb',
      'systemctl daemon-reload',
      'systemctl enable kkt-agent.service',
      'systemctl restart kkt-agent.service',
    ]);
  });

  it('changes nothing on a second run and keeps a modified config', () => {
    expect(install().status).toBe(0);
    writeFileSync(at('etc/kkt-agent/config.json'), '{"site":"shop-1","token":"edited by hand"}\n');
    const before = snapshot();
    writeFileSync(callLog, '');

    const second = install();
    expect(second.status, second.output).toBe(0);
    expect(second.output).toContain('everything was already in place');
    expect(snapshot()).toEqual(before);
    expect(readFileSync(at('etc/kkt-agent/config.json'), 'utf8')).toContain('edited by hand');
    // No dependency reinstall, no reload, and a start (not a restart) that leaves a running agent alone.
    expect(calls()).toEqual(['systemctl enable kkt-agent.service', 'systemctl start kkt-agent.service']);
  });

  it('replaces only what changed in the checkout, and restarts the service', () => {
    expect(install().status).toBe(0);
    writeFileSync(join(source, 'dist/src/cli/main.js'), 'console.log("kkt-agent 2");\n');
    writeFileSync(callLog, '');

    const result = install();
    expect(result.status, result.output).toBe(0);
    expect(readFileSync(at('opt/kkt-agent/dist/src/cli/main.js'), 'utf8')).toContain('kkt-agent 2');
    expect(calls()).toEqual(['systemctl enable kkt-agent.service', 'systemctl restart kkt-agent.service']);
  });

  it('reinstalls production dependencies when the lockfile changes', () => {
    expect(install().status).toBe(0);
    writeFileSync(join(source, 'package-lock.json'), '{"lockfileVersion":3,"packages":{}}\n');
    writeFileSync(callLog, '');
    expect(install().status).toBe(0);
    expect(calls()).toContain('npm ci --omit=dev --no-audit --no-fund');
  });

  it('calls neither systemctl nor udevadm with --no-systemctl', () => {
    const result = install('--no-systemctl');
    expect(result.status, result.output).toBe(0);
    expect(calls()).toEqual(['npm ci --omit=dev --no-audit --no-fund']);
    expect(result.output).toContain('systemctl daemon-reload && systemctl enable --now kkt-agent');
  });

  it('refuses a node older than 20 and says how to get a newer one', () => {
    const result = run(INSTALL, ['--source', source, '--no-user'], { NODE: join(work, 'tools/node18') });
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/Node\.js 20 or newer is required.*v18\.19\.0/);
    expect(result.output).toContain('NodeSource');
    expect(existsSync(at('opt/kkt-agent'))).toBe(false);
  });

  it('refuses a checkout that was not built', () => {
    rmSync(join(source, 'dist'), { recursive: true });
    const result = install();
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("Run 'npm ci && npm run build' there first");
  });
});

describe('uninstall.sh', () => {
  it('removes app, unit and rule, and keeps config, state and logs', () => {
    expect(install().status).toBe(0);
    writeFileSync(at('var/lib/kkt-agent/journal.jsonl'), '{"job":1}\n');
    writeFileSync(callLog, '');

    const result = uninstall();
    expect(result.status, result.output).toBe(0);
    expect(existsSync(at('opt/kkt-agent'))).toBe(false);
    expect(existsSync(at('etc/systemd/system/kkt-agent.service'))).toBe(false);
    expect(existsSync(at('etc/udev/rules.d/99-atol-kkt.rules'))).toBe(false);
    expect(readFileSync(at('etc/kkt-agent/config.json'), 'utf8')).toBe('{"example":true}\n');
    expect(readFileSync(at('var/lib/kkt-agent/journal.jsonl'), 'utf8')).toBe('{"job":1}\n');
    expect(existsSync(at('var/log/kkt-agent'))).toBe(true);
    expect(calls()).toEqual([
      'systemctl disable --now kkt-agent.service',
      'systemctl daemon-reload',
      'systemctl reset-failed kkt-agent.service',
      'udevadm control --reload-rules',
    ]);

    const again = uninstall();
    expect(again.status, again.output).toBe(0);
  });

  it('also removes config, state and logs with --purge', () => {
    expect(install().status).toBe(0);
    const result = uninstall('--purge');
    expect(result.status, result.output).toBe(0);
    for (const path of ['opt/kkt-agent', 'etc/kkt-agent', 'var/lib/kkt-agent', 'var/log/kkt-agent']) {
      expect(existsSync(at(path)), path).toBe(false);
    }
  });

  it('keeps a reinstall working after an uninstall', () => {
    expect(install().status).toBe(0);
    writeFileSync(at('etc/kkt-agent/config.json'), '{"kept":true}\n');
    expect(uninstall().status).toBe(0);
    const result = install();
    expect(result.status, result.output).toBe(0);
    expect(readFileSync(at('etc/kkt-agent/config.json'), 'utf8')).toBe('{"kept":true}\n');
    expect(existsSync(at('opt/kkt-agent/bin/kkt-agent.js'))).toBe(true);
  });
});
