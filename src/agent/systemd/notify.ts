import { errorMessage } from '../../lib/errors.js';
import { SystemdNotifyError } from './errors.js';
import { sendUnixDatagram } from './unixDatagram.js';

/** The environment variables systemd passes to a `Type=notify` service. */
export interface SystemdEnv {
  NOTIFY_SOCKET?: string | undefined;
  WATCHDOG_USEC?: string | undefined;
  WATCHDOG_PID?: string | undefined;
}

/** One sd_notify(3) message: each field becomes a `KEY=VALUE` line. */
export interface NotifyFields {
  READY?: true;
  STOPPING?: true;
  RELOADING?: true;
  /** `true` pings the watchdog; `'trigger'` asks systemd to act as if the watchdog expired. */
  WATCHDOG?: true | 'trigger';
  STATUS?: string;
  MAINPID?: number;
  ERRNO?: number;
  EXTEND_TIMEOUT_USEC?: number;
}

export type DatagramSender = (socketPath: string, payload: Buffer) => void;

/** Builds the datagram body; values may not contain newlines (each line is one assignment). */
export function formatNotifyMessage(fields: NotifyFields): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(fields) as [
    keyof NotifyFields,
    NotifyFields[keyof NotifyFields],
  ][]) {
    if (value === undefined) continue;
    const text = value === true ? '1' : String(value);
    lines.push(`${key}=${text.replace(/[\r\n]+/g, ' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Talks to the service manager over `$NOTIFY_SOCKET`. Outside systemd (no socket) every call is a no-op,
 * so the agent calls it unconditionally.
 */
export class SystemdNotifier {
  readonly socketPath: string | undefined;
  private readonly send: DatagramSender;

  constructor(socketPath: string | undefined, send: DatagramSender = sendUnixDatagram) {
    if (socketPath !== undefined && socketPath !== '') {
      if (socketPath.startsWith('@')) {
        throw new SystemdNotifyError(
          'SD_NOTIFY_SOCKET_UNSUPPORTED',
          `NOTIFY_SOCKET=${socketPath} is an abstract socket, which this agent cannot address. Run it as a ` +
            'system service (systemd uses /run/systemd/notify there) or without Type=notify.',
          { socketPath },
        );
      }
      if (!socketPath.startsWith('/')) {
        throw new SystemdNotifyError(
          'SD_NOTIFY_SOCKET_UNSUPPORTED',
          `NOTIFY_SOCKET=${socketPath} is not an absolute socket path.`,
          { socketPath },
        );
      }
      this.socketPath = socketPath;
    }
    this.send = send;
  }

  static fromEnv(env: SystemdEnv = process.env, send?: DatagramSender): SystemdNotifier {
    return new SystemdNotifier(env.NOTIFY_SOCKET, send);
  }

  /** True when running under a service manager that listens for notifications. */
  get enabled(): boolean {
    return this.socketPath !== undefined;
  }

  /** Sends one message; throws `SystemdNotifyError` when the socket refuses it. */
  notify(fields: NotifyFields): void {
    if (this.socketPath === undefined) return;
    const payload = Buffer.from(formatNotifyMessage(fields), 'utf8');
    try {
      this.send(this.socketPath, payload);
    } catch (error) {
      throw new SystemdNotifyError(
        'SD_NOTIFY_SEND_FAILED',
        `Could not notify systemd through ${this.socketPath}: ${errorMessage(error)}.`,
        { socketPath: this.socketPath },
        error,
      );
    }
  }

  ready(status?: string): void {
    this.notify({ READY: true, STATUS: status });
  }

  stopping(status?: string): void {
    this.notify({ STOPPING: true, STATUS: status });
  }

  status(text: string): void {
    this.notify({ STATUS: text });
  }

  watchdog(): void {
    this.notify({ WATCHDOG: true });
  }

  /** Asks for more time to start or stop (e.g. while a receipt is still printing on SIGTERM). */
  extendTimeout(extraMs: number): void {
    this.notify({ EXTEND_TIMEOUT_USEC: Math.max(0, Math.round(extraMs * 1000)) });
  }

  mainPid(pid: number): void {
    this.notify({ MAINPID: pid });
  }
}
