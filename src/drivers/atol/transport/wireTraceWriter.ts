import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { KktAgentError } from '../../../lib/errors.js';
import { encodeFrame, STX } from './frame.js';
import { decodeFrameAt } from './frameDecoder.js';
import type { LinkTap, WireDirection } from './link.js';
import { WireMasker } from './wireMask.js';
import { formatFrameLine, formatNoteLine, WIRE_TRACE_HEADER } from './wireTrace.js';

export class WireTraceOpenError extends KktAgentError {
  constructor(path: string, reason: string) {
    super('WIRE_TRACE_OPEN_FAILED', `Cannot write the wire trace to ${path}: ${reason}`, { path });
  }
}

/** Where trace lines go; the file writer below, or a test's array. */
export type TraceSink = (line: string) => void;

/**
 * Cuts one direction's bytes into frames as they arrive (a frame may come in pieces, several may come
 * at once) and hands each to `onFrame` with its exact wire bytes; what is not a frame becomes a note.
 */
class FrameSplitter {
  private pending = Buffer.alloc(0);

  constructor(
    private readonly onFrame: (bytes: Buffer) => void,
    private readonly onNote: (text: string) => void,
  ) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const start = this.pending.indexOf(STX);
      if (start < 0) {
        this.noise(this.pending.length);
        return;
      }
      this.noise(start);
      const outcome = decodeFrameAt(this.pending);
      if (outcome === 'incomplete') return;
      if (typeof outcome === 'string') {
        this.onNote(`frame rejected (${outcome}): ${this.pending.subarray(0, 16).toString('hex')}`);
        this.pending = this.pending.subarray(1);
        continue;
      }
      this.onFrame(this.pending.subarray(0, outcome.length));
      this.pending = this.pending.subarray(outcome.length);
    }
  }

  private noise(count: number): void {
    if (count === 0) return;
    this.onNote(`${count} bytes of noise: ${this.pending.subarray(0, Math.min(count, 16)).toString('hex')}`);
    this.pending = this.pending.subarray(count);
  }
}

/**
 * A tap for one device's link: every frame both ways becomes a trace line, customer contacts masked
 * (docs/protocol/atol-v3.md §14). A new tap per link keeps the frame splitting and masking state of one
 * connection together.
 */
export function wireTraceTap(sink: TraceSink, device: string, now: () => Date = () => new Date()): LinkTap {
  const masker = new WireMasker();
  const splitterFor = (direction: WireDirection) =>
    new FrameSplitter(
      (bytes) => {
        const decoded = decodeFrameAt(bytes);
        if (typeof decoded === 'string') return;
        const { frame, masked } = masker.mask(direction, decoded.frame);
        sink(formatFrameLine(now(), device, direction, masked ? encodeFrame(frame) : bytes, masked));
      },
      (text) => sink(formatNoteLine(now(), device, direction, text)),
    );
  const splitters = { host: splitterFor('host'), device: splitterFor('device') };
  return (direction, bytes) => {
    try {
      splitters[direction].push(bytes);
    } catch {
      // A trace is a diagnostic: it never breaks the link it watches.
    }
  };
}

/**
 * A trace file, appended to (a restart of the daemon does not wipe the trace of the crash before it). Lines
 * are written synchronously, so a trace ends with the last frame before a crash.
 */
export class WireTraceFile {
  private fd: number | undefined;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'a', 0o640);
      const line =
        fstatSync(this.fd).size === 0
          ? `${WIRE_TRACE_HEADER}\n`
          : `# trace resumed ${new Date().toISOString()} by process ${process.pid}\n`;
      writeSync(this.fd, line);
    } catch (error) {
      throw new WireTraceOpenError(path, (error as Error).message);
    }
  }

  readonly write: TraceSink = (line) => {
    if (this.fd === undefined) return;
    try {
      writeSync(this.fd, line);
    } catch {
      // A full disk stops the trace, not the register.
    }
  };

  tap(device: string): LinkTap {
    return wireTraceTap(this.write, device);
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
