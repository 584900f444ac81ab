import type { Frame } from './frame.js';
import { ASYNC_PACKET_ID } from './frame.js';
import type { WireDirection } from './link.js';
import { TaskCommand, TaskState } from './taskBuffer.js';

/**
 * FFD tags that carry a customer's contact or identity: 1008 (phone or e-mail), 1227 (buyer's name), 1228
 * (buyer's INN) and 1256 (the FFD 1.2 STLV that holds the two). A wire trace never shows their values.
 */
export const MASKED_TAGS: ReadonlySet<number> = new Set([1008, 1227, 1228, 1256]);

/** What a masked byte becomes: `*` in ASCII and CP866, so a masked text still reads as text. */
export const MASK_BYTE = 0x2a;

const WRITE_TAG = 0xe8;
const READ_DOCUMENT_CHUNK = Buffer.of(0xa4, 0x46);
/** `C1 flags TId password(2)`: the command body starts here. */
const ADD_HEADER_LENGTH = 5;
/** `E8 flags blocks block#`: the TLV starts here. */
const WRITE_TAG_HEADER_LENGTH = 4;
/** `55 00`: the TLV of an `A4 46` answer starts here. */
const ANSWER_HEADER_LENGTH = 2;

const tagAt = (bytes: Buffer, at: number) => (at + 4 <= bytes.length ? bytes.readUInt16LE(at) : undefined);

/**
 * Replaces customer contacts in frames with `*` (docs/protocol/atol-v3.md §14): in the host's `E8` tag
 * writes, and in the register's `A4 46` answers (a fiscal document read back carries the same tags). The
 * register's answers do not say which command they answer, so the masker follows the task ids and packet
 * ids of the host's frames. A TLV longer than one answer is masked on into the next `A4 46` answer.
 */
export class WireMasker {
  /** Command bodies by task id, and the task id each host packet is about. */
  private readonly commandOfTask = new Map<number, Buffer>();
  private readonly taskOfPacket = new Map<number, number>();
  /** Bytes of a masked TLV value still to come in the next `A4 46` answer. */
  private pendingMaskBytes = 0;

  /** The frame with customer data masked (a new frame when anything changed). */
  mask(direction: WireDirection, frame: Frame): { frame: Frame; masked: boolean } {
    return direction === 'host' ? this.maskHost(frame) : this.maskDevice(frame);
  }

  private maskHost(frame: Frame): { frame: Frame; masked: boolean } {
    const { data } = frame;
    const command = data[0];
    if (command === TaskCommand.Add && data.length > ADD_HEADER_LENGTH) {
      const taskId = data[2]!;
      const body = data.subarray(ADD_HEADER_LENGTH);
      this.commandOfTask.set(taskId, Buffer.from(body.subarray(0, 2)));
      this.taskOfPacket.set(frame.id, taskId);
      if (body[0] === WRITE_TAG) {
        const tlvAt = ADD_HEADER_LENGTH + WRITE_TAG_HEADER_LENGTH;
        const tag = tagAt(data, tlvAt);
        if (tag !== undefined && MASKED_TAGS.has(tag)) {
          return { frame: { id: frame.id, data: maskFrom(data, tlvAt + 4) }, masked: true };
        }
      }
    } else if ((command === TaskCommand.Req || command === TaskCommand.Ack) && data.length >= 2) {
      this.taskOfPacket.set(frame.id, data[1]!);
    }
    return { frame, masked: false };
  }

  private maskDevice(frame: Frame): { frame: Frame; masked: boolean } {
    const { data } = frame;
    const state = data[0];
    let taskId: number | undefined;
    let answerAt: number;
    if (frame.id === ASYNC_PACKET_ID) {
      if (state !== TaskState.AsyncResult && state !== TaskState.AsyncError) return { frame, masked: false };
      taskId = data[1];
      answerAt = 2;
    } else {
      if (state !== TaskState.Result && state !== TaskState.Error) return { frame, masked: false };
      taskId = this.taskOfPacket.get(frame.id);
      answerAt = 1;
    }
    const command = taskId === undefined ? undefined : this.commandOfTask.get(taskId);
    if (!command?.equals(READ_DOCUMENT_CHUNK)) return { frame, masked: false };
    const tlvAt = answerAt + ANSWER_HEADER_LENGTH;
    if (data[answerAt] !== 0x55 || data[answerAt + 1] !== 0x00) {
      this.pendingMaskBytes = 0;
      return { frame, masked: false };
    }
    if (this.pendingMaskBytes > 0) {
      // The rest of a masked TLV that did not fit into the previous answer.
      const end = Math.min(data.length, tlvAt + this.pendingMaskBytes);
      this.pendingMaskBytes -= end - tlvAt;
      return { frame: { id: frame.id, data: maskFrom(data, tlvAt, end) }, masked: true };
    }
    const tag = tagAt(data, tlvAt);
    if (tag === undefined || !MASKED_TAGS.has(tag)) return { frame, masked: false };
    const valueLength = data.readUInt16LE(tlvAt + 2);
    const valueAt = tlvAt + 4;
    const end = Math.min(data.length, valueAt + valueLength);
    this.pendingMaskBytes = valueLength - (end - valueAt);
    return { frame: { id: frame.id, data: maskFrom(data, valueAt, end) }, masked: true };
  }
}

function maskFrom(data: Buffer, start: number, end = data.length): Buffer {
  const copy = Buffer.from(data);
  copy.fill(MASK_BYTE, start, end);
  return copy;
}
