import { EventEmitter } from 'node:events';

/** Byte counters kept by every link; the bench reports wire bytes from them. */
export interface LinkStats {
  bytesWritten: number;
  bytesRead: number;
  writes: number;
}

/** Which way bytes went: `host` to the register, `device` from it. */
export type WireDirection = 'host' | 'device';

/** Sees every byte a link carries, both ways, as it goes (a wire trace, docs/protocol/atol-v3.md §14). */
export type LinkTap = (direction: WireDirection, bytes: Buffer) => void;

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
  /** Set while the wire is traced; it must not throw (a trace never breaks the link). */
  tap: LinkTap | undefined;
  abstract readonly description: string;
  abstract get isOpen(): boolean;
  abstract open(): Promise<void>;
  abstract close(): Promise<void>;
  protected abstract writeBytes(data: Buffer): Promise<void>;

  /**
   * Writes, and settles no later than the link closes. serialport queues a write (and a drain) issued on a
   * port that has just closed until the port opens again, which an unplugged one never does: such a write
   * never settled, and the transport, waiting on it without a timeout, froze the agent (issue 18.13).
   */
  write(data: Buffer): Promise<void> {
    this.stats.bytesWritten += data.length;
    this.stats.writes++;
    this.tap?.('host', data);
    return new Promise<void>((resolve, reject) => {
      const onClose = () => reject(new LinkClosedError(this.description));
      this.once('close', onClose);
      this.writeBytes(data).then(
        () => {
          this.off('close', onClose);
          resolve();
        },
        (error: unknown) => {
          this.off('close', onClose);
          reject(error);
        },
      );
    });
  }

  protected received(chunk: Buffer): void {
    this.stats.bytesRead += chunk.length;
    this.tap?.('device', chunk);
    this.emit('data', chunk);
  }
}

export class LinkClosedError extends Error {
  constructor(description: string) {
    super(`link ${description} is not open`);
    this.name = 'LinkClosedError';
  }
}
