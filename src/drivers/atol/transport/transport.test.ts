import { describe, expect, it } from 'vitest';
import { encodeFrame, type Frame } from './frame.js';
import { FrameDecoder } from './frameDecoder.js';
import { Link } from './link.js';
import { TaskCommand, TaskState } from './taskBuffer.js';
import { AtolTransport } from './transport.js';

type Reply = Buffer | 'silence' | Array<{ id: number; data: Buffer }>;

/** A link whose "device" is a script: it sees each decoded host packet and decides the reply. */
class ScriptedLink extends Link {
  readonly description = 'scripted';
  readonly sent: Frame[] = [];
  private opened = false;
  private readonly decoder = new FrameDecoder();

  constructor(script: (frame: Frame) => Reply) {
    super();
    this.decoder.on('data', (frame: Frame) => {
      this.sent.push(frame);
      const reply = script(frame);
      if (reply === 'silence') return;
      const frames = Array.isArray(reply) ? reply : [{ id: frame.id, data: reply }];
      setImmediate(() => {
        for (const f of frames) this.deliver(encodeFrame(f));
      });
    });
  }

  private deliver(bytes: Buffer): void {
    this.emit('data', bytes);
  }

  get isOpen(): boolean {
    return this.opened;
  }

  async open(): Promise<void> {
    this.opened = true;
  }

  async close(): Promise<void> {
    this.opened = false;
    this.emit('close');
  }

  protected async writeBytes(data: Buffer): Promise<void> {
    this.decoder.write(data);
  }
}

const OK_ANSWER = Buffer.of(0x55, 0x00);
const adds = (link: ScriptedLink) => link.sent.filter((f) => f.data[0] === TaskCommand.Add);
const kinds = (link: ScriptedLink) => link.sent.map((f) => f.data[0]!.toString(16).toUpperCase());

async function open(script: (frame: Frame) => Reply) {
  const link = new ScriptedLink(script);
  const transport = new AtolTransport(link, { replyTimeoutMs: 30, pollIntervalMs: 20, requestAttempts: 2 });
  await transport.open();
  return { link, transport };
}

describe('AtolTransport recovery rules', () => {
  it('answers a sync command and acks it', async () => {
    const { link, transport } = await open((f) =>
      f.data[0] === TaskCommand.Add
        ? Buffer.concat([Buffer.of(TaskState.Result), OK_ANSWER])
        : Buffer.of(TaskState.Stopped),
    );
    const outcome = await transport.execute(Buffer.of(0x45), 1000);
    expect(outcome).toEqual({ answer: OK_ANSWER, failed: false });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(kinds(link)).toEqual(['C4', 'C1', 'C2']);
  });

  it('never re-adds a task the device got: a lost reply is followed by Req, not by a second Add', async () => {
    let addsSeen = 0;
    const { link, transport } = await open((f) => {
      if (f.data[0] === TaskCommand.Add) {
        addsSeen++;
        return 'silence'; // the device ran it, but its reply was lost
      }
      if (f.data[0] === TaskCommand.Req) return Buffer.concat([Buffer.of(TaskState.Result), OK_ANSWER]);
      return Buffer.of(TaskState.Stopped);
    });
    await expect(transport.execute(Buffer.of(0x4a, 0, 1, 0, 0, 0, 0, 0), 1000)).resolves.toEqual({
      answer: OK_ANSWER,
      failed: false,
    });
    expect(addsSeen).toBe(1);
    expect(adds(link)).toHaveLength(1);
  });

  it('re-adds a task only when the device says it never received it (B3)', async () => {
    let addsSeen = 0;
    const { transport } = await open((f) => {
      if (f.data[0] === TaskCommand.Add) {
        addsSeen++;
        return addsSeen === 1 ? 'silence' : Buffer.concat([Buffer.of(TaskState.Result), OK_ANSWER]);
      }
      if (f.data[0] === TaskCommand.Req) return Buffer.of(TaskState.NotFound);
      return Buffer.of(TaskState.Stopped);
    });
    await expect(transport.execute(Buffer.of(0x45), 1000)).resolves.toMatchObject({ failed: false });
    expect(addsSeen).toBe(2);
  });

  it('resends a packet the device asks to repeat with an empty packet', async () => {
    let asked = false;
    const { link, transport } = await open((f) => {
      if (f.data[0] !== TaskCommand.Add) return Buffer.of(TaskState.Stopped);
      if (!asked) {
        asked = true;
        return Buffer.alloc(0);
      }
      return Buffer.concat([Buffer.of(TaskState.Result), OK_ANSWER]);
    });
    await transport.execute(Buffer.of(0x45), 1000);
    const addFrames = adds(link);
    expect(addFrames).toHaveLength(2);
    expect(addFrames[0]!.id).toBe(addFrames[1]!.id);
  });

  it('waits for the async result of a slow command (A2, then F0 with our task id)', async () => {
    const { transport } = await open((f) => {
      if (f.data[0] !== TaskCommand.Add) return Buffer.of(TaskState.Stopped);
      const taskId = f.data[2]!;
      return [
        { id: f.id, data: Buffer.of(TaskState.InProgress) },
        { id: 0xf0, data: Buffer.concat([Buffer.of(TaskState.AsyncError, taskId), Buffer.of(0x55, 0x67)]) },
      ];
    });
    await expect(transport.execute(Buffer.of(0x4a), 1000)).resolves.toEqual({
      answer: Buffer.of(0x55, 0x67),
      failed: true,
    });
  });

  it('reports an unknown outcome when the device goes silent after accepting a task', async () => {
    const { transport } = await open((f) =>
      f.data[0] === TaskCommand.Add ? Buffer.of(TaskState.InProgress) : 'silence',
    );
    await expect(transport.execute(Buffer.of(0x4a), 200)).rejects.toMatchObject({
      code: 'KKT_NO_ANSWER',
      outcome: 'unknown',
    });
  });

  it('leaves no waiter behind after a command, so a long-lived link does not grow in memory', async () => {
    const { transport } = await open((f) =>
      f.data[0] === TaskCommand.Add
        ? Buffer.concat([Buffer.of(TaskState.Result), OK_ANSWER])
        : Buffer.of(TaskState.Stopped),
    );
    for (let i = 0; i < 50; i++) await transport.execute(Buffer.of(0x45), 1000);
    expect((transport as unknown as { failureListeners: Set<unknown> }).failureListeners.size).toBe(0);
  });

  it('reports a known outcome when the link is down before anything was sent', async () => {
    const { link, transport } = await open(() => Buffer.of(TaskState.Stopped));
    await link.close();
    await expect(transport.execute(Buffer.of(0x45), 200)).rejects.toMatchObject({
      code: 'KKT_LINK_DOWN',
      outcome: 'not-sent',
    });
  });
});
