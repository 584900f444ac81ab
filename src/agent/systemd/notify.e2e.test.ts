import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemdNotifyError } from './errors.js';
import { SystemdNotifier } from './notify.js';
import { listenUnixDatagram } from './unixDatagram.js';

describe('SystemdNotifier on real unix datagram sockets', () => {
  it('reports a refused datagram as SD_NOTIFY_SEND_FAILED', () => {
    const notifier = new SystemdNotifier('/nonexistent/kkt-agent-notify.sock');
    let caught: unknown;
    try {
      notifier.ready();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SystemdNotifyError);
    expect(caught).toMatchObject({ code: 'SD_NOTIFY_SEND_FAILED' });
  });

  it('delivers real unix datagrams to a bound socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kkt-notify-'));
    const socketPath = join(dir, 'notify.sock');
    const received: string[] = [];
    const listener = await listenUnixDatagram(socketPath, (message) => received.push(message.toString()));
    try {
      const notifier = new SystemdNotifier(socketPath);
      notifier.ready();
      notifier.watchdog();
      await expect.poll(() => received).toEqual(['READY=1\n', 'WATCHDOG=1\n']);
    } finally {
      listener.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
