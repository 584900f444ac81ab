import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// .ci/ensure-packages runs with a PATH that holds only stand-ins: `id`, `sudo` and `apt-get` that log their
// arguments, and empty executables for the commands that count as installed. Nothing is installed for real.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = join(repoRoot, '.ci/ensure-packages');
const PACKAGE_LIST = join(repoRoot, '.ci/debian-packages');

let work: string;
let bin: string;
let callLog: string;

function executable(name: string, text = '#!/bin/sh\n'): void {
  writeFileSync(join(bin, name), text);
  chmodSync(join(bin, name), 0o755);
}

/** The commands the real list probes for, each with its package, for the packages `npm test` needs. */
function testPackages(): Array<{ name: string; command: string }> {
  return readFileSync(PACKAGE_LIST, 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([name, , who]) => name && !name.startsWith('#') && who === 'test')
    .map(([name, command]) => ({ name: name as string, command: command as string }));
}

/** Everything in the real list is there except these commands. */
function installedAllBut(...missing: string[]): void {
  for (const { command } of testPackages()) if (!missing.includes(command)) executable(command);
}

/** `id -u` answers this uid; apt-get logs and "installs" each package as an executable of its name. */
function fakeSystem(options: { uid: number; sudo?: 'passwordless' | 'asks' | 'absent'; installs?: boolean }) {
  executable('id', `#!/bin/sh\necho ${options.uid}\n`);
  // Installing a package brings its command (mosquitto brings mosquitto_passwd); other names stand for themselves.
  const commandOf = testPackages()
    .map(({ name, command }) => `${name}) c=${command};;`)
    .join(' ');
  const install =
    `if [ "$1" = install ]; then for p in "$@"; do case "$p" in -*|install) continue;; esac; ` +
    `case "$p" in ${commandOf} *) c="$p";; esac; printf '#!/bin/sh\\n' > "${bin}/$c"; /bin/chmod +x "${bin}/$c"; done; fi\n`;
  executable(
    'apt-get',
    `#!/bin/bash\necho "apt-get $*" >> "${callLog}"\n${options.installs === false ? '' : install}`,
  );
  if (options.sudo === 'passwordless') {
    executable('sudo', `#!/bin/bash\necho "sudo $*" >> "${callLog}"\n[ "$1" = -n ] && shift\n"$@"\n`);
  } else if (options.sudo === 'asks') {
    executable(
      'sudo',
      `#!/bin/bash\necho "sudo $*" >> "${callLog}"\necho "sudo: a password is required" >&2\nexit 1\n`,
    );
  }
}

function run(script = SCRIPT, ...args: string[]) {
  const result = spawnSync('/bin/bash', [script, ...args], {
    encoding: 'utf8',
    env: { PATH: bin },
    timeout: 10_000,
  });
  return { status: result.status, stderr: result.stderr };
}

const calls = () => readFileSync(callLog, 'utf8').split('\n').filter(Boolean);

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'kkt-ensure-'));
  bin = join(work, 'bin');
  mkdirSync(bin);
  callLog = join(work, 'calls.log');
  writeFileSync(callLog, '');
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('.ci/ensure-packages (the pretest step)', () => {
  it('lists socat, mosquitto, openssl and systemd for the tests', () => {
    expect(testPackages().map((p) => p.name)).toEqual(
      expect.arrayContaining(['socat', 'mosquitto', 'openssl', 'systemd']),
    );
  });

  it('does nothing when every command is there', () => {
    installedAllBut();
    fakeSystem({ uid: 1000, sudo: 'absent' });
    expect(run()).toEqual({ status: 0, stderr: '' });
    expect(calls()).toEqual([]);
  });

  it('as root, installs exactly the missing packages with apt-get', () => {
    installedAllBut('socat', 'mosquitto_passwd');
    fakeSystem({ uid: 0 });
    const result = run();
    expect(result.status).toBe(0);
    expect(calls()).toEqual([
      'apt-get update -qq',
      'apt-get install -y -qq --no-install-recommends socat mosquitto',
    ]);
  });

  it('as a user with passwordless sudo, installs through sudo', () => {
    installedAllBut('openssl');
    fakeSystem({ uid: 1000, sudo: 'passwordless' });
    expect(run().status).toBe(0);
    expect(calls()).toEqual([
      'sudo -n true',
      'sudo -n apt-get update -qq',
      'apt-get update -qq',
      'sudo -n apt-get install -y -qq --no-install-recommends openssl',
      'apt-get install -y -qq --no-install-recommends openssl',
    ]);
  });

  it('without the right to install, stops at once with the one command to run', () => {
    installedAllBut('socat', 'systemd-analyze');
    fakeSystem({ uid: 1000, sudo: 'asks' });
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('  sudo apt-get install -y socat systemd\n');
    expect(calls()).toEqual(['sudo -n true']);
  });

  it('without sudo at all, stops with the same command', () => {
    installedAllBut('socat');
    fakeSystem({ uid: 1000, sudo: 'absent' });
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('  sudo apt-get install -y socat\n');
    expect(calls()).toEqual([]);
  });

  it('fails when apt-get ran but the command is still missing', () => {
    installedAllBut('socat');
    fakeSystem({ uid: 0, installs: false });
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/still missing: socat/);
  });

  it('names the packages on a system without apt-get', () => {
    installedAllBut('socat');
    executable('id', '#!/bin/sh\necho 0\n');
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/need these Debian packages .*: socat/);
  });

  it('installs packages marked `ci` only when .ci/run asks with --ci', () => {
    // A copy of the script beside a list of its own, as .ci/run would see a CI-only tool.
    const ci = join(work, 'ci');
    mkdirSync(ci);
    copyFileSync(SCRIPT, join(ci, 'ensure-packages'));
    writeFileSync(
      join(ci, 'debian-packages'),
      '# package command who\nsocat socat test # serial\nmmdebstrap mmdebstrap ci # the Pi image\n',
    );
    fakeSystem({ uid: 0 });
    executable('socat');
    expect(run(join(ci, 'ensure-packages')).status).toBe(0);
    expect(calls()).toEqual([]);
    expect(run(join(ci, 'ensure-packages'), '--ci').status).toBe(0);
    expect(calls()).toEqual([
      'apt-get update -qq',
      'apt-get install -y -qq --no-install-recommends mmdebstrap',
    ]);
  });
});

describe('where the step runs', () => {
  it('npm test runs it first, and .ci/run runs it for the CI packages too', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(manifest.scripts.pretest).toBe('bash .ci/ensure-packages');
    expect(readFileSync(join(repoRoot, '.ci/run'), 'utf8')).toMatch(/^bash \.ci\/ensure-packages --ci$/m);
  });
});
