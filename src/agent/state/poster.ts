import type { Logger } from 'pino';
import { type ErrorCode, errorMessage, KktAgentError } from '../../lib/errors.js';
import type { StateDocument } from './document.js';

export interface StatePosterConfig {
  postUrl?: string;
  postToken?: string;
  postTimeoutMs: number;
}

export interface StatePosterStatus {
  enabled: boolean;
  /** The target without its path and query (they may carry tokens). */
  target?: string;
  posted: number;
  /** Documents replaced by a newer one before they were sent. */
  superseded: number;
  failed: number;
  inFlight: boolean;
  lastSuccessAt?: string;
  lastError?: { code: string; message: string; at: string };
}

/** The state server answered with an error status. */
export class StatePostError extends KktAgentError {}

/**
 * `POST /state`: sends state documents to a URL, latest wins. At most one request is in flight; a document
 * offered meanwhile waits, and a newer one replaces it, so a stale state is never queued or sent after a
 * newer one. A failure is logged and kept for the status; the next document (interval or change) is the retry.
 */
export class StatePoster {
  private pending: StateDocument | undefined;
  private inFlight: Promise<void> | undefined;
  private counts = { posted: 0, superseded: 0, failed: 0 };
  private lastSuccessAt: string | undefined;
  private lastError: StatePosterStatus['lastError'];
  private stopped = false;

  constructor(
    private config: StatePosterConfig,
    private readonly logger: Logger,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  reconfigure(config: StatePosterConfig): void {
    this.config = config;
  }

  offer(doc: StateDocument): void {
    if (this.stopped || !this.config.postUrl) return;
    if (this.pending) this.counts.superseded++;
    this.pending = doc;
    this.inFlight ??= this.pump().finally(() => {
      this.inFlight = undefined;
    });
  }

  status(): StatePosterStatus {
    const url = this.config.postUrl;
    return {
      enabled: url !== undefined,
      ...(url ? { target: new URL(url).origin } : {}),
      ...this.counts,
      inFlight: this.inFlight !== undefined,
      ...(this.lastSuccessAt ? { lastSuccessAt: this.lastSuccessAt } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** Stops taking documents and waits for the request in flight (bounded by its timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pending = undefined;
    await this.inFlight;
  }

  private async pump(): Promise<void> {
    while (this.pending && !this.stopped) {
      const doc = this.pending;
      this.pending = undefined;
      await this.post(doc);
    }
  }

  private async post(doc: StateDocument): Promise<void> {
    const { postUrl, postToken, postTimeoutMs } = this.config;
    if (!postUrl) return;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (postToken) headers['authorization'] = `Bearer ${postToken}`;
    try {
      const response = await this.fetchImpl(postUrl, {
        method: 'POST',
        headers,
        body: JSON.stringify(doc),
        signal: AbortSignal.timeout(postTimeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) {
        throw new StatePostError(`HTTP_${response.status}`, `the server answered HTTP ${response.status}`, {
          status: response.status,
        });
      }
      this.counts.posted++;
      this.lastSuccessAt = new Date().toISOString();
      this.logger.debug({ event: 'state.posted', generatedAt: doc.generatedAt });
    } catch (error) {
      this.counts.failed++;
      const { code, message }: { code: ErrorCode; message: string } =
        error instanceof StatePostError
          ? error
          : error instanceof Error && error.name === 'TimeoutError'
            ? { code: 'STATE_POST_TIMEOUT', message: `no answer within ${postTimeoutMs} ms` }
            : { code: 'STATE_POST_FAILED', message: describeFetchError(error) };
      this.lastError = { code, message, at: new Date().toISOString() };
      this.logger.warn({ event: 'state.post-failed', code, reason: message });
    }
  }
}

/** fetch hides the network reason in `cause` ("fetch failed" alone helps nobody). */
function describeFetchError(error: unknown): string {
  const cause =
    error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return `${errorMessage(error)} (${cause.code})`;
  return errorMessage(error);
}
