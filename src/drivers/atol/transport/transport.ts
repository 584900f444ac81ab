import { EventEmitter } from 'node:events';
import {
  DeferredTaskError,
  LinkDownError,
  MalformedAnswerError,
  NoAnswerError,
  TaskBufferError,
} from './errors.js';
import { ASYNC_PACKET_ID, encodeFrame, type Frame, MAX_PACKET_ID } from './frame.js';
import { FrameDecoder, type FrameRejection } from './frameDecoder.js';
import type { Link } from './link.js';
import { MAX_TASK_ID, TaskCommand, TaskFlags, TaskState, taskStateName } from './taskBuffer.js';

export interface AtolTransportOptions {
  /** Access password (пароль доступа) prepended to every command, 0–9999, sent as 2 BCD bytes. */
  accessPassword: number;
  /** How long to wait for the device's reply to one packet (C1, C2, C3, C4). */
  replyTimeoutMs: number;
  /** While a task runs asynchronously, ask for its state (C3) this often in case its async result was lost. */
  pollIntervalMs: number;
  /** Req (C3) attempts before the link is declared unresponsive. */
  requestAttempts: number;
  /** How often to resend a packet the device asks to repeat (an empty packet with our id). */
  maxResends: number;
  /**
   * Results the device may hold for us before they are cleared: one Abort clears them all instead of one
   * Ack each (docs/protocol/atol-v3.md §3.4).
   */
  maxKeptResults: number;
}

export const DEFAULT_TRANSPORT_OPTIONS: AtolTransportOptions = {
  accessPassword: 0,
  replyTimeoutMs: 500,
  pollIntervalMs: 1000,
  requestAttempts: 3,
  maxResends: 3,
  maxKeptResults: 16,
};

/**
 * How a command is added to the task buffer (docs/protocol/atol-v3.md §3.2):
 * - `result`: NeedResult. The device keeps the result until we clear it, so a lost reply can be asked for
 *   again (Req); the caller gets the answer.
 * - `post`: flags 0. Nothing is kept and no answer comes back on success; a failure arrives later as an
 *   async error (A7) and stops the tasks queued behind it. The next `result` command is the barrier that
 *   reports it.
 */
export type Delivery = 'result' | 'post';

export interface TransportStats {
  commands: number;
  /** Commands added with `post` (no kept result, no answer). */
  postedCommands: number;
  /** Packets sent that expect a reply (a resend counts again). */
  roundTrips: number;
  /** Frames written to the register: Add, Ack, Req, Abort and resends (host frames). */
  framesSent: number;
  /** Frames read from the register, rejected ones included (device frames). */
  framesReceived: number;
  framesRejected: number;
  garbageBytes: number;
}

export interface TransportEvents {
  'frame-rejected': [reason: FrameRejection];
  /** An async result for a task nobody waits for any more (after a timeout): logged, then dropped. */
  'stale-result': [taskId: number];
  close: [error?: Error];
}

export interface TaskOutcome {
  /**
   * The command answer (e.g. `55 00 …`); its error byte is interpreted by the command layer. Undefined for
   * a posted command the device accepted without answering.
   */
  answer: Buffer | undefined;
  failed: boolean;
}

/** A posted command the device has not yet confirmed as done. */
interface PostedTask {
  body: Buffer;
}

/**
 * Task ids run on across sessions (and transports) of this process: a late async result from before a
 * reconnect then cannot carry the id of a new task.
 */
let lastTaskId = MAX_TASK_ID;

class Deferred<T> {
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;
  readonly promise = new Promise<T>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

function bcdPassword(password: number): Buffer {
  if (!Number.isInteger(password) || password < 0 || password > 9999) {
    throw new RangeError(`access password must be 0–9999, got ${password}`);
  }
  const digits = password.toString().padStart(4, '0');
  return Buffer.from(digits, 'hex');
}

/** Replies that say a posted task was taken: queued, running, waiting, or already done. */
const POST_ACCEPTED: ReadonlySet<number> = new Set([
  TaskState.Pending,
  TaskState.InProgress,
  TaskState.Waiting,
  TaskState.Result,
]);

/**
 * Host side of protocol v3: packet ids, the task buffer (Add/Ack/Req/Abort), sync and async results.
 * Commands run one at a time from the host's side; posted ones (no kept result) may queue up on the
 * device behind each other until the next `result` command, which the device runs after them.
 * A command whose fate is unknown is never re-sent: after a lost reply we ask the buffer (Req) and only
 * re-add a task the device confirms it never received. See docs/protocol/atol-v3.md §3.
 */
export class AtolTransport extends EventEmitter<TransportEvents> {
  readonly stats: TransportStats = {
    commands: 0,
    postedCommands: 0,
    roundTrips: 0,
    framesSent: 0,
    framesReceived: 0,
    framesRejected: 0,
    garbageBytes: 0,
  };
  private readonly options: AtolTransportOptions;
  private readonly password: Buffer;
  private decoder: FrameDecoder | undefined;
  private packetId = MAX_PACKET_ID;
  private readonly replyWaiters = new Map<number, (frame: Frame) => void>();
  private readonly asyncWaiters = new Map<number, (outcome: TaskOutcome | undefined) => void>();
  private readonly earlyAsync = new Map<number, TaskOutcome>();
  private currentTask: number | undefined;
  /** Tasks whose results the device keeps for us (NeedResult, not yet cleared). */
  private keptResults: number[] = [];
  /** Posted tasks added since the last `result` command settled: their fate is not known yet. */
  private readonly posted = new Map<number, PostedTask>();
  /** Async errors (A7) of posted tasks, in arrival order; reported by the next `result` command. */
  private postedFailures: Array<{ taskId: number; body: Buffer; answer: Buffer }> = [];
  /** A damaged frame arrived while posted tasks were outstanding: it may have been one's A7. */
  private damagedWhilePosted = false;
  /** The error the link failed with, once it has: later waits fail at once. */
  private linkError: Error | undefined;
  /** Who is waiting on the link right now; each removes itself when its wait ends. */
  private readonly failureListeners = new Set<(error: Error) => void>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly link: Link,
    options: Partial<AtolTransportOptions> = {},
  ) {
    super();
    this.options = { ...DEFAULT_TRANSPORT_OPTIONS, ...options };
    this.password = bcdPassword(this.options.accessPassword);
  }

  get isOpen(): boolean {
    return this.link.isOpen && this.decoder !== undefined;
  }

  /** Results the device holds for us right now (cleared by `release`). */
  get keptResultCount(): number {
    return this.keptResults.length;
  }

  /** Opens the link and clears whatever a previous session left in the device's task buffer. */
  async open(): Promise<void> {
    await this.link.open();
    const decoder = new FrameDecoder();
    decoder.on('data', (frame: Frame) => this.onFrame(frame));
    decoder.on('rejected', (reason: FrameRejection) => {
      this.stats.framesReceived++;
      this.stats.framesRejected++;
      if (this.posted.size > 0) this.damagedWhilePosted = true;
      this.emit('frame-rejected', reason);
    });
    decoder.on('garbage', (count: number) => {
      this.stats.garbageBytes += count;
    });
    this.decoder = decoder;
    this.linkError = undefined;
    this.link.on('data', this.onData);
    this.link.once('close', this.onClose);
    await this.abort();
  }

  async close(): Promise<void> {
    this.link.off('data', this.onData);
    this.link.off('close', this.onClose);
    this.decoder = undefined;
    await this.link.close();
    this.failWaiters(new LinkDownError(this.link.description, false));
  }

  /**
   * Runs one command body (code + params, without password). Serialised. `result` waits for the answer;
   * `post` returns once the device took the task (docs/protocol/atol-v3.md §3.2).
   */
  execute(body: Buffer, timeoutMs: number, delivery: Delivery = 'result'): Promise<TaskOutcome> {
    const run = this.queue.then(() =>
      delivery === 'post' ? this.runPosted(body) : this.runTask(body, timeoutMs),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Clears the results the device keeps for us, at the end of an operation. One Abort clears them all when
   * nothing posted is still outstanding; otherwise each is acknowledged on its own, which leaves queued
   * tasks alone.
   */
  release(): Promise<void> {
    const run = this.queue.then(() => this.clearKeptResults());
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Clears the device's task buffer. Best effort: a device that does not answer is caught by the next command. */
  async abort(): Promise<void> {
    this.keptResults = [];
    this.posted.clear();
    this.postedFailures = [];
    this.damagedWhilePosted = false;
    await this.exchange(Buffer.of(TaskCommand.Abort)).catch(() => undefined);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.decoder?.write(chunk);
  };

  private readonly onClose = (error?: Error): void => {
    this.link.off('data', this.onData);
    this.decoder = undefined;
    const failure = new LinkDownError(
      this.link.description,
      this.currentTask !== undefined || this.posted.size > 0,
      error,
    );
    this.failWaiters(failure);
    this.emit('close', error);
  };

  private failWaiters(error: Error): void {
    this.linkError ??= error;
    for (const listener of this.failureListeners) listener(error);
    this.failureListeners.clear();
    this.replyWaiters.clear();
    this.asyncWaiters.clear();
  }

  /**
   * Settles like `waiting`, unless the link fails first. The listener is removed when the wait ends: a
   * race on one shared "link failed" promise would keep a reaction per command for as long as the link
   * lives (tens of kilobytes per receipt).
   */
  private untilLinkFails<T>(waiting: Promise<T>): Promise<T> {
    if (this.linkError) return Promise.reject(this.linkError);
    return new Promise<T>((resolve, reject) => {
      const onFailure = (error: Error) => reject(error);
      this.failureListeners.add(onFailure);
      waiting.then(resolve, reject).finally(() => this.failureListeners.delete(onFailure));
    });
  }

  private onFrame(frame: Frame): void {
    this.stats.framesReceived++;
    if (frame.id === ASYNC_PACKET_ID) {
      this.onAsyncFrame(frame.data);
      return;
    }
    const waiter = this.replyWaiters.get(frame.id);
    if (waiter) {
      this.replyWaiters.delete(frame.id);
      waiter(frame);
    }
  }

  private onAsyncFrame(data: Buffer): void {
    const state = data[0];
    const taskId = data[1];
    if ((state !== TaskState.AsyncResult && state !== TaskState.AsyncError) || taskId === undefined) return;
    const answer = Buffer.from(data.subarray(2));
    const posted = this.posted.get(taskId);
    if (posted) {
      this.posted.delete(taskId);
      if (state === TaskState.AsyncError) {
        this.postedFailures.push({ taskId, body: posted.body, answer });
        // The command we wait for will be stopped (or run on a receipt already wrong): stop waiting.
        if (this.currentTask !== undefined) this.asyncWaiters.get(this.currentTask)?.(undefined);
      }
      return;
    }
    const outcome: TaskOutcome = { answer, failed: state === TaskState.AsyncError };
    const waiter = this.asyncWaiters.get(taskId);
    if (waiter) {
      this.asyncWaiters.delete(taskId);
      waiter(outcome);
    } else if (taskId === this.currentTask) {
      this.earlyAsync.set(taskId, outcome);
    } else {
      this.emit('stale-result', taskId);
    }
  }

  private nextPacketId(): number {
    this.packetId = this.packetId >= MAX_PACKET_ID ? 0 : this.packetId + 1;
    return this.packetId;
  }

  private nextTaskId(): number {
    lastTaskId = lastTaskId >= MAX_TASK_ID ? 0 : lastTaskId + 1;
    return lastTaskId;
  }

  /** Sends one packet and waits for the reply with the same packet id. Undefined when none came in time. */
  private async exchange(data: Buffer): Promise<Buffer | undefined> {
    if (!this.isOpen) throw new LinkDownError(this.link.description, this.currentTask !== undefined);
    const id = this.nextPacketId();
    const packet = encodeFrame({ id, data });
    for (let attempt = 0; attempt <= this.options.maxResends; attempt++) {
      const frame = await this.sendAndWait(id, packet);
      if (frame === undefined) return undefined;
      // An empty packet carrying our id is the device asking for a resend (it got a damaged frame).
      if (frame.data.length > 0) return frame.data;
    }
    return undefined;
  }

  private async sendAndWait(id: number, packet: Buffer): Promise<Frame | undefined> {
    const reply = new Deferred<Frame | undefined>();
    const timer = setTimeout(() => {
      this.replyWaiters.delete(id);
      reply.resolve(undefined);
    }, this.options.replyTimeoutMs);
    this.replyWaiters.set(id, (frame) => {
      clearTimeout(timer);
      reply.resolve(frame);
    });
    this.stats.roundTrips++;
    this.stats.framesSent++;
    try {
      await this.link.write(packet);
      return await this.untilLinkFails(reply.promise);
    } finally {
      clearTimeout(timer);
      this.replyWaiters.delete(id);
    }
  }

  private addPacket(flags: number, taskId: number, body: Buffer): Buffer {
    return Buffer.concat([Buffer.of(TaskCommand.Add, flags, taskId), this.password, body]);
  }

  /**
   * A posted command: added with flags 0, so the device keeps no result and sends none on success. A lost
   * reply cannot be cleared up with Req (a finished task without a kept result is "not found" as well as
   * one never received), so it is never re-added: its outcome is unknown.
   */
  private async runPosted(body: Buffer): Promise<TaskOutcome> {
    if (!this.isOpen) throw new LinkDownError(this.link.description, false);
    this.stats.commands++;
    this.stats.postedCommands++;
    const taskId = this.nextTaskId();
    this.posted.set(taskId, { body });
    try {
      const reply = await this.exchange(this.addPacket(0, taskId, body));
      if (reply === undefined)
        throw new NoAnswerError(this.link.description, this.options.replyTimeoutMs, true);
      const state = reply[0]!;
      if (POST_ACCEPTED.has(state)) {
        if (state === TaskState.Result) this.posted.delete(taskId);
        return { answer: reply.length > 1 ? Buffer.from(reply.subarray(1)) : undefined, failed: false };
      }
      if (state === TaskState.Error) {
        this.posted.delete(taskId);
        await this.abort();
        return { answer: Buffer.from(reply.subarray(1)), failed: true };
      }
      this.posted.delete(taskId);
      this.throwEarlierFailure();
      throw bufferRefusal(state, taskId);
    } catch (error) {
      if (this.isOpen) await this.abort();
      throw error;
    }
  }

  private async runTask(body: Buffer, timeoutMs: number): Promise<TaskOutcome> {
    // Down before anything was sent: the outcome is known (nothing happened).
    if (!this.isOpen) throw new LinkDownError(this.link.description, this.posted.size > 0);
    this.stats.commands++;
    const taskId = this.nextTaskId();
    const add = this.addPacket(TaskFlags.NeedResult, taskId, body);
    const deadline = Date.now() + timeoutMs;
    this.currentTask = taskId;
    try {
      let reply = await this.exchange(add);
      if (reply === undefined) {
        // The Add or its reply was lost. Only the device knows which: ask before doing anything else.
        reply = await this.request(taskId);
        if (reply[0] === TaskState.NotFound) {
          reply = await this.exchange(add);
          if (reply === undefined)
            throw new NoAnswerError(this.link.description, this.options.replyTimeoutMs, true);
        }
      }
      const outcome = await this.settle(taskId, reply, deadline, timeoutMs);
      this.keptResults.push(taskId);
      // The device runs its buffer in order: every posted task before this one has finished.
      this.posted.clear();
      this.throwEarlierFailure();
      if (this.damagedWhilePosted) {
        throw new MalformedAnswerError(
          'a damaged frame arrived while commands without a kept result were outstanding; one of them may have failed',
          true,
        );
      }
      if (outcome.failed) await this.abort();
      else if (this.keptResults.length >= this.options.maxKeptResults) await this.clearKeptResults();
      return outcome;
    } catch (error) {
      if (this.isOpen) await this.abort();
      throw error;
    } finally {
      this.currentTask = undefined;
      this.earlyAsync.delete(taskId);
      this.asyncWaiters.delete(taskId);
    }
  }

  /** A posted task failed earlier: that failure, not the state of a later task, is what the caller needs. */
  private throwEarlierFailure(): void {
    const failure = this.postedFailures[0];
    if (failure) throw new DeferredTaskError(failure.body, failure.answer);
  }

  private async clearKeptResults(): Promise<void> {
    if (this.keptResults.length === 0 || !this.isOpen) return;
    if (this.posted.size === 0) {
      await this.abort();
      return;
    }
    const kept = this.keptResults;
    this.keptResults = [];
    for (const taskId of kept) await this.exchange(Buffer.of(TaskCommand.Ack, taskId)).catch(() => undefined);
  }

  /** Follows a task from its first reply to its result: sync answer, async packet, or Req polling. */
  private async settle(
    taskId: number,
    firstReply: Buffer,
    deadline: number,
    timeoutMs: number,
  ): Promise<TaskOutcome> {
    let reply = firstReply;
    for (;;) {
      const state = reply[0];
      switch (state) {
        case TaskState.Result:
        case TaskState.Error:
          return { answer: Buffer.from(reply.subarray(1)), failed: state === TaskState.Error };
        case TaskState.Pending:
        case TaskState.InProgress:
        case TaskState.Waiting: {
          const remaining = deadline - Date.now();
          if (remaining <= 0) throw new NoAnswerError(this.link.description, timeoutMs, true);
          const outcome = await this.waitAsync(taskId, Math.min(remaining, this.options.pollIntervalMs));
          if (outcome) return outcome;
          this.throwEarlierFailure();
          reply = await this.request(taskId);
          break;
        }
        case TaskState.NotFound:
          // The task was accepted earlier and is gone now (a device restart?): its effect is unknown.
          throw new MalformedAnswerError(`task ${taskId} disappeared from the task buffer`, true);
        default:
          this.throwEarlierFailure();
          throw bufferRefusal(state ?? 0, taskId);
      }
    }
  }

  private waitAsync(taskId: number, waitMs: number): Promise<TaskOutcome | undefined> {
    const early = this.earlyAsync.get(taskId);
    if (early) {
      this.earlyAsync.delete(taskId);
      return Promise.resolve(early);
    }
    if (this.postedFailures.length > 0) return Promise.resolve(undefined);
    const result = new Deferred<TaskOutcome | undefined>();
    const timer = setTimeout(() => {
      this.asyncWaiters.delete(taskId);
      result.resolve(undefined);
    }, waitMs);
    this.asyncWaiters.set(taskId, (outcome) => {
      clearTimeout(timer);
      this.asyncWaiters.delete(taskId);
      result.resolve(outcome);
    });
    return this.untilLinkFails(result.promise).finally(() => clearTimeout(timer));
  }

  /** Req (C3): the task's state, with its answer once done. Retries a few times before giving up. */
  private async request(taskId: number): Promise<Buffer> {
    for (let attempt = 0; attempt < this.options.requestAttempts; attempt++) {
      const reply = await this.exchange(Buffer.of(TaskCommand.Req, taskId));
      if (reply !== undefined) return reply;
    }
    throw new NoAnswerError(
      this.link.description,
      this.options.replyTimeoutMs * this.options.requestAttempts,
      true,
    );
  }
}

/** The typed error for a task-buffer state that refuses or stops a task. */
function bufferRefusal(state: number, taskId: number): Error {
  switch (state) {
    case TaskState.Stopped:
      return new TaskBufferError(taskStateName(state), 'the task was stopped because an earlier task failed');
    case TaskState.Overflow:
      return new TaskBufferError(taskStateName(state), 'the buffer is full');
    case TaskState.AlreadyExists:
      return new TaskBufferError(taskStateName(state), 'the task id is already in use');
    case TaskState.IllegalValue:
      return new TaskBufferError(taskStateName(state), 'a task parameter was rejected');
    default:
      return new MalformedAnswerError(`unexpected task state ${taskStateName(state)} for task ${taskId}`);
  }
}
