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

/** A runner whose commands finish when the test says so. */
function controlledRunner() {
  const pending: Array<(run: TaskRun) => void> = [];
  const answered: TaskRun[] = [];
  const runner: TaskRunner<TaskRun> = {
    admit: (body) => (body[0] === 0xdd ? 'drop' : 'run'),
    isSlow: (body) => body[0] === 0x4a,
    run: (body) =>
      new Promise((resolve) => {
        if (body[0] === 0x4a) pending.push(resolve);
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
  it('forgets a result added without NeedResult once it has been reported', async () => {
    const { runner } = controlledRunner();
    const buffer = new TaskBufferServer(runner);
    const session = new FakeSession();
    buffer.attach(session);
    buffer.handleFrame(session, addFrame(1, 0x00, 5, 0x45));
    await tick();
    expect(session.take()).toEqual(['1:a35500']);
    buffer.handleFrame(session, { id: 2, data: Buffer.of(0xc3, 5) });
    expect(session.take()).toEqual(['2:b3']);
  });

  it('does not report a task cleared by Abort while it ran, but the next task runs', async () => {
    const { runner, finish, answered } = controlledRunner();
    const buffer = new TaskBufferServer(runner);
    const session = new FakeSession();
    buffer.attach(session);
    buffer.handleFrame(session, addFrame(1, 0x01, 1, 0x4a));
    expect(session.take()).toEqual(['1:a2']);
    buffer.handleFrame(session, { id: 2, data: Buffer.of(0xc4) });
    expect(session.take()).toEqual(['2:a5']);
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
