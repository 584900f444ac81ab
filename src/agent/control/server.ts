import { lstatSync, type Stats, unlinkSync } from 'node:fs';
import { chmod, lstat, rm } from 'node:fs/promises';
import net from 'node:net';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { KktAgentError } from '../../lib/errors.js';
import { parseWithSchema } from '../../lib/json.js';
import { type ControlResponse, controlRequestSchema, MAX_CONTROL_LINE_BYTES } from './protocol.js';

export interface ControlMethod<S extends z.ZodType> {
  params: S;
  handle(params: z.output<S>): Promise<unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry of methods with heterogeneous parameter schemas
export type ControlMethods = Record<string, ControlMethod<any>>;

export const method = <S extends z.ZodType>(
  params: S,
  handle: (params: z.output<S>) => Promise<unknown>,
): ControlMethod<S> => ({
  params,
  handle,
});

/** `control.socketPath` names something that is not a stale socket: nothing was removed. */
export class ControlSocketPathError extends KktAgentError {
  constructor(path: string, what: string) {
    super(
      'CONTROL_SOCKET_PATH_TAKEN',
      `control.socketPath ${path} ${what}; the agent only replaces a stale socket there. Point control.socketPath at a free path (default <dataDir>/control.sock).`,
      { field: 'control.socketPath', path },
    );
  }
}

function fileKind(stats: Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a socket';
}

/**
 * Makes `path` free for the control socket. A socket file left by a crashed daemon is removed; one a live
 * daemon answers on is an error. Anything that is not a socket (a journal, a directory, a symlink to either)
 * is never removed: the path is refused instead, so a wrong `control.socketPath` cannot destroy a file.
 */
export async function prepareSocketPath(path: string): Promise<void> {
  const found = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new ControlSocketPathError(path, `cannot be examined (${error.code ?? error.message})`);
  });
  if (!found) return;
  if (!found.isSocket()) throw new ControlSocketPathError(path, `is ${fileKind(found)}, not a socket`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new KktAgentError('CONTROL_SOCKET_BUSY', `Another agent is already running on ${path}.`);
  await rm(path, { force: true });
}

/**
 * The daemon's local control socket. Access is by file permission (0660: the service user and its group),
 * never a network port. Each line is one request; bad requests get an error answer and change nothing.
 */
export class ControlServer {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly socketPath: string,
    private readonly methods: ControlMethods,
    private readonly logger: Logger,
  ) {}

  async listen(): Promise<void> {
    await prepareSocketPath(this.socketPath);
    const server = net.createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(this.socketPath, 0o660);
    this.server = server;
    process.once('exit', this.removeOnExit);
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_CONTROL_LINE_BYTES) {
        this.reply(socket, {
          id: null,
          ok: false,
          error: { code: 'CONTROL_REQUEST_TOO_LARGE', message: 'request too large' },
        });
        socket.end();
        return;
      }
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) void this.handleLine(socket, line);
        newline = buffer.indexOf('\n');
      }
    });
  }

  private reply(socket: net.Socket, response: ControlResponse): void {
    if (!socket.destroyed) socket.write(`${JSON.stringify(response)}\n`);
  }

  private async handleLine(socket: net.Socket, line: string): Promise<void> {
    let id: string | number | null = null;
    try {
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        throw new KktAgentError('CONTROL_MALFORMED', 'The request is not valid JSON.');
      }
      const request = parseWithSchema(controlRequestSchema, raw);
      id = request.id;
      const handler = this.methods[request.method];
      if (!handler) throw new KktAgentError('CONTROL_UNKNOWN_METHOD', `Unknown method "${request.method}".`);
      const params = parseWithSchema(handler.params, request.params, 'params');
      this.logger.debug({ event: 'control.request', method: request.method });
      const result = await handler.handle(params);
      this.reply(socket, { id, ok: true, result: result ?? null });
    } catch (error) {
      const known = error instanceof KktAgentError;
      const response: ControlResponse = {
        id,
        ok: false,
        error: known
          ? { code: error.code, message: error.message, details: error.details }
          : { code: 'INTERNAL', message: (error as Error).message ?? String(error) },
      };
      if (!known) this.logger.error({ event: 'control.internal-error', reason: (error as Error).message });
      this.reply(socket, response);
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    process.off('exit', this.removeOnExit);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.removeOwnSocket();
  }

  /** A process that exits without `close()` (a fatal error, `process.exit`) leaves no stale socket behind. */
  private readonly removeOnExit = (): void => this.removeOwnSocket();

  /** Removes the socket file this server listened on, and nothing else that may sit at the path now. */
  private removeOwnSocket(): void {
    try {
      if (lstatSync(this.socketPath).isSocket()) unlinkSync(this.socketPath);
    } catch {
      // Already gone.
    }
  }
}
