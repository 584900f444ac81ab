import { errorCode, errorMessage } from '../../lib/errors.js';
import type { ConnectorStatus } from './types.js';

export interface ConnectorHealthOptions {
  now: () => Date;
  /** The failure says the cloud is unreachable or unwell right now, as opposed to saying no. */
  isOffline: (error: unknown) => boolean;
}

/**
 * How a connector's calls to its cloud went, for its status(): online since the last success, offline
 * after a failure that says the cloud is unreachable, and the last error either way.
 */
export class ConnectorHealth {
  online = false;
  lastSuccessAt: string | undefined;
  lastError: { code: string; message: string; at: string } | undefined;

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
  }

  failed(error: unknown): void {
    if (this.options.isOffline(error)) this.online = false;
    this.lastError = {
      code: errorCode(error),
      message: errorMessage(error),
      at: this.options.now().toISOString(),
    };
  }

  /** A status with this health: `lastSuccessAt` and `lastError` only when there is one. */
  status(name: string, details: Record<string, unknown>): ConnectorStatus {
    const status: ConnectorStatus = { name, online: this.online, details };
    if (this.lastSuccessAt !== undefined) status.lastSuccessAt = this.lastSuccessAt;
    if (this.lastError !== undefined) status.lastError = this.lastError;
    return status;
  }
}
