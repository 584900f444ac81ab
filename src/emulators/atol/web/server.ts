import { timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { z } from 'zod';
import { DriverError, describeDriverError } from '../../../drivers/atol/web/driverErrors.js';
import { errorMessage } from '../../../lib/errors.js';
import { parseJsonLossless, stringifyJsonLossless } from '../../../lib/json.js';
import type { DeviceView } from '../deviceView.js';
import { AtolEmulator, type AtolEmulatorOptions, startAtolEmulator } from '../emulator.js';
import {
  checkWebFault,
  NO_WEB_FAULTS,
  WEB_FAULT_DEFAULTS,
  type WebFaultName,
  type WebFaultSettings,
  type WebFaultSpec,
} from './faults.js';
import { RegisterPort, TaskFailure } from './registerPort.js';
import { TaskRunner } from './taskRunner.js';

/** ATOL's port for the driver-10 web server. */
export const DEFAULT_WEB_EMULATOR_PORT = 16732;

export interface AtolWebEmulatorOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** HTTP port; default 16732 (ATOL's); 0 picks a free one (see `port` on the result). */
  port?: number;
  /**
   * The register behind the server: a running `AtolEmulator` (left running on close), or options to start
   * one (closed with the server; its protocol v3 TCP port defaults to 0, any free port).
   */
  register?: AtolEmulator | AtolEmulatorOptions;
  /** Require HTTP Basic auth with these credentials. */
  auth?: { username: string; password: string };
  /** The register's `deviceID`; a request naming another device is refused (400). */
  deviceId?: string;
  /** Passwords the facade enters the register's modes with; default 30 (the system administrator). */
  operatorPassword?: number;
  adminPassword?: number;
  /** Time a submitted request waits (`wait`) before it runs; default 0. */
  queueDelayMs?: number;
  faults?: Partial<WebFaultSettings>;
  /** Faults limited to some task types (the CLI's `drop-after-accept@sell`). */
  faultSpecs?: readonly WebFaultSpec[];
}

/** Limits a fault to requests holding a task of one of these types (`sell`, `sellReturn`…). */
export interface WebFaultTarget {
  taskTypes?: readonly string[];
}

export type WebTaskStatus = 'wait' | 'inProgress' | 'ready' | 'error' | 'interrupted' | 'canceled';

interface TaskSlot {
  status: WebTaskStatus;
  error?: { code: number; description: string };
  result?: unknown;
}

interface StoredRequest {
  uuid: string;
  tasks: unknown[];
  results: TaskSlot[];
}

export interface WebRequestEvent {
  method: string;
  path: string;
  status: number | 'dropped';
  uuid?: string;
  /** The task types of a submission. */
  taskTypes?: string[];
}

export interface WebTaskEvent {
  uuid: string;
  index: number;
  type: string;
  status: WebTaskStatus;
  error?: { code: number; description: string };
}

export interface AtolWebEmulatorEvents {
  /** An HTTP request was answered (or its connection cut by a fault). */
  request: [event: WebRequestEvent];
  /** A task finished. */
  task: [event: WebTaskEvent];
  fault: [event: { name: WebFaultName; detail: string }];
  /** Something went wrong inside the facade (a bug in a task); it kept running. */
  warning: [error: Error];
}

const MAX_BODY_BYTES = 1024 * 1024;
const API = '/api/v2';

const submissionSchema = z.object({
  uuid: z.string().min(1).max(256),
  deviceID: z.string().optional(),
  request: z.union([z.array(z.unknown()).min(1), z.record(z.string(), z.unknown())]),
});

const safeEqual = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

const taskType = (task: unknown): string =>
  typeof task === 'object' && task !== null ? String((task as { type?: unknown }).type ?? '') : '';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * ATOL driver 10's web server (docs/protocol/atol-v3.md §12) in front of the emulated register: requests of JSON tasks
 * queued per uuid, run one at a time (`wait` → `inProgress` → `ready`/`error`), results kept for
 * lookups, 409 for a uuid it holds already, driver error codes from the register's refusals, optional
 * Basic auth, and faults for the ambiguous cases (slow tasks, a connection cut after accepting, HTTP 500,
 * results lost as in a restart).
 */
export class AtolWebEmulator extends EventEmitter<AtolWebEmulatorEvents> {
  readonly register: AtolEmulator;
  readonly host: string;
  port = 0;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly requests = new Map<string, StoredRequest>();
  private readonly queue: StoredRequest[] = [];
  private readonly runner: TaskRunner;
  private readonly faults: WebFaultSettings = { ...NO_WEB_FAULTS };
  private readonly faultTargets = new Map<WebFaultName, ReadonlySet<string>>();
  private pumping = false;
  private closed = false;

  private constructor(
    register: AtolEmulator,
    private readonly ownsRegister: boolean,
    private readonly options: AtolWebEmulatorOptions,
  ) {
    super();
    this.register = register;
    this.host = options.host ?? '127.0.0.1';
    this.runner = new TaskRunner(
      new RegisterPort(register, {
        operator: options.operatorPassword ?? 30,
        admin: options.adminPassword ?? 30,
      }),
    );
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.emit('warning', error instanceof Error ? error : new Error(errorMessage(error)));
        if (!res.headersSent) this.send(req, res, 500, { error: { code: DriverError.INTERNAL } });
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  static async start(options: AtolWebEmulatorOptions = {}): Promise<AtolWebEmulator> {
    const given = options.register instanceof AtolEmulator ? options.register : undefined;
    const register =
      given ??
      (await startAtolEmulator({ port: 0, ...(options.register as AtolEmulatorOptions | undefined) }));
    const web = new AtolWebEmulator(register, given === undefined, options);
    try {
      for (const [name, value] of Object.entries(options.faults ?? {}))
        web.setFault(name as WebFaultName, value);
      for (const spec of options.faultSpecs ?? []) web.setFault(spec.name, spec.value, spec);
      web.port = await new Promise<number>((resolve, reject) => {
        web.server.once('error', reject);
        web.server.listen(options.port ?? DEFAULT_WEB_EMULATOR_PORT, web.host, () => {
          web.server.off('error', reject);
          resolve((web.server.address() as AddressInfo).port);
        });
      });
      return web;
    } catch (error) {
      await web.close().catch(() => undefined);
      throw error;
    }
  }

  /** The base URL clients use, e.g. `http://127.0.0.1:16732`. */
  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** The emulated register's state (documents, shift, drawer…). */
  get device(): DeviceView {
    return this.register.device;
  }

  get activeFaults(): WebFaultSettings {
    return { ...this.faults };
  }

  /**
   * Sets a web fault; without a value, its default (1 occasion, or 1000 ms). `target.taskTypes` limits it to
   * requests holding a task of those types, so that the agent's reads do not use it up.
   */
  setFault(name: WebFaultName, value?: number, target: WebFaultTarget = {}): void {
    this.faults[name] = checkWebFault(name, value ?? WEB_FAULT_DEFAULTS[name]);
    if (target.taskTypes?.length) this.faultTargets.set(name, new Set(target.taskTypes));
    else this.faultTargets.delete(name);
  }

  clearFaults(): void {
    Object.assign(this.faults, NO_WEB_FAULTS);
    this.faultTargets.clear();
  }

  /** Forgets every request, finished or queued, as a server restart that lost its store would. */
  loseResults(): void {
    this.requests.clear();
    this.queue.length = 0;
  }

  /** How many requests the server holds. */
  get requestCount(): number {
    return this.requests.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
    if (this.ownsRegister) await this.register.close();
  }

  /** A fault is set and its target (if any) names one of `taskTypes`. */
  private applies(name: WebFaultName, taskTypes?: readonly string[]): boolean {
    if (this.faults[name] <= 0) return false;
    const target = this.faultTargets.get(name);
    return !target || taskTypes?.some((type) => target.has(type)) === true;
  }

  /** Fires a counted fault: true once per count, while it applies. */
  private fire(name: WebFaultName, detail: string, taskTypes?: readonly string[]): boolean {
    if (!this.applies(name, taskTypes)) return false;
    this.faults[name]--;
    this.emit('fault', { name, detail });
    return true;
  }

  // ---- HTTP ------------------------------------------------------------------------------------------

  private send(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    status: number,
    body?: unknown,
    about: Pick<WebRequestEvent, 'uuid' | 'taskTypes'> = {},
    headers: Record<string, string> = {},
  ): void {
    const text = body === undefined ? '' : stringifyJsonLossless(body);
    res.writeHead(status, {
      ...(body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
      'Content-Length': String(Buffer.byteLength(text)),
      ...headers,
    });
    res.end(text);
    this.emit('request', { method: req.method ?? '', path: req.url ?? '', status, ...about });
  }

  private authorized(req: http.IncomingMessage): boolean {
    const auth = this.options.auth;
    if (!auth) return true;
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+(\S+)$/i.exec(header);
    if (!match) return false;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    return safeEqual(decoded, `${auth.username}:${auth.password}`);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
    if (
      !this.faultTargets.has('http500') &&
      this.fire('http500', `answered ${req.method} ${path} with 500`)
    ) {
      this.send(req, res, 500, {
        error: { code: DriverError.INTERNAL, description: 'Internal Server Error' },
      });
      return;
    }
    if (!this.authorized(req)) {
      this.send(
        req,
        res,
        401,
        { error: { description: 'Unauthorized' } },
        {},
        {
          'WWW-Authenticate': 'Basic realm="fptr10 web server"',
        },
      );
      return;
    }
    if (req.method === 'POST' && path === `${API}/requests`) return this.submit(req, res);
    const lookup = new RegExp(`^${API}/requests/([^/]+)$`).exec(path);
    if (req.method === 'GET' && lookup) return this.lookup(req, res, decodeURIComponent(lookup[1]!));
    if (req.method === 'GET' && path === `${API}/serverInfo`) {
      this.send(req, res, 200, {
        version: 'kkt-agent ATOL driver-10 web server emulator',
        apiVersions: ['v2'],
      });
      return;
    }
    this.send(req, res, 404, { error: { description: 'Not Found' } });
  }

  private async readBody(req: http.IncomingMessage): Promise<string | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) return undefined;
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private async submit(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const text = await this.readBody(req);
    if (text === undefined) {
      this.send(req, res, 413, { error: { description: 'Request too large' } });
      return;
    }
    let parsed: z.output<typeof submissionSchema>;
    try {
      parsed = submissionSchema.parse(parseJsonLossless(text));
    } catch (error) {
      this.send(req, res, 400, {
        error: { code: DriverError.INVALID_PARAM, description: errorMessage(error) },
      });
      return;
    }
    const { uuid } = parsed;
    if (
      this.options.deviceId !== undefined &&
      parsed.deviceID !== undefined &&
      parsed.deviceID !== this.options.deviceId
    ) {
      this.send(req, res, 400, { error: { description: `Unknown deviceID "${parsed.deviceID}"` } }, { uuid });
      return;
    }
    const tasks = Array.isArray(parsed.request) ? parsed.request : [parsed.request];
    const types = tasks.map(taskType);
    const about = { uuid, taskTypes: types };
    if (this.requests.has(uuid)) {
      this.send(req, res, 409, { error: { description: `Request ${uuid} already exists` } }, about);
      return;
    }
    if (
      this.faultTargets.has('http500') &&
      this.fire('http500', `answered the submission of ${uuid} with 500`, types)
    ) {
      this.send(req, res, 500, { error: { description: 'Internal Server Error' } }, about);
      return;
    }
    const record: StoredRequest = { uuid, tasks, results: tasks.map(() => ({ status: 'wait' })) };
    this.requests.set(uuid, record);
    this.queue.push(record);
    void this.pump();
    if (this.fire('dropAfterAccept', `queued ${uuid}, then cut the connection instead of answering`, types)) {
      res.socket?.destroy();
      this.emit('request', { method: 'POST', path: req.url ?? '', status: 'dropped', ...about });
      return;
    }
    if (this.fire('http500AfterAccept', `queued ${uuid}, then answered 500`, types)) {
      this.send(req, res, 500, { error: { description: 'Internal Server Error' } }, about);
      return;
    }
    this.send(req, res, 201, undefined, about);
  }

  private lookup(req: http.IncomingMessage, res: http.ServerResponse, uuid: string): void {
    const record = this.requests.get(uuid);
    if (!record) {
      this.send(req, res, 404, { error: { description: `Request ${uuid} not found` } }, { uuid });
      return;
    }
    this.send(req, res, 200, { results: record.results.map((slot) => ({ ...slot })) }, { uuid });
  }

  // ---- the queue -------------------------------------------------------------------------------------

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const next = this.queue.shift();
        if (!next || this.closed) return;
        if (this.options.queueDelayMs) await sleep(this.options.queueDelayMs);
        await this.runRequest(next);
      }
    } finally {
      this.pumping = false;
    }
  }

  private async runRequest(request: StoredRequest): Promise<void> {
    let failed = false;
    for (const [index, task] of request.tasks.entries()) {
      const slot = request.results[index]!;
      const type = taskType(task);
      if (failed || this.closed) {
        slot.status = 'canceled';
        slot.error = {
          code: DriverError.INTERRUPTED_BY_PREVIOUS_ERRORS,
          description: describeDriverError(DriverError.INTERRUPTED_BY_PREVIOUS_ERRORS),
        };
        continue;
      }
      slot.status = 'inProgress';
      if (this.applies('taskSlowMs', [type])) await sleep(this.faults.taskSlowMs);
      if (
        this.fire(
          'interruptTask',
          `interrupted task ${index} of ${request.uuid} before it reached the register`,
          [type],
        )
      ) {
        failed = true;
        slot.status = 'interrupted';
        slot.error = {
          code: DriverError.CONNECTION_LOST,
          description: describeDriverError(DriverError.CONNECTION_LOST),
        };
        this.emit('task', { uuid: request.uuid, index, type, status: slot.status, error: slot.error });
        continue;
      }
      try {
        const result = await this.runner.run(task);
        if (
          this.fire('errorAfterRun', `ran task ${index} of ${request.uuid}, then reported error 44`, [type])
        ) {
          throw new TaskFailure(DriverError.NO_PAPER);
        }
        slot.result = result;
        slot.status = 'ready';
        slot.error = { code: 0, description: 'Ошибок нет' };
      } catch (error) {
        failed = true;
        slot.status = 'error';
        if (error instanceof TaskFailure) {
          slot.error = { code: error.code, description: error.description };
        } else {
          this.emit('warning', error instanceof Error ? error : new Error(errorMessage(error)));
          slot.error = { code: DriverError.INTERNAL, description: describeDriverError(DriverError.INTERNAL) };
        }
      }
      this.emit('task', {
        uuid: request.uuid,
        index,
        type,
        status: slot.status,
        ...(slot.error?.code ? { error: slot.error } : {}),
      });
      if (this.fire('loseResultsAfterRun', `forgot every request after ${request.uuid} ran`, [type])) {
        this.loseResults();
      }
    }
  }
}

export function startAtolWebEmulator(options: AtolWebEmulatorOptions = {}): Promise<AtolWebEmulator> {
  return AtolWebEmulator.start(options);
}
