import net from 'node:net';
import { encodeFrame, type Frame } from '../../src/drivers/atol/transport/frame.js';
import { FrameDecoder } from '../../src/drivers/atol/transport/frameDecoder.js';

/** A bare v3 peer: sends frames as given and collects every frame the register sends, for buffer tests. */
export class RawClient {
  private readonly frames: Frame[] = [];
  private waiter: (() => void) | undefined;

  private constructor(readonly socket: net.Socket) {
    const decoder = new FrameDecoder();
    decoder.on('data', (frame: Frame) => {
      this.frames.push(frame);
      this.waiter?.();
    });
    socket.on('data', (chunk: Buffer) => decoder.write(chunk));
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  send(id: number, data: number[] | Buffer): void {
    this.socket.write(encodeFrame({ id, data: Buffer.from(data) }));
  }

  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next frame the register sends (waits up to timeoutMs). */
  async next(timeoutMs = 2000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('no frame from the register');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.frames.shift()!;
  }

  /** True when nothing arrives within `ms`. */
  async silentFor(ms: number): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.frames.length === 0;
  }

  close(): void {
    this.socket.destroy();
  }
}

export const hex = (bytes: Buffer) => bytes.toString('hex').toUpperCase();
