import { describe, expect, it } from 'vitest';
import type { Frame } from '../../drivers/atol/transport/frame.js';
import { TaskBufferServer, type TaskRun, type TaskRunner, type TaskSession } from './taskBufferServer.js';

class FakeSession implements TaskSession {
  alive = true;
  readonly sent: Frame[] = [];
  dropped: string | undefined;
  send(frame: Frame): void {
    this.sent.push(frame);
  }
  drop(reason: string): void {
    this.dropped = reason;
    this.alive = false;
  }
  take(): string[] {
    return this.sent.splice(0).map((f) => `${f.id.toString(16)}:${f.data.toString('hex')}`);
  }
}

/** A runner whose commands finish when the test says so; command `EE` fails with error 0xEE. */
function controlledRunner() {
  const pending: Array<(run: TaskRun) => void> = [];
  const answered: TaskRun[] = [];
  const runner: TaskRunner<TaskRun> = {
    admit: (body) => (body[0] === 0xdd ? 'drop' : 'run'),
    isSlow: (body) => body[0] === 0x4a,
    run: (body) =>
      new Promise((resolve) => {
        if (body[0] === 0x4a) pending.push(resolve);
        else if (body[0] === 0xee) resolve({ answer: Buffer.of(0x55, 0xee), failed: true, slow: false });
        else resolve({ answer: Buffer.of(0x55, 0), failed: false, slow: false });
      }),
    answerDelayMs: () => 0,
    answered: (run) => answered.push(run),
  };
  const finish = (run: TaskRun = { answer: Buffer.of(0x55, 0), failed: false, slow: true }) =>
    pending.shift()!(run);
  return { runner, finish, answered };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const addFrame = (id: number, flags: number, taskId: number, ...command: number[]): Frame => ({
  id,
  data: Buffer.of(0xc1, flags, taskId, 0, 0, ...command),
});

describe('TaskBufferServer', () => {
  it('answers a task added without NeedResult with its state only, and keeps no result', async () => {
    const { runner, answered } = controlledRunner();
    const buffer = new TaskBufferServer(runner);
    const session = new FakeSession();
    buffer.attach(session);
    buffer.handleFrame(session, addFrame(1, 0x00, 5, 0x45));
    await tick();
    expect(session.take()).toEqual(['1:a2']);
    expect(answered).toHaveLength(1);
    buffer.handleFrame(session, { id: 2, data: Buffer.of(0xc3, 5) });
    expect(session.take()).toEqual(['2:b3']);
  });

  it('reports a failed task without NeedResult as A7, stops the queue and refuses tasks until Abort', async () => {
    const { runner, finish } = controlledRunner();
    const buffer = new TaskBufferServer(runner);
    const session = new FakeSession();
    buffer.attach(session);
    buffer.handleFrame(session, addFrame(1, 0x01, 1, 0x4a));
    buffer.handleFrame(session, addFrame(2, 0x00, 2, 0xee));
    buffer.handleFrame(session, addFrame(3, 0x01, 3, 0x45));
    expect(session.take()).toEqual(['1:a2', '2:a1', '3:a1']);
    finish();
    await tick();
    await tick();
    await tick();
    // 4A's result, then EE's failure; 45 was queued behind it and is stopped, never run.
    expect(session.take()).toEqual(['f0:a6015500', 'f0:a70255ee']);
    buffer.handleFrame(session, { id: 4, data: Buffer.of(0xc3, 3) });
    buffer.handleFrame(session, addFrame(5, 0x01, 4, 0x45));
    expect(session.take()).toEqual(['4:a5', '5:a504']);
    buffer.handleFrame(session, { id: 6, data: Buffer.of(0xc4) });
    buffer.handleFrame(session, addFrame(7, 0x01, 4, 0x45));
    await tick();
    expect(session.take()).toEqual(['6:a3', '7:a35500']);
  });

  it('goes on after a failure of a task added with IgnoreError', async () => {
    const { runner } = controlledRunner();
    const buffer = new TaskBufferServer(runner);
    const session = new FakeSession();
    buffer.attach(session);
    buffer.handleFrame(session, addFrame(1, 0x03, 1, 0xee));
    await tick();
    buffer.handleFrame(session, addFrame(2, 0x01, 2, 0x45));
    await tick();
    expect(session.take()).toEqual(['1:a455ee', '2:a35500']);
  });

  it('does not report a task cleared by Abort while it ran, but the next task runs', async () => {
    const { runner, finish, answered } = controlledRunner();
    const buffer = new TaskBufferServer(runner);
    const session = new FakeSession();
    buffer.attach(session);
    buffer.handleFrame(session, addFrame(1, 0x01, 1, 0x4a));
    expect(session.take()).toEqual(['1:a2']);
    buffer.handleFrame(session, { id: 2, data: Buffer.of(0xc4) });
    expect(session.take()).toEqual(['2:a3']);
    buffer.handleFrame(session, addFrame(3, 0x01, 1, 0x45));
    expect(session.take()).toEqual(['3:a1']);
    finish();
    await tick();
    await tick();
    // Only the new task's result comes, as an F0 packet since it had to wait.
    expect(session.take()).toEqual(['f0:a6015500']);
    expect(answered).toHaveLength(1);
    expect(buffer.idle).toBe(true);
  });

  it('sends an async result to the connection that replaced the one that asked', async () => {
    const { runner, finish } = controlledRunner();
    const buffer = new TaskBufferServer(runner);
    const first = new FakeSession();
    buffer.attach(first);
    buffer.handleFrame(first, addFrame(1, 0x01, 9, 0x4a));
    first.alive = false;
    buffer.detach(first);
    const second = new FakeSession();
    buffer.attach(second);
    finish({ answer: Buffer.of(0x55, 0x67), failed: true, slow: true });
    await tick();
    await tick();
    expect(second.take()).toEqual(['f0:a7095567']);
    buffer.handleFrame(second, { id: 4, data: Buffer.of(0xc3, 9) });
    expect(second.take()).toEqual(['4:a45567']);
  });

  it('drops the connection without running a command the runner refuses to admit', () => {
    const { runner } = controlledRunner();
    const buffer = new TaskBufferServer(runner);
    const session = new FakeSession();
    buffer.handleFrame(session, addFrame(1, 0x01, 1, 0xdd));
    expect(session.dropped).toMatch(/dropped on command dd/);
    expect(buffer.size).toBe(0);
  });

  it('answers B4 to malformed packets and ignores empty ones', () => {
    const { runner } = controlledRunner();
    const buffer = new TaskBufferServer(runner);
    const session = new FakeSession();
    buffer.handleFrame(session, { id: 1, data: Buffer.of(0xc1, 0x01, 0x01) });
    buffer.handleFrame(session, { id: 2, data: Buffer.of(0xc1, 0x01, 0xe5, 0, 0, 0x45) });
    buffer.handleFrame(session, { id: 3, data: Buffer.of(0x99) });
    buffer.handleFrame(session, { id: 4, data: Buffer.alloc(0) });
    expect(session.take()).toEqual(['1:b4', '2:b4', '3:b4']);
  });

  it('keeps a running task on Ack (its result is still to come)', async () => {
    const { runner, finish } = controlledRunner();
    const buffer = new TaskBufferServer(runner);
    const session = new FakeSession();
    buffer.attach(session);
    buffer.handleFrame(session, addFrame(1, 0x01, 2, 0x4a));
    buffer.handleFrame(session, { id: 2, data: Buffer.of(0xc2, 2) });
    expect(session.take()).toEqual(['1:a2', '2:a2']);
    finish();
    await tick();
    await tick();
    buffer.handleFrame(session, { id: 3, data: Buffer.of(0xc2, 2) });
    expect(session.take()).toEqual(['f0:a6025500', '3:a3']);
    expect(buffer.size).toBe(0);
  });
});
