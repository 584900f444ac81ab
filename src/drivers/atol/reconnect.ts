import { jitteredBackoffMs } from '../../lib/backoff.js';
import { KktAgentError } from '../../lib/errors.js';

/** How a backend keeps trying to reach its register after a failed start or a lost connection. */
export interface ReconnectOptions {
  enabled?: boolean;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /**
   * A link that stays open while the register answers nothing (a half-open TCP session, a hung register
   * behind a USB port that is still there) is dropped and reopened after this many timeouts in a row.
   */
  reopenAfterTimeouts?: number;
}

export const DEFAULT_REOPEN_AFTER_TIMEOUTS = 3;

/** Errors that say nothing about whether the register answers: the link itself is gone. */
const LINK_ERROR_CODES = new Set<unknown>(['KKT_NOT_CONNECTED', 'KKT_LINK_DOWN']);

/** The link was dropped because the register stopped answering on it; a reconnect is under way. */
export class LinkSilentError extends KktAgentError {
  constructor(link: string, since: string | undefined, timeouts: number) {
    super(
      'KKT_NOT_ANSWERING',
      `The register (${link}) has not answered since ${since ?? 'now'} (${timeouts} timeouts in a row) although the link stayed open; the link was dropped and is being reopened. Check that the register is on and not hung.`,
      { link, since, timeouts },
    );
  }
}

/** True when the register did not answer in time (also when that is the cause of a wider error). */
export function isNoAnswer(error: unknown): boolean {
  for (let cause = error, depth = 0; cause && depth < 5; depth++) {
    if ((cause as { code?: unknown }).code === 'KKT_NO_ANSWER') return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Counts the register's consecutive timeouts on a link that is still open. A closed link is noticed by
 * the link itself; a silent one only by this: after `reopenAfterTimeouts` in a row the owner drops the
 * link and reconnects. `silentSince` stays set, through the reconnect attempts, until the register
 * answers again, so `status` can say "not answering since …".
 */
export class SilenceWatch {
  private timeouts = 0;
  private since: string | undefined;
  readonly limit: number;

  constructor(settings: ReconnectOptions | undefined) {
    this.limit = Math.max(1, settings?.reopenAfterTimeouts ?? DEFAULT_REOPEN_AFTER_TIMEOUTS);
  }

  /** When the register last stopped answering; undefined while it answers. */
  get silentSince(): string | undefined {
    return this.since;
  }

  /** The register answered (anything, even an error code). */
  answered(): void {
    this.timeouts = 0;
    this.since = undefined;
  }

  /** An exchange timed out; true when the link should now be dropped and reopened. */
  timedOut(): boolean {
    this.since ??= new Date().toISOString();
    this.timeouts++;
    if (this.timeouts < this.limit) return false;
    this.timeouts = 0;
    return true;
  }

  /** Settles with `work`, recording whether the register answered; `onSilent` runs when the limit is hit. */
  observe<T>(work: Promise<T>, onSilent: () => void): Promise<T> {
    return work.then(
      (value) => {
        this.answered();
        return value;
      },
      (error: unknown) => {
        if (isNoAnswer(error)) {
          if (this.timedOut()) onSilent();
        } else if (!LINK_ERROR_CODES.has((error as { code?: unknown }).code)) {
          // A refusal (an error byte, a task-buffer state) is an answer too.
          this.answered();
        }
        throw error;
      },
    );
  }
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
