import { EventEmitter } from 'node:events';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { errorMessage } from '../../lib/errors.js';
import type { SystemdEnv } from './notify.js';

/** `true` when the thing it watches is alive, otherwise the reason it is not (shown in STATUS=). */
export type LivenessProbe = () => true | string;

export type WatchdogHealth = { healthy: true } | { healthy: false; reason: string };

/** pino-compatible subset. */
export interface SystemdLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface WatchdogNotifier {
  watchdog(): void;
  status(text: string): void;
}

export interface WatchdogOptions {
  notifier: WatchdogNotifier;
  /** The service manager's deadline (`WatchdogSec=`, read from `WATCHDOG_USEC`). */
  timeoutMs: number;
  /** How often liveness is checked and the ping sent; half the deadline, as sd_watchdog_enabled(3) advises. */
  pingIntervalMs?: number;
  /** An event loop that was blocked longer than this since the last check is not alive. */
  maxEventLoopLagMs?: number;
  logger?: SystemdLogger;
}

/**
 * Reads the watchdog deadline systemd set for this process, in milliseconds, or `undefined` when there is
 * none. `WATCHDOG_PID` names the process the deadline is meant for; a child that inherited the variables
 * must not ping on its parent's behalf.
 */
export function watchdogTimeoutMsFromEnv(
  env: SystemdEnv = process.env,
  pid = process.pid,
): number | undefined {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || !/^\d+$/.test(usec)) return undefined;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && env.WATCHDOG_PID !== String(pid)) {
    return undefined;
  }
  const timeoutMs = Number(usec) / 1000;
  return timeoutMs > 0 ? timeoutMs : undefined;
}

/**
 * Pings the systemd watchdog only while the process is really alive: the event loop keeps up and every
 * registered liveness probe passes. Otherwise it stays silent and puts the reason in STATUS=, so systemd
 * restarts the service when the deadline passes. Emits `unhealthy` (reason) and `healthy` on changes.
 */
export class Watchdog extends EventEmitter<{ unhealthy: [reason: string]; healthy: [] }> {
  readonly timeoutMs: number;
  readonly pingIntervalMs: number;
  readonly maxEventLoopLagMs: number;
  private readonly notifier: WatchdogNotifier;
  private readonly logger: SystemdLogger | undefined;
  private readonly probes = new Map<string, LivenessProbe>();
  private readonly loopDelay: IntervalHistogram;
  private timer: NodeJS.Timeout | undefined;
  private lastCheckAt = 0;
  private health: WatchdogHealth = { healthy: true };
  private pingFailing = false;

  constructor(options: WatchdogOptions) {
    super();
    if (!(options.timeoutMs > 0)) throw new RangeError('Watchdog timeoutMs must be positive');
    this.notifier = options.notifier;
    this.logger = options.logger;
    this.timeoutMs = options.timeoutMs;
    this.pingIntervalMs = options.pingIntervalMs ?? Math.max(1, Math.floor(options.timeoutMs / 2));
    this.maxEventLoopLagMs = options.maxEventLoopLagMs ?? Math.max(1000, Math.floor(options.timeoutMs / 4));
    this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
  }

  /** Registers a probe; returns a function that removes it. Names must be unique. */
  addProbe(name: string, probe: LivenessProbe): () => void {
    if (this.probes.has(name)) throw new Error(`Watchdog probe "${name}" is already registered`);
    this.probes.set(name, probe);
    return () => {
      if (this.probes.get(name) === probe) this.probes.delete(name);
    };
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  get lastHealth(): WatchdogHealth {
    return this.health;
  }

  start(): void {
    if (this.timer) return;
    this.loopDelay.reset();
    this.loopDelay.enable();
    this.lastCheckAt = performance.now();
    this.tick();
    // unref: the watchdog must not be the reason a finished process stays alive.
    this.timer = setInterval(() => this.tick(), this.pingIntervalMs).unref();
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.loopDelay.disable();
  }

  /** Evaluates liveness now (also used by the periodic check). */
  check(): WatchdogHealth {
    const lagMs = this.eventLoopLagMs();
    if (lagMs > this.maxEventLoopLagMs) {
      return {
        healthy: false,
        reason: `event loop stalled for ${Math.round(lagMs)} ms (limit ${this.maxEventLoopLagMs} ms)`,
      };
    }
    for (const [name, probe] of this.probes) {
      let verdict: true | string;
      try {
        verdict = probe();
      } catch (error) {
        verdict = `probe failed: ${errorMessage(error)}`;
      }
      if (verdict !== true) return { healthy: false, reason: `${name}: ${verdict}` };
    }
    return { healthy: true };
  }

  // The worst delay since the last check: the histogram sees short stalls between checks, the drift of
  // this timer sees a stall that is still in progress when the check finally runs.
  private eventLoopLagMs(): number {
    const now = performance.now();
    const driftMs = this.lastCheckAt === 0 ? 0 : now - this.lastCheckAt - this.pingIntervalMs;
    this.lastCheckAt = now;
    const histogramMaxMs = this.loopDelay.max / 1e6;
    this.loopDelay.reset();
    return Math.max(driftMs, histogramMaxMs);
  }

  private tick(): void {
    const health = this.check();
    const previous = this.health;
    const wasHealthy = previous.healthy;
    this.health = health;
    if (!health.healthy) {
      if (previous.healthy || previous.reason !== health.reason) {
        this.logger?.warn({ reason: health.reason }, 'liveness lost: withholding the systemd watchdog ping');
        this.safely(() => this.notifier.status(`unhealthy: ${health.reason}`));
        this.emit('unhealthy', health.reason);
      }
      return;
    }
    if (!wasHealthy) {
      this.logger?.info({}, 'liveness restored: pinging the systemd watchdog again');
      this.emit('healthy');
    }
    this.safely(() => this.notifier.watchdog());
  }

  private safely(send: () => void): void {
    try {
      send();
      this.pingFailing = false;
    } catch (error) {
      if (!this.pingFailing) this.logger?.error({ err: errorMessage(error) }, 'systemd notification failed');
      this.pingFailing = true;
    }
  }
}
