import { errorMessage } from '../../lib/errors.js';
import { SystemdNotifyError } from './errors.js';
import { type DatagramSender, type SystemdEnv, SystemdNotifier } from './notify.js';
import { type LivenessProbe, type SystemdLogger, Watchdog, watchdogTimeoutMsFromEnv } from './watchdog.js';

export interface SystemdIntegrationOptions {
  env?: SystemdEnv;
  pid?: number;
  logger?: SystemdLogger;
  /** Replaces the unix datagram sender (tests). */
  send?: DatagramSender;
  /** See `WatchdogOptions.maxEventLoopLagMs`. */
  maxEventLoopLagMs?: number;
}

/**
 * Everything the agent needs from systemd in one object: READY/STATUS/STOPPING, and a watchdog fed only
 * while liveness holds. Outside systemd every method is a harmless no-op.
 *
 * `start()` throws `SystemdNotifyError` when systemd expects notifications that cannot be delivered
 * (socket unusable, or WatchdogSec= without NOTIFY_SOCKET): the CLI must log it and exit non-zero.
 */
export class SystemdIntegration {
  readonly notifier: SystemdNotifier;
  readonly watchdog: Watchdog | undefined;
  private readonly logger: SystemdLogger | undefined;
  private currentStatus: string | undefined;

  private constructor(notifier: SystemdNotifier, watchdog: Watchdog | undefined, logger?: SystemdLogger) {
    this.notifier = notifier;
    this.watchdog = watchdog;
    this.logger = logger;
    // After a recovered probe, STATUS= goes back to what the agent last reported instead of the old reason.
    watchdog?.on('healthy', () => {
      if (this.currentStatus !== undefined)
        this.send(() => this.notifier.status(this.currentStatus as string));
    });
  }

  static start(options: SystemdIntegrationOptions = {}): SystemdIntegration {
    const env = options.env ?? process.env;
    const timeoutMs = watchdogTimeoutMsFromEnv(env, options.pid ?? process.pid);
    let notifier: SystemdNotifier;
    try {
      notifier = SystemdNotifier.fromEnv(env, options.send);
      // One message now proves the socket works, before systemd's start or watchdog timeout would tell.
      notifier.status('starting');
    } catch (error) {
      if (timeoutMs !== undefined) throw watchdogWithoutNotify(env, error);
      throw error;
    }
    if (timeoutMs !== undefined && !notifier.enabled) throw watchdogWithoutNotify(env);

    const watchdog =
      timeoutMs === undefined
        ? undefined
        : new Watchdog({
            notifier,
            timeoutMs,
            maxEventLoopLagMs: options.maxEventLoopLagMs,
            logger: options.logger,
          });
    const integration = new SystemdIntegration(notifier, watchdog, options.logger);
    watchdog?.start();
    if (notifier.enabled) {
      options.logger?.info(
        { notifySocket: notifier.socketPath, watchdogTimeoutMs: timeoutMs },
        'systemd notification enabled',
      );
    }
    return integration;
  }

  get enabled(): boolean {
    return this.notifier.enabled;
  }

  /** Adds a liveness probe (e.g. "device loop heartbeat is fresh"); returns its remover. */
  addProbe(name: string, probe: LivenessProbe): () => void {
    return this.watchdog ? this.watchdog.addProbe(name, probe) : () => {};
  }

  ready(status = 'running'): void {
    this.currentStatus = status;
    this.send(() => this.notifier.ready(status));
  }

  status(text: string): void {
    this.currentStatus = text;
    // While unhealthy the reason stays visible; the text is restored once liveness is back.
    if (this.watchdog && !this.watchdog.lastHealth.healthy) return;
    this.send(() => this.notifier.status(text));
  }

  extendTimeout(extraMs: number): void {
    this.send(() => this.notifier.extendTimeout(extraMs));
  }

  /** Stops the watchdog and tells systemd the service is going down (call first thing on SIGTERM). */
  stopping(status = 'stopping'): void {
    this.watchdog?.stop();
    this.send(() => this.notifier.stopping(status));
  }

  close(): void {
    this.watchdog?.stop();
  }

  // After start-up a failed notification is logged, not thrown: there is nothing better to do, and systemd
  // will act on the missing message by itself.
  private send(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.logger?.error({ err: errorMessage(error) }, 'systemd notification failed');
    }
  }
}

function watchdogWithoutNotify(env: SystemdEnv, cause?: unknown): SystemdNotifyError {
  const reason = cause === undefined ? 'NOTIFY_SOCKET is not set' : errorMessage(cause);
  return new SystemdNotifyError(
    'SD_WATCHDOG_WITHOUT_NOTIFY',
    `systemd expects watchdog pings (WatchdogSec=) but they cannot be sent: ${reason}. Exiting instead of ` +
      'being killed by the watchdog later; check NotifyAccess=main and that ExecStart runs node directly.',
    { notifySocket: env.NOTIFY_SOCKET, watchdogUsec: env.WATCHDOG_USEC },
    cause,
  );
}
