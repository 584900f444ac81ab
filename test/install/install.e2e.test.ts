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
  realpathSync,
  rmSync,
  symlinkSync,
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
  // What the user's "npm ci" left: a production and a development dependency.
  mkdirSync(join(source, 'node_modules/left-pad'), { recursive: true });
  writeFileSync(join(source, 'node_modules/left-pad/index.js'), 'module.exports = 1;\n');
  mkdirSync(join(source, 'node_modules/typescript'), { recursive: true });
  writeFileSync(join(source, 'node_modules/typescript/index.js'), 'module.exports = "dev";\n');

  const tools = join(work, 'tools');
  mkdirSync(tools);
  writeExecutable(
    join(tools, 'npm'),
    `#!/usr/bin/env bash\necho "npm $*" >> "${callLog}"\n[ "$1" != prune ] || rm -rf node_modules/typescript\n`,
  );
  writeExecutable(join(tools, 'systemctl'), `#!/usr/bin/env bash\necho "systemctl $*" >> "${callLog}"\n`);
  writeExecutable(join(tools, 'udevadm'), `#!/usr/bin/env bash\necho "udevadm $*" >> "${callLog}"\n`);
  writeExecutable(join(tools, 'node18'), '#!/usr/bin/env bash\necho 18.19.0\n');
  writeExecutable(join(tools, 'node-gyp.js'), `console.log("unused");\n`);
  // Prints FAKE_MACHINE, or x86_64 when the test sets none.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
  writeExecutable(join(tools, 'uname'), '#!/usr/bin/env bash\necho "${FAKE_MACHINE:-x86_64}"\n');
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
      UNAME: join(tools, 'uname'),
      NODE_GYP: join(tools, 'node-gyp.js'),
      ...env,
    },
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

const PRUNE = 'npm prune --omit=dev --ignore-scripts --offline --no-audit --no-fund';
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
    expect(existsSync(at('opt/kkt-agent/node_modules/typescript'))).toBe(false);
    expect(existsSync(at('opt/kkt-agent/package.json'))).toBe(true);
    // The command on PATH runs the app on the node the installer found.
    expect(readFileSync(at('usr/local/bin/kkt-agent'), 'utf8')).toContain(
      `exec ${process.execPath} /opt/kkt-agent/bin/kkt-agent.js "$@"`,
    );
    expect(modeOf('usr/local/bin/kkt-agent')).toBe('755');
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
      PRUNE,
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
    expect(calls()).toContain(PRUNE);
  });

  it('calls neither systemctl nor udevadm with --no-systemctl', () => {
    const result = install('--no-systemctl');
    expect(result.status, result.output).toBe(0);
    expect(calls()).toEqual([PRUNE]);
    expect(result.output).toContain('systemctl daemon-reload && systemctl enable --now kkt-agent');
  });

  it('refuses a node older than 20 and says how to get a newer one', () => {
    const result = run(INSTALL, ['--source', source, '--no-user'], { NODE: join(work, 'tools/node18') });
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/Node\.js 20 or newer is required.*v18\.19\.0/s);
    expect(result.output).toContain('NodeSource');
    expect(existsSync(at('opt/kkt-agent'))).toBe(false);
  });

  it('runs the npm that sits beside the node it found', () => {
    const tools = join(work, 'tools');
    symlinkSync(process.execPath, join(tools, 'node'));
    const result = run(INSTALL, ['--source', source, '--no-user'], { NODE: join(tools, 'node'), NPM: '' });
    expect(result.status, result.output).toBe(0);
    expect(calls()).toContain(PRUNE);
  });

  it('refuses a node under /home, which ProtectHome=yes hides from the service', () => {
    const home = mkdtempSync('/home/kkt-install-');
    try {
      symlinkSync(process.execPath, join(home, 'node'));
      const result = run(INSTALL, ['--source', source, '--no-user'], { NODE: join(home, 'node') });
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(/under \/home or \/root.*ProtectHome=yes/s);
      expect(result.output).toContain('203/EXEC');
      expect(existsSync(at('opt/kkt-agent'))).toBe(false);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('refuses an ARMv6 Pi and says why', () => {
    const result = run(INSTALL, ['--source', source, '--no-user'], { FAKE_MACHINE: 'armv6l' });
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/armv6l CPU \(Raspberry Pi Zero W or Pi 1\).*does not support it/s);
    expect(result.output).toContain('ARMv7');
    expect(existsSync(at('opt/kkt-agent'))).toBe(false);
  });

  describe('native modules from the checkout', () => {
    // A real addon built by this machine's npm ci for this node, in a package that can be rebuilt.
    const addon = join(repoRoot, 'node_modules/unix-dgram/build/Release/unix_dgram.node');
    const nativePackage = () => join(source, 'node_modules/native-thing');
    beforeEach(() => {
      mkdirSync(join(nativePackage(), 'build/Release'), { recursive: true });
      writeFileSync(join(nativePackage(), 'binding.gyp'), '{"targets":[]}\n');
      writeFileSync(join(nativePackage(), 'package.json'), '{"name":"native-thing","version":"1.0.0"}\n');
    });

    it('are copied, not compiled again, when they load on this node', () => {
      cpSync(addon, join(nativePackage(), 'build/Release/thing.node'));
      const gyp = join(work, 'tools/node-gyp.js');
      writeFileSync(gyp, `require('node:fs').appendFileSync(${JSON.stringify(callLog)}, 'node-gyp\\n');\n`);
      const result = install();
      expect(result.status, result.output).toBe(0);
      expect(existsSync(at('opt/kkt-agent/node_modules/native-thing/build/Release/thing.node'))).toBe(true);
      expect(calls()).not.toContain('node-gyp');
    });

    it('are rebuilt with node-gyp against the local headers when they do not load (another Node)', () => {
      writeFileSync(join(nativePackage(), 'build/Release/thing.node'), 'built for another Node\n');
      // Stands in for node-gyp: records its arguments and "builds" a binary that loads.
      writeFileSync(
        join(work, 'tools/node-gyp.js'),
        `const fs = require('node:fs');
fs.appendFileSync(${JSON.stringify(callLog)}, 'node-gyp ' + process.argv.slice(2).join(' ') + '\\n');
fs.copyFileSync(${JSON.stringify(addon)}, 'build/Release/thing.node');\n`,
      );
      const result = install();
      expect(result.status, result.output).toBe(0);
      const nodedir = dirname(dirname(realpathSync(process.execPath)));
      expect(calls()).toContain(`node-gyp rebuild --release --nodedir=${nodedir}`);
      expect(result.output).toContain(`headers from ${nodedir}/include/node`);
      // The checkout itself is left alone: the rebuild happened in the installed copy.
      expect(readFileSync(join(nativePackage(), 'build/Release/thing.node'), 'utf8')).toBe(
        'built for another Node\n',
      );
    });
  });

  describe('the release tarball tree', () => {
    beforeEach(() => {
      // Its own node (here a stand-in that runs this one), production node_modules, release.json.
      mkdirSync(join(source, 'node/bin'), { recursive: true });
      writeExecutable(join(source, 'node/bin/node'), `#!/bin/sh\nexec ${process.execPath} "$@"\n`);
      writeFileSync(join(source, 'release.json'), '{\n  "arch": "amd64",\n  "node": "24.0.0"\n}\n');
      rmSync(join(source, 'node_modules/typescript'), { recursive: true });
    });

    it('installs its own node and node_modules without npm, and points unit and command at that node', () => {
      const result = install();
      expect(result.status, result.output).toBe(0);
      expect(calls().filter((call) => call.startsWith('npm'))).toEqual([]);
      expect(modeOf('opt/kkt-agent/node/bin/node')).toBe('755');
      expect(existsSync(at('opt/kkt-agent/node_modules/left-pad/index.js'))).toBe(true);
      expect(readFileSync(at('etc/systemd/system/kkt-agent.service'), 'utf8')).toMatch(
        /^ExecStart=\/opt\/kkt-agent\/node\/bin\/node (--[a-z-]+(=\d+)? )*\/opt\/kkt-agent\/bin\/kkt-agent\.js run/m,
      );
      expect(readFileSync(at('usr/local/bin/kkt-agent'), 'utf8')).toContain(
        'exec /opt/kkt-agent/node/bin/node /opt/kkt-agent/bin/kkt-agent.js "$@"',
      );
    });

    it('refuses a tree built for another architecture', () => {
      const result = run(INSTALL, ['--source', source, '--no-user'], { FAKE_MACHINE: 'aarch64' });
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('built for amd64, this machine is aarch64');
    });
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
