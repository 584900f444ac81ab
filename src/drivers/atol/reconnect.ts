import { jitteredBackoffMs } from '../../lib/backoff.js';

/** How a backend keeps trying to reach its register after a failed start or a lost connection. */
export interface ReconnectOptions {
  enabled?: boolean;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** The driver's own defaults; the agent's config schema takes them from here. */
export const DEFAULT_RECONNECT = { initialDelayMs: 500, maxDelayMs: 30_000 } as const;

export interface ReconnectLoopOptions {
  settings: ReconnectOptions | undefined;
  /** One connection attempt. */
  attempt: () => Promise<unknown>;
  /** True once the owner has been closed: no attempt is scheduled or made any more. */
  closed: () => boolean;
  /** An attempt failed (another is scheduled); `attempt` counts them since the last success. */
  onAttemptFailed: (error: Error, attempt: number) => void;
}

/**
 * Background reconnection for both ATOL backends (the protocol link and the web server): one timer at a
 * time, delays doubling from `initialDelayMs` up to `maxDelayMs`, jittered (lib/backoff.ts).
 */
export class ReconnectLoop {
  private timer: NodeJS.Timeout | undefined;
  private attempts = 0;

  constructor(private readonly options: ReconnectLoopOptions) {}

  /** Connects now; on failure keeps trying in the background (the register may come later) and rethrows. */
  async start(connect: () => Promise<unknown>): Promise<void> {
    try {
      await connect();
    } catch (error) {
      this.schedule();
      throw error;
    }
  }

  /** Schedules the next attempt, unless one is pending, reconnecting is off or the owner is closed. */
  schedule(): void {
    const settings = this.options.settings ?? {};
    if (this.options.closed() || settings.enabled === false || this.timer) return;
    // Jitter keeps a fleet of boxes from hammering a network register in lockstep after an outage.
    const delay = jitteredBackoffMs(this.attempts, {
      firstDelayMs: settings.initialDelayMs ?? DEFAULT_RECONNECT.initialDelayMs,
      maxDelayMs: settings.maxDelayMs ?? DEFAULT_RECONNECT.maxDelayMs,
    });
    this.attempts++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.options.closed()) return;
      this.options.attempt().catch((error: Error) => {
        this.options.onAttemptFailed(error, this.attempts);
        this.schedule();
      });
    }, delay);
    this.timer.unref?.();
  }

  /** The connection is up: the next outage starts again from the initial delay. */
  succeeded(): void {
    this.attempts = 0;
  }

  /** Drops a pending attempt (the owner is closing). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
