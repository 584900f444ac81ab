import { describe, expect, it } from 'vitest';
import type { Frame } from './frame.js';
import { MockLink, type MockReply } from './mockLink.js';
import { TaskCommand, TaskState } from './taskBuffer.js';
import { AtolTransport } from './transport.js';

const OK_ANSWER = Buffer.of(0x55, 0x00);
const adds = (link: MockLink) => link.sent.filter((f) => f.data[0] === TaskCommand.Add);
const kinds = (link: MockLink) => link.sent.map((f) => f.data[0]!.toString(16).toUpperCase());

async function open(script: (frame: Frame) => MockReply) {
  const link = new MockLink(script);
  // 200 ms: the scripted register answers on the next turn of the event loop, which a loaded machine can
  // delay past 30 ms, and a late reply then reads as a lost one.
  const transport = new AtolTransport(link, { replyTimeoutMs: 200, pollIntervalMs: 20, requestAttempts: 2 });
  await transport.open();
  return { link, transport };
}

describe('AtolTransport recovery rules', () => {
  it('answers a sync command, keeps its result on the device, and clears it with one Abort at release', async () => {
    const { link, transport } = await open((f) =>
      f.data[0] === TaskCommand.Add
        ? Buffer.concat([Buffer.of(TaskState.Result), OK_ANSWER])
        : Buffer.of(TaskState.Result),
    );
    expect(await transport.execute(Buffer.of(0x45), 1000)).toEqual({ answer: OK_ANSWER, failed: false });
    expect(await transport.execute(Buffer.of(0x3f), 1000)).toEqual({ answer: OK_ANSWER, failed: false });
    expect(adds(link).map((f) => f.data[1])).toEqual([0x01, 0x01]);
    expect(transport.keptResultCount).toBe(2);
    await transport.release();
    expect(kinds(link)).toEqual(['C4', 'C1', 'C1', 'C4']);
    expect(transport.keptResultCount).toBe(0);
  });

  it('clears kept results on its own once there are maxKeptResults of them', async () => {
    const link = new MockLink((f) =>
      f.data[0] === TaskCommand.Add
        ? Buffer.concat([Buffer.of(TaskState.Result), OK_ANSWER])
        : Buffer.of(TaskState.Result),
    );
    const transport = new AtolTransport(link, { replyTimeoutMs: 30, maxKeptResults: 3 });
    await transport.open();
    for (let i = 0; i < 7; i++) await transport.execute(Buffer.of(0x45), 1000);
    expect(kinds(link).join(' ')).toBe('C4 C1 C1 C1 C4 C1 C1 C1 C4 C1');
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
    // Req answers the result as Add does: a reply that misses the timeout is asked for again with Req.
    const { transport } = await open((f) =>
      f.data[0] === TaskCommand.Add || f.data[0] === TaskCommand.Req
        ? Buffer.concat([Buffer.of(TaskState.Result), OK_ANSWER])
        : Buffer.of(TaskState.Stopped),
    );
    for (let i = 0; i < 50; i++) await transport.execute(Buffer.of(0x45), 1000);
    expect((transport as unknown as { failureListeners: Set<unknown> }).failureListeners.size).toBe(0);
  });

  it('posts a command with flags 0 and goes on once the device took it: no Ack, no Req', async () => {
    const { link, transport } = await open((f) =>
      f.data[0] === TaskCommand.Add ? Buffer.of(TaskState.InProgress) : Buffer.of(TaskState.Result),
    );
    expect(await transport.execute(Buffer.of(0xea, 0, 1, 0), 1000, 'post')).toEqual({
      answer: undefined,
      failed: false,
    });
    expect(adds(link)[0]!.data[1]).toBe(0x00);
    await transport.release();
    expect(kinds(link)).toEqual(['C4', 'C1']);
    expect(transport.stats).toMatchObject({ commands: 1, postedCommands: 1, framesSent: 2 });
  });

  it("reports a posted command's async failure (A7) at the next command that waits, and clears the buffer", async () => {
    let postedTask = -1;
    const { link, transport } = await open((f) => {
      if (f.data[0] !== TaskCommand.Add) return Buffer.of(TaskState.Result);
      if (f.data[1] === 0) {
        postedTask = f.data[2]!;
        // Taken, then failed: 0xEE as a real EB/E8 refusal reads.
        return [
          { id: f.id, data: Buffer.of(TaskState.InProgress) },
          { id: 0xf0, data: Buffer.of(TaskState.AsyncError, postedTask, 0x55, 0xee) },
        ];
      }
      // The device stopped the waiting task because the posted one failed.
      return Buffer.of(TaskState.Stopped, f.data[2]!);
    });
    await transport.execute(Buffer.of(0xe8, 1, 1, 0, 0x08, 0x04, 0, 0), 1000, 'post');
    const failure = await transport.execute(Buffer.of(0xeb, 0), 1000).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'KKT_DEFERRED_FAILURE', answer: Buffer.of(0x55, 0xee) });
    expect((failure as { body: Buffer }).body[0]).toBe(0xe8);
    expect(kinds(link)).toEqual(['C4', 'C1', 'C1', 'C4']);
  });

  it('never re-adds a posted command whose reply was lost: its fate cannot be asked for', async () => {
    const { link, transport } = await open((f) =>
      f.data[0] === TaskCommand.Add ? 'silence' : Buffer.of(0xa3),
    );
    await expect(transport.execute(Buffer.of(0xea, 0, 1, 0), 1000, 'post')).rejects.toMatchObject({
      code: 'KKT_NO_ANSWER',
      outcome: 'unknown',
    });
    expect(adds(link)).toHaveLength(1);
    expect(kinds(link)).not.toContain('C3');
  });

  it('distrusts the next result when a damaged frame came while posted commands were outstanding', async () => {
    let damaged = false;
    const link = new MockLink((f) => {
      if (f.data[0] !== TaskCommand.Add) return Buffer.of(TaskState.Result);
      if (f.data[1] === 0 && !damaged) {
        damaged = true;
        setImmediate(() => link.inject(Buffer.from('fe0400f0a7010000', 'hex')));
        return Buffer.of(TaskState.InProgress);
      }
      return Buffer.concat([Buffer.of(TaskState.Result), OK_ANSWER]);
    });
    const transport = new AtolTransport(link, { replyTimeoutMs: 30 });
    await transport.open();
    await transport.execute(Buffer.of(0xea, 0, 1, 0), 1000, 'post');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await expect(transport.execute(Buffer.of(0xeb, 0), 1000)).rejects.toMatchObject({
      code: 'KKT_MALFORMED_ANSWER',
      outcome: 'unknown',
    });
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
