import { afterEach, describe, expect, it } from 'vitest';
import { SystemdIntegration } from './integration.js';
import { Watchdog, type WatchdogNotifier, watchdogTimeoutMsFromEnv } from './watchdog.js';

function recordingNotifier(): WatchdogNotifier & { messages: string[] } {
  const messages: string[] = [];
  return {
    messages,
    watchdog: () => messages.push('WATCHDOG=1'),
    status: (text) => messages.push(`STATUS=${text}`),
  };
}

const pings = (messages: string[]) => messages.filter((message) => message === 'WATCHDOG=1').length;

describe('watchdogTimeoutMsFromEnv', () => {
  it('reads WATCHDOG_USEC as milliseconds', () => {
    expect(watchdogTimeoutMsFromEnv({ WATCHDOG_USEC: '30000000' }, 10)).toBe(30_000);
  });

  it('is undefined without a usable deadline', () => {
    expect(watchdogTimeoutMsFromEnv({}, 10)).toBeUndefined();
    expect(watchdogTimeoutMsFromEnv({ WATCHDOG_USEC: '0' }, 10)).toBeUndefined();
    expect(watchdogTimeoutMsFromEnv({ WATCHDOG_USEC: 'soon' }, 10)).toBeUndefined();
  });

  it('ignores a deadline meant for another process', () => {
    expect(watchdogTimeoutMsFromEnv({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '11' }, 10)).toBeUndefined();
    expect(watchdogTimeoutMsFromEnv({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '10' }, 10)).toBe(30_000);
  });
});

describe('Watchdog', () => {
  let watchdog: Watchdog | undefined;
  afterEach(() => {
    watchdog?.stop();
    watchdog = undefined;
  });

  it('pings at half the deadline by default', () => {
    watchdog = new Watchdog({ notifier: recordingNotifier(), timeoutMs: 30_000 });
    expect(watchdog.pingIntervalMs).toBe(15_000);
  });

  it('is healthy while every probe passes, and names the failing probe otherwise', () => {
    watchdog = new Watchdog({ notifier: recordingNotifier(), timeoutMs: 30_000 });
    let heartbeatFresh = true;
    watchdog.addProbe('device loop', () => heartbeatFresh || 'heartbeat is 45 s old');
    watchdog.addProbe('journal', () => true);
    expect(watchdog.check()).toEqual({ healthy: true });
    heartbeatFresh = false;
    expect(watchdog.check()).toEqual({ healthy: false, reason: 'device loop: heartbeat is 45 s old' });
  });

  it('treats a throwing probe as failed and forgets removed probes', () => {
    watchdog = new Watchdog({ notifier: recordingNotifier(), timeoutMs: 30_000 });
    const remove = watchdog.addProbe('broken', () => {
      throw new Error('boom');
    });
    expect(watchdog.check()).toEqual({ healthy: false, reason: 'broken: probe failed: boom' });
    remove();
    expect(watchdog.check()).toEqual({ healthy: true });
  });

  it('rejects two probes with one name', () => {
    watchdog = new Watchdog({ notifier: recordingNotifier(), timeoutMs: 30_000 });
    watchdog.addProbe('device loop', () => true);
    expect(() => watchdog?.addProbe('device loop', () => true)).toThrow(/already registered/);
  });

  it('withholds pings and reports the reason while a probe fails, and resumes when it passes', async () => {
    const notifier = recordingNotifier();
    watchdog = new Watchdog({ notifier, timeoutMs: 40, maxEventLoopLagMs: 10_000 });
    let alive = true;
    watchdog.addProbe('device loop', () => alive || 'heartbeat stale');
    const events: string[] = [];
    watchdog.on('unhealthy', (reason) => events.push(`unhealthy ${reason}`));
    watchdog.on('healthy', () => events.push('healthy'));
    watchdog.start();
    await expect.poll(() => pings(notifier.messages)).toBeGreaterThanOrEqual(2);

    alive = false;
    await expect.poll(() => notifier.messages).toContain('STATUS=unhealthy: device loop: heartbeat stale');
    const failedAt = notifier.messages.indexOf('STATUS=unhealthy: device loop: heartbeat stale');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pings(notifier.messages.slice(failedAt))).toBe(0);

    alive = true;
    await expect.poll(() => pings(notifier.messages.slice(failedAt))).toBeGreaterThanOrEqual(1);
    expect(events).toEqual(['unhealthy device loop: heartbeat stale', 'healthy']);
  });

  it('withholds the ping after the event loop was blocked longer than allowed', async () => {
    const notifier = recordingNotifier();
    watchdog = new Watchdog({ notifier, timeoutMs: 60_000, maxEventLoopLagMs: 50 });
    watchdog.start();
    expect(pings(notifier.messages)).toBe(1);
    // Let the delay monitor take its first samples, as it has long done in a running agent.
    await new Promise((resolve) => setTimeout(resolve, 60));
    const until = performance.now() + 120;
    while (performance.now() < until) {
      // A synchronous stall the periodic timer cannot interrupt.
    }
    // The delay is measured when the loop gets to run again.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const health = watchdog.check();
    expect(health.healthy).toBe(false);
    expect(health.healthy ? '' : health.reason).toMatch(/^event loop stalled for \d+ ms \(limit 50 ms\)$/);
  });
});

describe('SystemdIntegration', () => {
  it('does nothing outside systemd', () => {
    const integration = SystemdIntegration.start({ env: {} });
    expect(integration.enabled).toBe(false);
    expect(integration.watchdog).toBeUndefined();
    integration.addProbe('device loop', () => 'never asked')();
    integration.ready();
    integration.stopping();
  });

  it('refuses to run when WatchdogSec= is set but nothing can be notified', () => {
    expect(() => SystemdIntegration.start({ env: { WATCHDOG_USEC: '30000000' } })).toThrow(
      expect.objectContaining({ code: 'SD_WATCHDOG_WITHOUT_NOTIFY' }),
    );
    expect(() =>
      SystemdIntegration.start({
        env: { WATCHDOG_USEC: '30000000', NOTIFY_SOCKET: '/nonexistent/kkt-agent/notify' },
      }),
    ).toThrow(expect.objectContaining({ code: 'SD_WATCHDOG_WITHOUT_NOTIFY' }));
  });

  it('fails start-up when NOTIFY_SOCKET is set but unusable, even without a watchdog', () => {
    expect(() => SystemdIntegration.start({ env: { NOTIFY_SOCKET: '@abstract' } })).toThrow(
      expect.objectContaining({ code: 'SD_NOTIFY_SOCKET_UNSUPPORTED' }),
    );
  });

  it('proves the socket at start, then reports READY and STOPPING', () => {
    const sent: string[] = [];
    const integration = SystemdIntegration.start({
      env: { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' },
      pid: 7,
      send: (_path, payload) => sent.push(payload.toString()),
    });
    try {
      expect(integration.watchdog?.timeoutMs).toBe(30_000);
      integration.ready('serving');
      integration.stopping();
      expect(sent[0]).toBe('STATUS=starting\n');
      expect(sent).toContain('WATCHDOG=1\n');
      expect(sent.slice(-2)).toEqual(['READY=1\nSTATUS=serving\n', 'STOPPING=1\nSTATUS=stopping\n']);
      expect(integration.watchdog?.running).toBe(false);
    } finally {
      integration.close();
    }
  });
});
