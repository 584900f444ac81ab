import { Transform, type TransformCallback } from 'node:stream';
import { ESC, ESC_ESC, ESC_STX, type Frame, frameChecksum, isValidPacketId, STX } from './frame.js';

export type FrameRejection = 'bad-length' | 'bad-id' | 'bad-escape' | 'bad-crc' | 'truncated';

export interface FrameDecoderEvents {
  /** Bytes skipped while looking for the next STX (noise, or the tail of a rejected frame). */
  garbage: (byteCount: number) => void;
  /** A frame started but could not be accepted; decoding resumes at the next STX. */
  rejected: (reason: FrameRejection) => void;
}

/**
 * Decodes the frame that starts at `buf[0]` (an STX): the frame and how many wire bytes it took, or why it
 * cannot be decoded (yet). Shared by the stream decoder and the wire-trace reader.
 */
export function decodeFrameAt(buf: Buffer): { frame: Frame; length: number } | 'incomplete' | FrameRejection {
  if (buf.length < 4) return 'incomplete';
  const len0 = buf[1]!;
  const len1 = buf[2]!;
  if (len0 > 0x7f || len1 > 0x7f) return 'bad-length';
  const id = buf[3]!;
  if (!isValidPacketId(id)) return 'bad-id';
  const length = len0 | (len1 << 7);
  const unescaped = Buffer.allocUnsafe(length + 1);
  let produced = 0;
  let at = 4;
  while (produced < length + 1) {
    if (at >= buf.length) return 'incomplete';
    const byte = buf[at]!;
    if (byte === STX) return 'truncated';
    if (byte === ESC) {
      if (at + 1 >= buf.length) return 'incomplete';
      const next = buf[at + 1]!;
      if (next === ESC_STX) unescaped[produced++] = STX;
      else if (next === ESC_ESC) unescaped[produced++] = ESC;
      else return 'bad-escape';
      at += 2;
    } else {
      unescaped[produced++] = byte;
      at += 1;
    }
  }
  const data = unescaped.subarray(0, length);
  if (frameChecksum(id, data) !== unescaped[length]) return 'bad-crc';
  return { frame: { id, data: Buffer.from(data) }, length: at };
}

/**
 * Stream transform: raw bytes in, `Frame` objects out. Because STX (FE) never occurs inside an escaped
 * frame, any error resynchronises by dropping the bad STX and scanning for the next one, so one corrupt
 * byte costs at most one frame and never desynchronises the stream.
 */
export class FrameDecoder extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private skippedBytes = 0;

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.drain();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.pending.length > 0) this.skip(this.pending.length);
    this.reportGarbage();
    callback();
  }

  private drain(): void {
    for (;;) {
      const start = this.pending.indexOf(STX);
      if (start < 0) {
        this.skip(this.pending.length);
        return;
      }
      if (start > 0) this.skip(start);
      const outcome = this.tryDecodeAtHead();
      if (outcome === 'incomplete') return;
      if (outcome !== 'ok') {
        this.reportGarbage();
        this.emit('rejected', outcome);
        this.skip(1);
      }
    }
  }

  /** Decodes the frame starting at pending[0] (an STX). Consumes it on success. */
  private tryDecodeAtHead(): 'ok' | 'incomplete' | FrameRejection {
    const outcome = decodeFrameAt(this.pending);
    if (typeof outcome === 'string') return outcome;
    this.reportGarbage();
    this.pending = this.pending.subarray(outcome.length);
    this.push(outcome.frame);
    return 'ok';
  }

  private skip(count: number): void {
    this.skippedBytes += count;
    this.pending = this.pending.subarray(count);
  }

  private reportGarbage(): void {
    if (this.skippedBytes > 0) {
      this.emit('garbage', this.skippedBytes);
      this.skippedBytes = 0;
    }
  }
}
