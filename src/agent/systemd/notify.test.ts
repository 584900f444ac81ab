import { afterEach, describe, expect, it } from 'vitest';
import { formatNotifyMessage, SystemdNotifier } from './notify.js';

describe('formatNotifyMessage', () => {
  it('writes one KEY=VALUE line per field, true as 1, and skips undefined fields', () => {
    expect(formatNotifyMessage({ READY: true, STATUS: 'running', MAINPID: undefined })).toBe(
      'READY=1\nSTATUS=running\n',
    );
    expect(formatNotifyMessage({ EXTEND_TIMEOUT_USEC: 5_000_000 })).toBe('EXTEND_TIMEOUT_USEC=5000000\n');
  });

  it('keeps a multi-line status on one line so it cannot inject assignments', () => {
    expect(formatNotifyMessage({ STATUS: 'paper out\nREADY=1' })).toBe('STATUS=paper out READY=1\n');
  });
});

describe('SystemdNotifier', () => {
  const sent: { path: string; text: string }[] = [];
  const record = (path: string, payload: Buffer) => {
    sent.push({ path, text: payload.toString('utf8') });
  };
  afterEach(() => {
    sent.length = 0;
  });

  it('is a no-op outside systemd', () => {
    const notifier = SystemdNotifier.fromEnv({}, record);
    expect(notifier.enabled).toBe(false);
    notifier.ready();
    notifier.watchdog();
    notifier.stopping();
    expect(sent).toEqual([]);
  });

  it('sends the sd_notify messages to NOTIFY_SOCKET', () => {
    const notifier = SystemdNotifier.fromEnv({ NOTIFY_SOCKET: '/run/systemd/notify' }, record);
    notifier.ready('serving');
    notifier.watchdog();
    notifier.status('printing receipt');
    notifier.extendTimeout(30_000);
    notifier.mainPid(42);
    notifier.stopping();
    expect(sent.map((message) => message.text)).toEqual([
      'READY=1\nSTATUS=serving\n',
      'WATCHDOG=1\n',
      'STATUS=printing receipt\n',
      'EXTEND_TIMEOUT_USEC=30000000\n',
      'MAINPID=42\n',
      'STOPPING=1\n',
    ]);
    expect(new Set(sent.map((message) => message.path))).toEqual(new Set(['/run/systemd/notify']));
  });

  it('refuses abstract and relative socket names it cannot address', () => {
    for (const socket of ['@/org/freedesktop/systemd1/notify', 'run/notify']) {
      expect(() => SystemdNotifier.fromEnv({ NOTIFY_SOCKET: socket }, record)).toThrow(
        expect.objectContaining({ code: 'SD_NOTIFY_SOCKET_UNSUPPORTED' }),
      );
    }
  });
});
