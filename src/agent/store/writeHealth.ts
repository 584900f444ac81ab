import { errorCode, errorMessage } from '../../lib/errors.js';

/** A store whose writes have been failing (a full disk, a read-only remount) since `since`. */
export interface WriteFailure {
  path: string;
  since: string;
  /** Failed writes since the last one that succeeded. */
  failures: number;
  lastError: { code: string; errno?: string; message: string; at: string };
}

/**
 * Whether a store's writes are failing right now, for `status` and the state document: set by a failed
 * write, cleared by the next write that succeeds. A failing journal is invisible otherwise: each failure
 * is logged and the caller retries, while the technician's `status` would say all is well.
 */
export class WriteHealth {
  private current: WriteFailure | undefined;

  constructor(private readonly path: string) {}

  get failure(): WriteFailure | undefined {
    return this.current;
  }

  failed(error: unknown): void {
    const at = new Date().toISOString();
    const errno = (error as { errno?: unknown }).errno;
    this.current = {
      path: this.path,
      since: this.current?.since ?? at,
      failures: (this.current?.failures ?? 0) + 1,
      lastError: {
        code: errorCode(error),
        errno: typeof errno === 'string' ? errno : undefined,
        message: errorMessage(error),
        at,
      },
    };
  }

  succeeded(): void {
    this.current = undefined;
  }
}
