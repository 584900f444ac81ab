import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';

/**
 * Runs commands inside an arm64 Debian root under qemu-user (binfmt_misc). Each command gets its own mount
 * namespace with /proc and /dev mounted into the root, so nothing stays mounted on the host when it ends,
 * whichever way it ends. Needs root.
 */
export interface RootCommandOptions {
  /** `user:group` to run as (chroot --userspec); default root. */
  user?: string;
  /** Supplementary groups (chroot --groups). */
  groups?: string;
  env?: Record<string, string>;
  /** Working directory inside the root; default `/`. */
  cwd?: string;
}

export interface RootCommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// unshare execs sh, sh execs chroot, chroot execs the command: one PID all the way, so a signal sent to the
// spawned process reaches the program itself.
const MOUNT_AND_ENTER =
  'set -e; root=$1; shift; mount -t proc proc "$root/proc"; mount --rbind /dev "$root/dev"; exec chroot "$@"';

function argv(root: string, command: string[], options: RootCommandOptions): string[] {
  const chrootArgs: string[] = [];
  if (options.user) chrootArgs.push(`--userspec=${options.user}`);
  if (options.groups) chrootArgs.push(`--groups=${options.groups}`);
  const env = Object.entries({ PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/', ...options.env }).map(
    ([key, value]) => `${key}=${value}`,
  );
  const inner = ['/usr/bin/env', '-i', ...env, '/bin/sh', '-c', 'cd "$0" && exec "$@"', options.cwd ?? '/'];
  return [
    '--mount',
    '--propagation',
    'private',
    '--',
    '/bin/sh',
    '-c',
    MOUNT_AND_ENTER,
    'enter',
    root,
    ...chrootArgs,
    root,
    ...inner,
    ...command,
  ];
}

/** Runs a command to its end. */
export function runInRoot(
  root: string,
  command: string[],
  options: RootCommandOptions = {},
): RootCommandResult {
  const result = spawnSync('unshare', argv(root, command, options), {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface RootProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a long-running command (the daemon). */
export function startInRoot(root: string, command: string[], options: RootCommandOptions = {}): RootProcess {
  const child = spawn('unshare', argv(root, command, options), { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return { child, output: () => text, exited };
}
