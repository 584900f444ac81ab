import { chmod } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';

/** Readable by the service's group (a technician in it), by nobody else: logs name jobs and devices. */
export const LOG_FILE_MODE = 0o640;

/** After a failed write (disk full), the file is tried again no sooner than this. */
const RETRY_AFTER_FAILURE_MS = 5000;

export interface LogFileOptions {
  /** Written as named; rotated copies sit beside it: `<path>.1` (newest) … `<path>.<keep>`. */
  path: string;
  maxSizeBytes: number;
  keep: number;
  /** Told once per failure (the file cannot be written); the caller logs it elsewhere. */
  onError?: (error: Error) => void;
}

/**
 * The agent's log file (`--log-file`, `log.file`) for systems without journald: the named file itself,
 * mode 0640, rotated by size the way logrotate does (rotating-file-stream's classical mode). `reopen()`
 * starts a new file at the same path, for SIGHUP after an external logrotate moved it. A write that fails
 * (a full disk) never takes the agent down: the file is set aside and opened again on a later write.
 */
export class LogFile extends Writable {
  private stream: RotatingFileStream | undefined;
  private failedAt = 0;

  constructor(private readonly options: LogFileOptions) {
    super({ decodeStrings: false });
    this.stream = this.open();
  }

  /** Closes the current file and opens the path again (a file moved away by logrotate is left to it). */
  async reopen(): Promise<void> {
    const previous = this.stream;
    this.stream = undefined;
    if (previous) await endStream(previous);
    this.stream = this.open();
  }

  override _write(
    chunk: string | Buffer,
    _encoding: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    if (!this.stream && Date.now() - this.failedAt >= RETRY_AFTER_FAILURE_MS) this.stream = this.open();
    const stream = this.stream;
    if (!stream) {
      done();
      return;
    }
    // Acknowledged at once: a slow or failing disk must not hold pino (and the agent) back.
    stream.write(chunk);
    done();
  }

  override _final(done: (error?: Error | null) => void): void {
    const stream = this.stream;
    this.stream = undefined;
    if (!stream) {
      done();
      return;
    }
    endStream(stream).then(
      () => done(),
      () => done(),
    );
  }

  private open(): RotatingFileStream {
    const { path, maxSizeBytes, keep } = this.options;
    const stream = createStream(path, { size: `${maxSizeBytes}B`, rotate: keep, mode: LOG_FILE_MODE });
    // The mode only applies when the file is created; an older file (or a strict umask) is set here.
    stream.on('open', (filename: string) => {
      chmod(filename, LOG_FILE_MODE).catch(() => undefined);
    });
    stream.on('error', (error: Error) => {
      if (this.stream === stream) {
        this.stream = undefined;
        this.failedAt = Date.now();
        this.options.onError?.(error);
      }
    });
    return stream;
  }
}

function endStream(stream: RotatingFileStream): Promise<void> {
  if (stream.destroyed || stream.writableFinished) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('finish', () => resolve());
    stream.once('close', () => resolve());
    stream.once('error', () => resolve());
    stream.end();
  });
}
