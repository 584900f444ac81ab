import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { callControl } from '../../src/agent/control/client.js';
import { REPO_ROOT } from './repoRoot.js';
import { unitNodeFlags } from './unitFlags.js';
import { untilWith } from './until.js';

export { REPO_ROOT };

const UNIT_NODE_FLAGS = unitNodeFlags();
const BIN = join(REPO_ROOT, 'bin', 'kkt-agent.js');

/** A real `kkt-agent run` process, for end-to-end tests. Needs `npm run build` (npm test runs it). */
export interface AgentProcess {
  child: ChildProcess;
  socket: string;
  output(): string;
  call(method: string, params?: Record<string, unknown>): Promise<unknown>;
  /** SIGKILL: the power-cut stand-in. */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit; resolves the exit code. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

export async function writeAgentConfig(dir: string, config: Record<string, unknown>): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'config.json');
  await writeFile(path, JSON.stringify(config, null, 2));
  return path;
}

export interface StartAgentOptions {
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  waitReady?: boolean;
  extraArgs?: string[];
  /**
   * Node's own flags, before the script (`--import …`). Default: the systemd unit's, so every daemon a test
   * starts runs as the box runs it (interpreter only, the heap cap); `[]` for Node's defaults.
   */
  nodeArgs?: string[];
}

export async function startAgentProcess(
  configPath: string,
  socket: string,
  options: StartAgentOptions = {},
): Promise<AgentProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? UNIT_NODE_FLAGS),
      BIN,
      'run',
      '--config',
      configPath,
      ...(options.extraArgs ?? []),
    ],
    {
      env: { ...process.env, NOTIFY_SOCKET: '', WATCHDOG_USEC: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const agent: AgentProcess = {
    child,
    socket,
    exited,
    output: () => text,
    call: (method, params = {}) => callControl(socket, method, params, 30_000),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
  };
  if (options.waitReady !== false) await waitReady(agent, options.readyTimeoutMs ?? 20_000);
  return agent;
}

/**
 * Writes `dir/config.json` and starts `kkt-agent run` on it: data in `dir/data`, the control socket at
 * `dir/control.sock`, warnings and worse in the log; `config` adds the rest (time zone, devices, connectors …)
 * and may set another log level.
 */
export async function startAgentInDir(
  dir: string,
  config: Record<string, unknown>,
  options: StartAgentOptions = {},
): Promise<AgentProcess> {
  return startAgentProcess(await writeAgentConfigInDir(dir, config), join(dir, 'control.sock'), options);
}

/** Writes `dir/config.json` as startAgentInDir runs it and returns its path. */
export function writeAgentConfigInDir(dir: string, config: Record<string, unknown>): Promise<string> {
  return writeAgentConfig(dir, {
    dataDir: join(dir, 'data'),
    log: { level: 'warn' },
    control: { socketPath: join(dir, 'control.sock') },
    ...config,
  });
}

export async function waitReady(agent: AgentProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (agent.child.exitCode !== null || agent.child.signalCode !== null) {
      throw new Error(`the agent exited before it was ready:\n${agent.output()}`);
    }
    try {
      await agent.call('status');
      return;
    } catch {
      if (Date.now() > deadline)
        throw new Error(`the agent was not ready in ${timeoutMs} ms:\n${agent.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Runs the CLI (`node bin/kkt-agent.js …`) and returns its exit code and output. */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** `until` for a whole agent process: up to 20 s by default, asking every 50 ms. */
export const until = untilWith({ timeoutMs: 20_000, intervalMs: 50 });
