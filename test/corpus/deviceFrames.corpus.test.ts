import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommandRunner } from '../../src/drivers/atol/commandRunner.js';
import {
  ALL_COMMANDS,
  type CommandSpec,
  decodeAnswer,
  fnStatus,
  shortStatus,
} from '../../src/drivers/atol/commands/index.js';
import {
  ASYNC_PACKET_ID,
  ESC,
  encodeFrame,
  type Frame,
  STX,
} from '../../src/drivers/atol/transport/frame.js';
import { FrameDecoder, type FrameRejection } from '../../src/drivers/atol/transport/frameDecoder.js';
import { MockLink, type MockScript } from '../../src/drivers/atol/transport/mockLink.js';
import { TaskCommand, TaskState } from '../../src/drivers/atol/transport/taskBuffer.js';
import { AtolTransport } from '../../src/drivers/atol/transport/transport.js';
import { KktAgentError } from '../../src/lib/errors.js';
import { expectTyped, typedError, typedRejection } from './support.js';

/**
 * What a broken register or a noisy line can send: garbage into the frame decoder (it must reject the bad
 * frame with a typed reason, never throw, and find the next good frame), malformed answers into
 * `decodeAnswer` (KKT_MALFORMED_ANSWER), and bad task-buffer replies into the transport (a typed
 * AtolTransportError, after which the transport still runs the next command).
 */

const GOOD: Frame = { id: 0x21, data: Buffer.from([0xa3, 0x55, 0x00, 0x01]) };

function decode(...chunks: Buffer[]): { frames: Frame[]; rejected: FrameRejection[]; garbage: number } {
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  const rejected: FrameRejection[] = [];
  let garbage = 0;
  decoder.on('data', (frame: Frame) => frames.push(frame));
  decoder.on('rejected', (reason: FrameRejection) => rejected.push(reason));
  decoder.on('garbage', (count: number) => {
    garbage += count;
  });
  for (const chunk of chunks) decoder.write(chunk);
  return { frames, rejected, garbage };
}

const good = () => encodeFrame(GOOD);
const withByte = (frame: Buffer, index: number, value: number) => {
  const copy = Buffer.from(frame);
  copy[index] = value;
  return copy;
};

const FRAME_CASES: Array<[string, Buffer, FrameRejection | undefined]> = [
  ['noise without any STX', Buffer.from('hello, register'), undefined],
  ['a LEN byte above 0x7F', withByte(good(), 1, 0x80), 'bad-length'],
  ['the second LEN byte above 0x7F', withByte(good(), 2, 0xff), 'bad-length'],
  ['a packet id outside 00–DF and F0', withByte(good(), 3, 0xe5), 'bad-id'],
  ['packet id FF', withByte(good(), 3, 0xff), 'bad-id'],
  [
    'an ESC followed by an unknown byte',
    Buffer.concat([good().subarray(0, 4), Buffer.of(ESC, 0x00), good().subarray(5)]),
    'bad-escape',
  ],
  ['a flipped data byte (CRC fails)', withByte(good(), 5, good()[5]! ^ 0x01), 'bad-crc'],
  ['a flipped CRC byte', withByte(good(), good().length - 1, good()[good().length - 1]! ^ 0x80), 'bad-crc'],
  ['a frame cut short by the next STX', good().subarray(0, 6), 'truncated'],
  // The next frame's STX lands where LEN or the id should be.
  ['a lone STX', Buffer.of(STX), 'bad-length'],
  ['STX, LEN and nothing else', Buffer.of(STX, 0x05, 0x00), 'bad-id'],
  [
    'an async packet with a bad CRC',
    withByte(encodeFrame({ id: ASYNC_PACKET_ID, data: Buffer.of(0xa6, 1, 0x55, 0) }), 5, 0x00),
    'bad-crc',
  ],
];

describe('frame decoder corpus: a typed rejection, no exception, the next good frame found', () => {
  it.each(FRAME_CASES)('%s', (_name, bad, reason) => {
    const { frames, rejected, garbage } = decode(bad, good());
    expect(frames).toEqual([GOOD]);
    if (reason) expect(rejected).toContain(reason);
    else expect(garbage).toBeGreaterThan(0);
  });

  it('any garbage in any chunking is followed by the good frame intact', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 64 }), (noise, chunk) => {
        const bytes = Buffer.concat([Buffer.from(noise), good()]);
        const chunks: Buffer[] = [];
        for (let at = 0; at < bytes.length; at += chunk) chunks.push(bytes.subarray(at, at + chunk));
        const { frames } = decode(...chunks);
        expect(frames.at(-1)).toEqual(GOOD);
      }),
      { numRuns: 500 },
    );
  });
});

const GENERIC = ALL_COMMANDS.filter((spec) => spec.layout === 'generic');

describe('decodeAnswer corpus: KKT_MALFORMED_ANSWER for answers too broken to read', () => {
  const malformed = { code: 'KKT_MALFORMED_ANSWER' };

  it.each(ALL_COMMANDS.map((spec) => [spec.name, spec] as const))('%s: an empty answer', (_name, spec) => {
    typedError(() => decodeAnswer(spec, Buffer.alloc(0)), malformed);
  });

  it.each(GENERIC.map((spec) => [spec.name, spec] as const))('%s: a wrong answer code', (_name, spec) => {
    typedError(() => decodeAnswer(spec, Buffer.of(0x12, 0x00, 0x01, 0x02)), malformed);
  });

  it('random answers to every command: a result or KKT_MALFORMED_ANSWER, nothing else', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ALL_COMMANDS),
        fc.uint8Array({ maxLength: 80 }),
        (spec: CommandSpec<unknown, unknown>, bytes) => {
          try {
            decodeAnswer(spec, Buffer.from(bytes));
          } catch (error) {
            expectTyped(error, malformed);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

/** A register that ran the command: Add, and a Req after a reply the host missed, answer its result. */
const answered =
  (answer: Buffer): MockScript =>
  (frame) =>
    frame.data[0] === TaskCommand.Add || frame.data[0] === TaskCommand.Req
      ? Buffer.concat([Buffer.of(TaskState.Result), answer])
      : Buffer.of(TaskState.Stopped);
const SHORT_STATUS_OK = Buffer.from('5500' + '00'.repeat(3), 'hex');

const TRANSPORT_CASES: Array<[string, MockScript, string]> = [
  ['an unknown task state', () => Buffer.of(0xaa), 'KKT_MALFORMED_ANSWER'],
  ['the buffer is full (B1)', () => Buffer.of(TaskState.Overflow), 'KKT_TASK_BUFFER'],
  ['the task id is taken (B2)', () => Buffer.of(TaskState.AlreadyExists), 'KKT_TASK_BUFFER'],
  ['an illegal value (B4)', () => Buffer.of(TaskState.IllegalValue), 'KKT_TASK_BUFFER'],
  ['the task stopped (A5)', () => Buffer.of(TaskState.Stopped), 'KKT_TASK_BUFFER'],
  ['an empty reply', (f) => (f.data[0] === TaskCommand.Add ? Buffer.alloc(0) : 'silence'), 'KKT_NO_ANSWER'],
  ['silence', () => 'silence', 'KKT_NO_ANSWER'],
  [
    'line noise instead of a reply',
    () => ({ raw: [Buffer.from('\x00\xff\x13garbage\x7f')] }),
    'KKT_NO_ANSWER',
  ],
  [
    'a reply with a bad CRC',
    (f) => ({ raw: [withByte(encodeFrame({ id: f.id, data: Buffer.of(0xa3, 0x55, 0) }), 5, 0)] }),
    'KKT_NO_ANSWER',
  ],
  [
    'a reply to another packet',
    (f) => [{ id: (f.id + 7) % 0xdf, data: Buffer.of(0xa3, 0x55, 0) }],
    'KKT_NO_ANSWER',
  ],
  [
    'in progress, then the task vanishes (B3 to Req)',
    (f) => Buffer.of(f.data[0] === TaskCommand.Add ? TaskState.InProgress : TaskState.NotFound),
    'KKT_MALFORMED_ANSWER',
  ],
  [
    'an async result for a task nobody asked about, then silence',
    (f) =>
      f.data[0] === TaskCommand.Add
        ? [{ id: ASYNC_PACKET_ID, data: Buffer.of(0xa6, 0x99, 0x55, 0) }]
        : 'silence',
    'KKT_NO_ANSWER',
  ],
  ['a result with no answer bytes', answered(Buffer.alloc(0)), 'KKT_MALFORMED_ANSWER'],
  ['a result with a wrong answer code', answered(Buffer.of(0x44, 0x00)), 'KKT_MALFORMED_ANSWER'],
  ['a result cut short', answered(Buffer.of(0x55, 0x00, 0x01)), 'KKT_MALFORMED_ANSWER'],
  [
    'the link goes down mid-command',
    (f) => (f.data[0] === TaskCommand.Add ? 'unplug' : 'silence'),
    'KKT_LINK_DOWN',
  ],
];

describe('transport corpus: a typed error, and the next command still runs', () => {
  it.each(TRANSPORT_CASES)('%s', async (_name, script, code) => {
    const link = new MockLink();
    const transport = new AtolTransport(link, {
      replyTimeoutMs: 20,
      pollIntervalMs: 10,
      requestAttempts: 2,
      maxResends: 1,
    });
    await transport.open();
    const runner = new CommandRunner(transport, { 'A4 30': 200, '3F': 200 });
    link.script = script;
    const error = await typedRejection(() => runner.run(fnStatus, undefined), { code });
    expect(error).toBeInstanceOf(KktAgentError);
    if (code === 'KKT_LINK_DOWN') {
      expect(transport.isOpen).toBe(false);
      return;
    }
    link.script = answered(SHORT_STATUS_OK);
    const status = await runner.run(shortStatus, undefined);
    expect(status.mode).toBe(0);
  });
});
