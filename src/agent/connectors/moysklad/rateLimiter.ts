import { KktAgentError } from '../../../lib/errors.js';
import { type RateLimitConfig, rateLimitSchema } from './config.js';

/**
 * Client-side pacing for posap's documented limits (docs/protocol/moysklad-posap.md §6): at most `requests`
 * per `windowMs` (100 per 5 s) and a few in flight (5 allowed; we use 4). Three rules must all allow a start:
 *
 * - a token bucket of `burst` tokens refilled at requests/windowMs (20 per second): spreads requests evenly,
 *   which is how MoySklad describes `X-RateLimit-Limit`;
 * - a sliding window counted on the server's side: a request may have arrived there at any moment until
 *   its answer came back, so a request counts against the window until `windowMs + marginMs` after its
 *   answer (and for as long as it is in flight). Fewer than `requests` may count when one starts. Whatever
 *   the network's jitter, no server window of `windowMs` then holds more than `requests` arrivals; the cost
 *   is one round trip per window;
 * - a semaphore of `maxInFlight`.
 *
 * A 429 pauses every start until the server's `X-Lognex-Retry-After` has passed (`pauseFor`).
 */

/** The config's `rateLimit` (its schema holds the defaults), and a clock for tests. */
export interface RateLimiterOptions extends RateLimitConfig {
  now?: () => number;
}

const RATE_LIMIT_DEFAULTS: RateLimitConfig = rateLimitSchema.parse({});

export interface RateLimiterStats {
  inFlight: number;
  waiting: number;
  started: number;
  maxInFlightSeen: number;
  pausedUntil?: string;
}

/** Call once the request's answer has been read. Further calls do nothing. */
export type Release = () => void;

interface Waiter {
  resolve: (release: Release) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class RateLimiterAbortedError extends KktAgentError {
  constructor() {
    super('MOYSKLAD_REQUEST_ABORTED', 'The request was abandoned while waiting for a rate-limit slot.');
  }
}

export class RateLimiter {
  readonly options: Readonly<Omit<RateLimiterOptions, 'now'>>;
  private readonly now: () => number;
  private tokens: number;
  private refilledAt: number;
  /** When the answers of recent requests came back, oldest first: they may still count on the server. */
  private readonly completions: number[] = [];
  private inFlight = 0;
  private maxInFlightSeen = 0;
  private started = 0;
  private pausedUntil = 0;
  private readonly queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(options: Partial<RateLimiterOptions> = {}) {
    const merged = { ...RATE_LIMIT_DEFAULTS, ...options };
    for (const key of ['requests', 'windowMs', 'burst', 'maxInFlight'] as const) {
      if (!Number.isInteger(merged[key]) || merged[key] < 1) {
        throw new RangeError(`RateLimiter: ${key} must be a positive integer, got ${merged[key]}`);
      }
    }
    if (!Number.isInteger(merged.marginMs) || merged.marginMs < 0) {
      throw new RangeError(`RateLimiter: marginMs must be a non-negative integer, got ${merged.marginMs}`);
    }
    this.options = {
      requests: merged.requests,
      windowMs: merged.windowMs,
      burst: Math.min(merged.burst, merged.requests),
      maxInFlight: merged.maxInFlight,
      marginMs: merged.marginMs,
    };
    this.now = options.now ?? Date.now;
    this.tokens = this.options.burst;
    this.refilledAt = this.now();
  }

  /** Resolves with a release function once a request may start. FIFO: early callers go first. */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new RateLimiterAbortedError());
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          const index = this.queue.indexOf(waiter);
          if (index >= 0) this.queue.splice(index, 1);
          reject(signal.reason ?? new RateLimiterAbortedError());
          this.pump();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** Nobody starts before `ms` from now (the server said so with a 429). */
  pauseFor(ms: number): void {
    if (!(ms > 0)) return;
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
    this.schedule(ms);
  }

  get stats(): RateLimiterStats {
    const stats: RateLimiterStats = {
      inFlight: this.inFlight,
      waiting: this.queue.length,
      started: this.started,
      maxInFlightSeen: this.maxInFlightSeen,
    };
    if (this.pausedUntil > this.now()) stats.pausedUntil = new Date(this.pausedUntil).toISOString();
    return stats;
  }

  /** Rejects everybody waiting (the connector stopped). */
  close(reason: unknown = new RateLimiterAbortedError()): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const waiter of this.queue.splice(0)) {
      if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.reject(reason);
    }
  }

  private refill(now: number): void {
    const ratePerMs = this.options.requests / this.options.windowMs;
    this.tokens = Math.min(this.options.burst, this.tokens + (now - this.refilledAt) * ratePerMs);
    this.refilledAt = now;
  }

  /** 0 when a request may start now, else how long until the time-based rules allow one. */
  private delayMs(now: number): number {
    let delay = Math.max(0, this.pausedUntil - now);
    if (this.tokens < 1) {
      const ratePerMs = this.options.requests / this.options.windowMs;
      delay = Math.max(delay, Math.ceil((1 - this.tokens) / ratePerMs));
    }
    const span = this.options.windowMs + this.options.marginMs;
    while (this.completions.length > 0 && this.completions[0]! <= now - span) this.completions.shift();
    const excess = this.inFlight + this.completions.length - this.options.requests + 1;
    if (excess > 0 && excess <= this.completions.length) {
      delay = Math.max(delay, this.completions[excess - 1]! + span - now + 1);
    }
    // excess beyond the completions: only a release can help, and a release pumps.
    return delay;
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.options.maxInFlight) {
      const now = this.now();
      this.refill(now);
      const delay = this.delayMs(now);
      if (delay > 0) {
        this.schedule(delay);
        return;
      }
      const waiter = this.queue.shift()!;
      if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
      if (this.inFlight + this.completions.length >= this.options.requests) return;
      this.tokens -= 1;
      this.inFlight++;
      this.started++;
      this.maxInFlightSeen = Math.max(this.maxInFlightSeen, this.inFlight);
      let released = false;
      waiter.resolve(() => {
        if (released) return;
        released = true;
        this.inFlight--;
        this.completions.push(this.now());
        this.pump();
      });
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(1, Math.ceil(delayMs)),
    );
  }
}
