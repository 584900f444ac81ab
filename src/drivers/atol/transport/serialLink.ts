import { SerialPort } from 'serialport';
import { Link, LinkClosedError } from './link.js';

export interface SerialLinkOptions {
  path: string;
  /** 115200 is the factory default; 4800 after a technical reset. Nominal on USB CDC-ACM. */
  baudRate?: number;
}

export const DEFAULT_BAUD_RATE = 115200;

/** Serial link, 8N1 without flow control, for USB CDC-ACM (/dev/ttyACM*) and RS-232 ports alike. */
export class SerialLink extends Link {
  readonly description: string;
  private port: SerialPort | undefined;
  private readonly baudRate: number;

  constructor(private readonly options: SerialLinkOptions) {
    super();
    this.baudRate = options.baudRate ?? DEFAULT_BAUD_RATE;
    this.description = `serial://${options.path}@${this.baudRate}`;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({
        path: this.options.path,
        baudRate: this.baudRate,
        dataBits: 8,
        parity: 'none',
        stopBits: 1,
        rtscts: false,
        autoOpen: false,
      });
      port.open((error) => {
        if (error) {
          reject(error);
          return;
        }
        this.port = port;
        let failure: Error | undefined;
        port.on('data', (chunk: Buffer) => this.received(chunk));
        port.on('error', (err) => {
          failure = err;
        });
        // serialport reports an unplug as close with err.disconnected = true.
        port.on('close', (err?: Error) => {
          if (this.port === port) this.port = undefined;
          this.emit('close', err ?? failure);
        });
        resolve();
      });
    });
  }

  /**
   * Resolves once the bytes are with the kernel. No drain (tcdrain): the reply timeout runs from before the
   * write anyway, and a tcdrain on a device that stopped taking data blocks one of libuv's four threads,
   * which the journal's file writes need too.
   */
  protected writeBytes(data: Buffer): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return Promise.reject(new LinkClosedError(this.description));
    return new Promise((resolve, reject) => {
      port.write(data, (error) => (error ? reject(error) : resolve()));
    });
  }

  close(): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return Promise.resolve();
    return new Promise((resolve) => port.close(() => resolve()));
  }
}
