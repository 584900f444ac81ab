import { type ChildProcess, spawn } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A pseudo-terminal bridged to a TCP port by socat: a serial port for the real `serialport` code path. */
export interface SocatPty {
  /** The PTY's stable path (a symlink socat made), to open as a serial port. */
  path: string;
  process: ChildProcess;
  /** Stops socat (the PTY disappears) and removes the temporary directory. */
  stop(): Promise<void>;
}

export interface SocatPtyOptions {
  port: number;
  host?: string;
  /** Directory for the link; default a fresh temporary one. */
  dir?: string;
  /** Name of the link inside the directory; default ttyKKT. */
  name?: string;
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `socat pty,raw,echo=0,link=<dir>/ttyKKT tcp:<host>:<port>` and waits until the link exists.
 * socat connects to the port at once, so the emulator sees its host connect before the PTY is opened.
 */
export async function startSocatPty(options: SocatPtyOptions): Promise<SocatPty> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'kkt-pty-')));
  const path = join(dir, options.name ?? 'ttyKKT');
  const child = spawn(
    'socat',
    [`pty,raw,echo=0,link=${path}`, `tcp:${options.host ?? '127.0.0.1'}:${options.port}`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let running = true;
  void exited.then(() => {
    running = false;
  });
  const stop = async () => {
    if (running) {
      child.kill('SIGTERM');
      await exited;
    }
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  for (;;) {
    try {
      await access(path);
      return { path, process: child, stop };
    } catch {
      if (!running || Date.now() > deadline) {
        await stop();
        throw new Error(`socat did not create ${path}${stderr ? `: ${stderr.trim()}` : ''}`);
      }
      await sleep(20);
    }
  }
}
