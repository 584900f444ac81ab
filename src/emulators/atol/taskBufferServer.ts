import { decodeBcd } from '../../drivers/atol/protocol/bcd.js';
import { ASYNC_PACKET_ID, type Frame } from '../../drivers/atol/transport/frame.js';
import { MAX_TASK_ID, TaskCommand, TaskFlags, TaskState } from '../../drivers/atol/transport/taskBuffer.js';

/** One host connection as the task buffer sees it. */
export interface TaskSession {
  readonly alive: boolean;
  send(frame: Frame): void;
  /** Closes the connection abruptly (a link fault). */
  drop(reason: string): void;
}

/** The result of running one command. */
export interface TaskRun {
  /** The command answer (`55 ERR …`). */
  answer: Buffer;
  /** The answer's error byte is not 0: reported as A4/A7 instead of A3/A6. */
  failed: boolean;
  /** Answered asynchronously: A2 at once, the result later in an F0 packet. */
  slow: boolean;
  /** The command took effect but the connection is to drop before the answer (a link fault). */
  dropInsteadOfAnswer?: boolean;
}

/** What the task buffer asks of the register behind it. */
export interface TaskRunner<R extends TaskRun> {
  /** Before a task is accepted: "drop" closes the connection and the command never runs. */
  admit(body: Buffer): 'run' | 'drop';
  /** Whether a command answers asynchronously; known before it runs, so A2 goes out at once. */
  isSlow(body: Buffer): boolean;
  run(body: Buffer, accessPassword: number): Promise<R>;
  /** How long the register takes before its answer is out (simulated work time). */
  answerDelayMs(run: R): number;
  /** Called once the answer has been sent. */
  answered(run: R): void;
}

interface Task<R extends TaskRun> {
  id: number;
  flags: number;
  body: Buffer;
  accessPassword: number;
  state: number;
  answer?: Buffer;
  session: TaskSession;
  /** The packet id of the Add; a synchronous answer echoes it. */
  replyPacketId: number;
  /** A first reply (A1/A2) went out already, so the result must come as an F0 packet. */
  replied: boolean;
  /** Cleared by Abort while running: its result is not reported. */
  aborted: boolean;
  run?: R;
}

const hasFlag = (task: { flags: number }, flag: number) => (task.flags & flag) !== 0;

/** Finished, one way or the other: an Ack may remove it. */
const isDone = (state: number) =>
  state === TaskState.Result || state === TaskState.Error || state === TaskState.Stopped;

/**
 * The register's side of the protocol v3 task buffer (docs/protocol/atol-v3.md §3): Add, Ack, Req, Abort
 * and AckAdd. Tasks run one at a time in arrival order. Results of tasks added with NeedResult stay until
 * Ack or Abort, so a host that lost an answer gets it again with Req. A task added without NeedResult is
 * answered at once with its state (A1 queued, A2 running) and reports nothing more unless it fails: then
 * an async error (A7) goes out. A failure (without IgnoreError) stops the tasks queued behind it (A5) and
 * the buffer refuses new ones with `A5 TId` until the host clears it with Abort, or acknowledges the task
 * that failed. The buffer outlives connections, as a register's does.
 */
export class TaskBufferServer<R extends TaskRun> {
  private readonly tasks = new Map<number, Task<R>>();
  private readonly queue: Task<R>[] = [];
  private running: Task<R> | undefined;
  private session: TaskSession | undefined;
  /** A task failed without IgnoreError: new tasks are refused until Abort (or the failed task's Ack). */
  private stoppedBy: number | undefined;
  /** Pending work-time waits, resolved early when the buffer closes. */
  private readonly sleeps = new Map<NodeJS.Timeout, () => void>();
  private closed = false;

  constructor(private readonly runner: TaskRunner<R>) {}

  /** The connection unsolicited (F0) packets go to. */
  attach(session: TaskSession): void {
    this.session = session;
  }

  detach(session: TaskSession): void {
    if (this.session === session) this.session = undefined;
  }

  /** Tasks in the buffer (waiting, running, or done and not yet acknowledged). */
  get size(): number {
    return this.tasks.size;
  }

  /** True while no task is running or queued. */
  get idle(): boolean {
    return this.running === undefined && this.queue.length === 0;
  }

  handleFrame(session: TaskSession, frame: Frame): void {
    const data = frame.data;
    const reply = (...bytes: Array<number | Buffer>) => session.send({ id: frame.id, data: packet(bytes) });
    if (data.length === 0) return;
    switch (data[0]) {
      case TaskCommand.Add:
        this.add(session, frame.id, data.subarray(1));
        return;
      case TaskCommand.AckAdd:
        if (data.length < 2) {
          reply(TaskState.IllegalValue);
          return;
        }
        this.acknowledge(data[1]!);
        this.add(session, frame.id, data.subarray(2));
        return;
      case TaskCommand.Ack: {
        const id = data[1];
        const task = id === undefined ? undefined : this.tasks.get(id);
        if (!task) {
          reply(TaskState.NotFound);
          return;
        }
        this.acknowledge(task.id);
        reply(task.state);
        return;
      }
      case TaskCommand.Req: {
        const id = data[1];
        const task = id === undefined ? undefined : this.tasks.get(id);
        if (!task) reply(TaskState.NotFound);
        else if (isDone(task.state)) reply(task.state, task.answer ?? Buffer.alloc(0));
        else reply(task.state);
        return;
      }
      case TaskCommand.Abort:
        this.abort();
        // Zzzzipper's firmware takes only A3 as the answer to Abort.
        reply(TaskState.Result);
        return;
      default:
        reply(TaskState.IllegalValue);
    }
  }

  /** Clears the buffer. A running task finishes (its effect stands) but its result is not reported. */
  abort(): void {
    for (const task of this.tasks.values()) task.aborted = true;
    if (this.running) this.running.aborted = true;
    this.tasks.clear();
    this.queue.length = 0;
    this.stoppedBy = undefined;
  }

  close(): void {
    this.closed = true;
    this.abort();
    for (const [timer, resolve] of this.sleeps) {
      clearTimeout(timer);
      resolve();
    }
    this.sleeps.clear();
  }

  /** A done task leaves the buffer on Ack; a running one stays (its result has not been read). */
  private acknowledge(id: number): void {
    const task = this.tasks.get(id);
    if (task && isDone(task.state)) this.tasks.delete(id);
    // The host has seen the failure (atol4j acknowledges failed tasks and carries on).
    if (this.stoppedBy === id) this.stoppedBy = undefined;
  }

  private add(session: TaskSession, packetId: number, rest: Buffer): void {
    const reply = (state: number) => session.send({ id: packetId, data: Buffer.of(state) });
    // Flags, TId, access password (2 BCD bytes), then at least a command code.
    if (rest.length < 5 || rest[1]! > MAX_TASK_ID) {
      reply(TaskState.IllegalValue);
      return;
    }
    const flags = rest[0]!;
    const id = rest[1]!;
    let accessPassword: number;
    try {
      accessPassword = decodeBcd(rest.subarray(2, 4));
    } catch {
      reply(TaskState.IllegalValue);
      return;
    }
    const body = Buffer.from(rest.subarray(4));
    if (this.tasks.has(id)) {
      reply(TaskState.AlreadyExists);
      return;
    }
    if (this.stoppedBy !== undefined) {
      // Zzzzipper's firmware reads this answer as A5 and the task id.
      session.send({ id: packetId, data: Buffer.of(TaskState.Stopped, id) });
      return;
    }
    if (this.runner.admit(body) === 'drop') {
      session.drop(`fault: dropped on command ${body.subarray(0, 2).toString('hex')}`);
      return;
    }
    const task: Task<R> = {
      id,
      flags,
      body,
      accessPassword,
      state: TaskState.Pending,
      session,
      replyPacketId: packetId,
      replied: false,
      aborted: false,
    };
    this.tasks.set(id, task);
    this.queue.push(task);
    if (this.running || this.queue.length > 1) {
      reply(TaskState.Pending);
      task.replied = true;
    } else if (!hasFlag(task, TaskFlags.NeedResult) || this.runner.isSlow(body)) {
      // Without NeedResult the result is not sent: the host only learns that the task was taken.
      reply(TaskState.InProgress);
      task.replied = true;
    }
    this.pump();
  }

  private pump(): void {
    if (this.running || this.closed) return;
    const task = this.queue.shift();
    if (!task) return;
    this.running = task;
    task.state = TaskState.InProgress;
    this.execute(task)
      .catch(() => {
        // The runner failed (it should not): forget the task rather than leave it running forever.
        if (this.tasks.get(task.id) === task) this.tasks.delete(task.id);
      })
      .finally(() => {
        this.running = undefined;
        this.pump();
      });
  }

  private async execute(task: Task<R>): Promise<void> {
    const run = await this.runner.run(task.body, task.accessPassword);
    task.run = run;
    const finalState = run.failed ? TaskState.Error : TaskState.Result;
    if (run.dropInsteadOfAnswer) {
      this.complete(task, finalState, run.answer);
      task.session.drop('fault: executed, then dropped before answering');
      return;
    }
    const delayMs = this.runner.answerDelayMs(run);
    if (delayMs > 0) await this.sleep(delayMs);
    if (this.closed) return;
    this.complete(task, finalState, run.answer);
    if (task.aborted) return;
    if (run.failed && !hasFlag(task, TaskFlags.IgnoreError)) this.stopAfter(task);
    if (!hasFlag(task, TaskFlags.NeedResult)) {
      // Nothing is reported of a success; a failure goes out as A7 all the same.
      if (run.failed) this.deliver(task, run);
      this.runner.answered(run);
      return;
    }
    if (this.deliver(task, run)) this.runner.answered(run);
  }

  private complete(task: Task<R>, state: number, answer: Buffer): void {
    task.state = state;
    task.answer = answer;
    // Without NeedResult nothing is kept: there is no result to ask for later.
    if (!hasFlag(task, TaskFlags.NeedResult) && this.tasks.get(task.id) === task) this.tasks.delete(task.id);
  }

  /** A task failed: the ones queued behind it are stopped, and new ones refused until the host clears it. */
  private stopAfter(task: Task<R>): void {
    this.stoppedBy = task.id;
    for (const queued of this.queue.splice(0)) {
      queued.state = TaskState.Stopped;
      if (!hasFlag(queued, TaskFlags.NeedResult)) this.tasks.delete(queued.id);
    }
  }

  /** Sends the result: the reply to the Add when none went out yet, otherwise an unsolicited F0 packet. */
  private deliver(task: Task<R>, run: R): boolean {
    if (!task.replied) {
      task.replied = true;
      if (!task.session.alive) return false;
      task.session.send({ id: task.replyPacketId, data: packet([task.state, run.answer]) });
      return true;
    }
    const session = this.session;
    if (!session?.alive) return false;
    const state = run.failed ? TaskState.AsyncError : TaskState.AsyncResult;
    session.send({ id: ASYNC_PACKET_ID, data: packet([state, task.id, run.answer]) });
    return true;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeps.delete(timer);
        resolve();
      }, ms);
      this.sleeps.set(timer, resolve);
    });
  }
}

function packet(parts: ReadonlyArray<number | Buffer>): Buffer {
  return Buffer.concat(parts.map((part) => (typeof part === 'number' ? Buffer.of(part) : part)));
}
