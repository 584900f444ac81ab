import { EventEmitter } from 'node:events';

/** Byte counters kept by every link; the bench reports wire bytes from them. */
export interface LinkStats {
  bytesWritten: number;
  bytesRead: number;
  writes: number;
}

export interface LinkEvents {
  data: [chunk: Buffer];
  /** The link went away: unplugged, peer closed, or closed by us (error undefined). */
  close: [error?: Error];
}

/**
 * A byte pipe to one register: serial (USB CDC-ACM or RS-232) or TCP. The transport above it knows
 * nothing of the medium, which is what lets tests swap a PTY, a socket or an in-memory pair.
 */
export abstract class Link extends EventEmitter<LinkEvents> {
  readonly stats: LinkStats = { bytesWritten: 0, bytesRead: 0, writes: 0 };
  abstract readonly description: string;
  abstract get isOpen(): boolean;
  abstract open(): Promise<void>;
  abstract close(): Promise<void>;
  protected abstract writeBytes(data: Buffer): Promise<void>;

  async write(data: Buffer): Promise<void> {
    this.stats.bytesWritten += data.length;
    this.stats.writes++;
    await this.writeBytes(data);
  }

  protected received(chunk: Buffer): void {
    this.stats.bytesRead += chunk.length;
    this.emit('data', chunk);
  }
}

export class LinkClosedError extends Error {
  constructor(description: string) {
    super(`link ${description} is not open`);
    this.name = 'LinkClosedError';
  }
}
