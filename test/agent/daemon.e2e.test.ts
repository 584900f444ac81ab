import { lstat, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/agent/config/config.js';
import { runDaemon, startDaemon } from '../../src/agent/daemon.js';
import { until } from '../support/until.js';

/**
 * The daemon in this process (the e2e files run it as a process; this one is what coverage sees): SIGHUP
 * reopens the log file (issue 18.10) and a control socket path that is not a socket stops the start
 * before anything is opened (18.6).
 */

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-daemon-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const config = (extra: Record<string, unknown> = {}) =>
  parseConfig({
    dataDir: join(dir, 'data'),
    log: { level: 'info', pretty: false, file: { path: join(dir, 'agent.log') } },
    devices: [{ id: 'paper', kind: 'nonfiscal' }],
    ...extra,
  });

const logged = (path: string, event: string) => async () =>
  (await readFile(path, 'utf8').catch(() => '')).includes(`"event":"${event}"`);

describe('the daemon in process', () => {
  it('SIGHUP reopens the log file; SIGTERM stops it and the socket goes', async () => {
    const path = join(dir, 'agent.log');
    const running = runDaemon(config());
    await until(logged(path, 'daemon.ready'), 'ready', 20_000);
    await rename(path, `${path}.moved`);
    process.emit('SIGHUP');
    await until(logged(path, 'daemon.sighup'), 'the sighup line in the reopened file', 10_000);
    process.emit('SIGTERM');
    await running;
    await expect(lstat(join(dir, 'data', 'control.sock'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(path, 'utf8')).toContain('"event":"daemon.stopping"');
  });

  it('refuses a control socket path that is a regular file, before opening a journal', async () => {
    const precious = join(dir, 'precious.txt');
    await writeFile(precious, 'keep me');
    await expect(startDaemon(config({ control: { socketPath: precious } }))).rejects.toMatchObject({
      name: 'ConfigError',
      code: 'CONTROL_SOCKET_PATH_TAKEN',
    });
    expect(await readFile(precious, 'utf8')).toBe('keep me');
    await expect(lstat(join(dir, 'data', 'agent.db'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
