import net from 'node:net';
import { Link, LinkClosedError } from './link.js';

export interface TcpLinkOptions {
  host: string;
  /** ATOL registers with Ethernet or Wi-Fi listen on 5555 and speak only protocol v3 there. */
  port?: number;
  connectTimeoutMs?: number;
}

export const DEFAULT_TCP_PORT = 5555;

export class TcpLink extends Link {
  readonly description: string;
  private socket: net.Socket | undefined;
  private readonly options: Required<TcpLinkOptions>;

  constructor(options: TcpLinkOptions) {
    super();
    this.options = { port: DEFAULT_TCP_PORT, connectTimeoutMs: 5000, ...options };
    this.description = `tcp://${this.options.host}:${this.options.port}`;
  }

  get isOpen(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.options.host, port: this.options.port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new Error(`connect to ${this.description} timed out after ${this.options.connectTimeoutMs} ms`),
        );
      }, this.options.connectTimeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setKeepAlive(true, 5000);
        this.attach(socket);
        resolve();
      });
    });
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    let failure: Error | undefined;
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', (error) => {
      failure = error;
    });
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.emit('close', failure);
    });
  }

  protected writeBytes(data: Buffer): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.reject(new LinkClosedError(this.description));
    return new Promise((resolve, reject) =>
      socket.write(data, (error) => (error ? reject(error) : resolve())),
    );
  }

  close(): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      setTimeout(() => socket.destroy(), 200).unref();
    });
  }
}
