import { readFileSync } from 'node:fs';
import { encodeFrame, type Frame } from '../../src/drivers/atol/transport/frame.js';
import { FrameDecoder } from '../../src/drivers/atol/transport/frameDecoder.js';
import { Link } from '../../src/drivers/atol/transport/link.js';
import { TaskCommand, TaskState } from '../../src/drivers/atol/transport/taskBuffer.js';
import { WireMasker } from '../../src/drivers/atol/transport/wireMask.js';
import {
  parseWireTrace,
  type WireTraceEntry,
  type WireTraceFrame,
} from '../../src/drivers/atol/transport/wireTrace.js';
import { KktAgentError } from '../../src/lib/errors.js';

/** Reads a trace file (docs/protocol/atol-v3.md §14); a malformed one throws `WireTraceError` with its line. */
export function readWireTrace(path: string): WireTraceEntry[] {
  return parseWireTrace(readFileSync(path, 'utf8'), path);
}

/** The driver sent something else than the trace's host did at this point. */
export class ReplayMismatchError extends KktAgentError {
  constructor(line: number | undefined, reason: string) {
    super(
      'WIRE_REPLAY_MISMATCH',
      `${line === undefined ? 'after the last line' : `line ${line}`}: ${reason}`,
      {
        line,
      },
    );
  }
}

const hex = (data: Buffer) => data.toString('hex').toUpperCase();
const ASYNC_ID = 0xf0;

/**
 * Plays the register's side of a trace back to the driver, so that a trace taken at a real register is a
 * regression test. Each frame the driver writes must match the trace's next host frame: the same task
 * command, flags, password and command body. Packet ids and task ids are the driver's own (they run on
 * across sessions), so the replay maps the trace's ids to the driver's and rewrites the register's frames
 * to match. Customer contacts are masked in a trace; the driver's frames are masked the same way before
 * they are compared. After a mismatch the link closes, and `assertComplete` reports it.
 */
export class ReplayRegister extends Link {
  readonly description = 'replayed wire trace';
  /** Every host frame the driver wrote, in hex (data only). */
  readonly hostFrames: string[] = [];
  mismatch: ReplayMismatchError | undefined;
  private readonly frames: WireTraceFrame[];
  private cursor = 0;
  private opened = false;
  private readonly decoder = new FrameDecoder();
  private readonly masker = new WireMasker();
  private readonly packetIds = new Map<number, number>();
  private readonly taskIds = new Map<number, number>();
  private sending: Promise<void> = Promise.resolve();

  constructor(entries: readonly WireTraceEntry[], device?: string) {
    super();
    this.frames = entries.filter(
      (entry): entry is WireTraceFrame =>
        entry.kind === 'frame' && (device === undefined || entry.device === device),
    );
    this.decoder.on('data', (frame: Frame) => this.onHostFrame(frame));
  }

  get isOpen(): boolean {
    return this.opened;
  }

  /** Host frames of the trace the driver has not sent yet. */
  get remainingHostFrames(): number {
    return this.frames.slice(this.cursor).filter((f) => f.direction === 'host').length;
  }

  async open(): Promise<void> {
    this.opened = true;
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.opened = false;
    this.emit('close');
  }

  /** Throws the first mismatch, or says which host frames of the trace never came. */
  assertComplete(): void {
    if (this.mismatch) throw this.mismatch;
    const next = this.frames.slice(this.cursor).find((f) => f.direction === 'host');
    if (next) {
      throw new ReplayMismatchError(
        next.line,
        `the driver stopped; the trace's host still sends ${this.remainingHostFrames} frame(s)`,
      );
    }
  }

  protected async writeBytes(data: Buffer): Promise<void> {
    this.decoder.write(data);
  }

  private fail(line: number | undefined, reason: string): void {
    this.mismatch ??= new ReplayMismatchError(line, reason);
    if (this.opened) {
      this.opened = false;
      setImmediate(() => this.emit('close', this.mismatch));
    }
  }

  private onHostFrame(live: Frame): void {
    if (this.mismatch) return;
    this.hostFrames.push(hex(live.data));
    const expected = this.frames[this.cursor];
    if (expected?.direction !== 'host') {
      this.fail(expected?.line, `the driver sent ${hex(live.data)}, but the trace has no host frame here`);
      return;
    }
    const masked = this.masker.mask('host', live).frame.data;
    const reason = this.difference(expected, masked);
    if (reason) {
      this.fail(expected.line, reason);
      return;
    }
    this.packetIds.set(expected.frame.id, live.id);
    this.cursor++;
    const replies: Frame[] = [];
    while (this.frames[this.cursor]?.direction === 'device') {
      replies.push(this.rewrite(this.frames[this.cursor]!.frame));
      this.cursor++;
    }
    this.sending = this.sending.then(async () => {
      for (const reply of replies) {
        await new Promise((resolve) => setImmediate(resolve));
        if (this.opened) this.received(encodeFrame(reply));
      }
    });
  }

  /** Why the driver's (masked) frame is not the trace's, or undefined when it is. */
  private difference(expected: WireTraceFrame, live: Buffer): string | undefined {
    const trace = expected.frame.data;
    const said = `the trace's host sent ${hex(trace)}, the driver ${hex(live)}`;
    if (trace[0] !== live[0]) return said;
    switch (trace[0]) {
      case TaskCommand.Add:
        if (trace[1] !== live[1] || !trace.subarray(3).equals(live.subarray(3))) return said;
        this.taskIds.set(trace[2]!, live[2]!);
        return undefined;
      case TaskCommand.Ack:
      case TaskCommand.Req:
        if (this.taskIds.get(trace[1]!) !== live[1] || trace.length !== live.length) return said;
        return undefined;
      default:
        return trace.equals(live) ? undefined : said;
    }
  }

  /** A register frame with the driver's packet id (replies) or task id (async results). */
  private rewrite(frame: Frame): Frame {
    const data = Buffer.from(frame.data);
    if (frame.id === ASYNC_ID) {
      if (data[0] === TaskState.AsyncResult || data[0] === TaskState.AsyncError)
        data[1] = this.taskIds.get(data[1]!) ?? data[1]!;
      return { id: ASYNC_ID, data };
    }
    if (data[0] === TaskState.Stopped && data.length === 2) data[1] = this.taskIds.get(data[1]!) ?? data[1]!;
    return { id: this.packetIds.get(frame.id) ?? frame.id, data };
  }
}
