import { EventEmitter } from 'node:events';
import net from 'node:net';
import { ESC, encodeFrame, type Frame, STX } from '../../drivers/atol/transport/frame.js';
import { FrameDecoder } from '../../drivers/atol/transport/frameDecoder.js';
import type { TaskBufferServer, TaskRun, TaskSession } from './taskBufferServer.js';

export interface ConnectionInfo {
  remoteAddress: string;
  remotePort: number;
}

export interface DisconnectInfo extends ConnectionInfo {
  reason: string;
}

export interface LinkServerEvents {
  connection: [info: ConnectionInfo];
  disconnect: [info: DisconnectInfo];
}

export interface LinkServerStats {
  framesReceived: number;
  framesRejected: number;
  garbageBytes: number;
  framesSent: number;
}

/**
 * Flips one byte of a wire frame so the receiver's CRC check (or unescaping) fails, without creating an
 * STX or ESC byte that would change the framing itself: the frame is lost, the stream stays in sync.
 */
export function corruptFrame(wire: Buffer): Buffer {
  const copy = Buffer.from(wire);
  const at = copy.length - 1;
  for (const mask of [0x01, 0x02, 0x04, 0x08]) {
    const flipped = copy[at]! ^ mask;
    if (flipped !== STX && flipped !== ESC) {
      copy[at] = flipped;
      break;
    }
  }
  return copy;
}

class SocketSession implements TaskSession {
  alive = true;
  /** Stopped answering while still connected (the `deafConnection` fault). */
  deaf = false;
  readonly info: ConnectionInfo;
  closeReason = 'closed by the host';

  constructor(
    readonly socket: net.Socket,
    private readonly encode: (frame: Frame) => Buffer,
    private readonly onSent: () => void,
    private readonly registerSilent: () => boolean,
  ) {
    this.info = { remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0 };
  }

  /** Neither takes frames in nor sends any: the register hung, or this connection went deaf. */
  get mute(): boolean {
    return this.deaf || this.registerSilent();
  }

  send(frame: Frame): void {
    if (!this.alive || this.mute) return;
    this.socket.write(this.encode(frame));
    this.onSent();
  }

  drop(reason: string): void {
    if (!this.alive) return;
    this.alive = false;
    this.closeReason = reason;
    this.socket.destroy();
  }

  /** Closes after what was written has gone out. */
  hangUp(reason: string): void {
    if (!this.alive) return;
    this.alive = false;
    this.closeReason = reason;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 200).unref();
  }
}

/**
 * The register's TCP port: one host at a time (a register has one host; a new connection replaces the
 * old one), framing with the shared codec, and frames handed to the task buffer.
 */
export class LinkServer<R extends TaskRun> extends EventEmitter<LinkServerEvents> {
  readonly stats: LinkServerStats = { framesReceived: 0, framesRejected: 0, garbageBytes: 0, framesSent: 0 };
  private readonly server: net.Server;
  private current: SocketSession | undefined;

  constructor(
    private readonly buffer: TaskBufferServer<R>,
    /** Asked before every frame goes out: true corrupts that frame (a one-shot fault). */
    private readonly corruptNext: () => boolean,
    /** True while the register answers nothing at all (the `silent` fault). */
    private readonly silent: () => boolean = () => false,
  ) {
    super();
    this.server = net.createServer((socket) => this.accept(socket));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  get connected(): boolean {
    return this.current?.alive === true;
  }

  /** The current connection stops answering but stays open; false when there is none. */
  deafenCurrent(): boolean {
    const session = this.current;
    if (!session?.alive) return false;
    session.deaf = true;
    return true;
  }

  /** Drops the current connection abruptly (an unplugged cable). */
  drop(reason: string): void {
    this.current?.drop(reason);
  }

  /** Closes the current connection after pending answers have gone out. */
  hangUp(reason: string): void {
    this.current?.hangUp(reason);
  }

  async close(): Promise<void> {
    this.current?.drop('emulator closing');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    this.current?.drop('replaced by a new connection');
    const session = new SocketSession(
      socket,
      (frame) => {
        const wire = encodeFrame(frame);
        return this.corruptNext() ? corruptFrame(wire) : wire;
      },
      () => {
        this.stats.framesSent++;
      },
      this.silent,
    );
    this.current = session;
    this.buffer.attach(session);
    const decoder = new FrameDecoder();
    decoder.on('data', (frame: Frame) => {
      this.stats.framesReceived++;
      if (session.alive && !session.mute) this.buffer.handleFrame(session, frame);
    });
    // A damaged frame is dropped; the host recovers by asking for the task's state (Req).
    decoder.on('rejected', () => {
      this.stats.framesRejected++;
    });
    decoder.on('garbage', (count: number) => {
      this.stats.garbageBytes += count;
    });
    socket.on('data', (chunk: Buffer) => decoder.write(chunk));
    socket.on('error', (error) => {
      session.closeReason = error.message;
    });
    socket.on('close', () => {
      session.alive = false;
      this.buffer.detach(session);
      if (this.current === session) this.current = undefined;
      this.emit('disconnect', { ...session.info, reason: session.closeReason });
    });
    this.emit('connection', session.info);
  }
}
