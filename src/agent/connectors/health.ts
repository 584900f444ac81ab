import { errorCode, errorMessage } from '../../lib/errors.js';
import type { ConnectorStatus } from './types.js';

export interface ConnectorHealthOptions {
  now: () => Date;
  /** The failure says the cloud is unreachable or unwell right now, as opposed to saying no. */
  isOffline: (error: unknown) => boolean;
  /** The failure needs a person, not a retry (a refused token): it raises an alert until a call succeeds. */
  needsPerson?: (error: unknown) => boolean;
  /** An alert was raised (a new code) or cleared (`undefined`); `previous` is the one it replaced. */
  onAlert?: (alert: HealthRecord | undefined, previous: HealthRecord | undefined) => void;
}

export interface HealthRecord {
  code: string;
  message: string;
  at: string;
}

/**
 * How a connector's calls to its cloud went, for its status(): online since the last success, offline
 * after a failure that says the cloud is unreachable, and the last error either way. An alert (something a
 * person must fix) keeps the connector offline and is its last error until a call succeeds again.
 */
export class ConnectorHealth {
  online = false;
  lastSuccessAt: string | undefined;
  lastError: HealthRecord | undefined;
  alert: HealthRecord | undefined;

  constructor(private readonly options: ConnectorHealthOptions) {}

  /**
   * Runs one call to the cloud and records how it went. A failure while `stopping()` is the connector's
   * own abort, not the cloud's fault, and is not recorded.
   */
  async track<T>(call: () => Promise<T>, stopping: () => boolean): Promise<T> {
    try {
      const value = await call();
      this.succeeded();
      return value;
    } catch (error) {
      if (!stopping()) this.failed(error);
      throw error;
    }
  }

  succeeded(): void {
    this.online = true;
    this.lastSuccessAt = this.options.now().toISOString();
    if (this.alert) this.clearAlert();
  }

  failed(error: unknown): void {
    if (this.options.isOffline(error)) this.online = false;
    this.lastError = this.recordOf(error, this.options.now().toISOString());
    if (this.options.needsPerson?.(error)) this.raiseAlert(error);
  }

  /** Something a person must fix; the first time of a code is when the alert started. */
  raiseAlert(error: unknown): void {
    const previous = this.alert;
    const fresh = previous?.code !== errorCode(error);
    this.alert = this.recordOf(error, fresh || !previous ? this.options.now().toISOString() : previous.at);
    if (fresh) this.options.onAlert?.(this.alert, previous);
  }

  clearAlert(): void {
    const previous = this.alert;
    this.alert = undefined;
    this.options.onAlert?.(undefined, previous);
  }

  /** A status with this health: `lastSuccessAt` and `lastError` only when there is one. */
  status(name: string, details: Record<string, unknown>): ConnectorStatus {
    const status: ConnectorStatus = { name, online: this.online && this.alert === undefined, details };
    if (this.lastSuccessAt !== undefined) status.lastSuccessAt = this.lastSuccessAt;
    const lastError = this.alert ?? this.lastError;
    if (lastError !== undefined) status.lastError = lastError;
    return status;
  }

  private recordOf(error: unknown, at: string): HealthRecord {
    return { code: errorCode(error), message: errorMessage(error), at };
  }
}
