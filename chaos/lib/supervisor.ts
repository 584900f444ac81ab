import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { callControl } from '../../src/agent/control/client.js';
import { REPO_ROOT } from '../../test/support/agentProcess.js';

import { unitNodeFlags } from '../../test/support/unitFlags.js';

const BIN = join(REPO_ROOT, 'bin', 'kkt-agent.js');
/** The agent runs as the box runs it: the systemd unit's Node flags (interpreter only, the heap cap). */
const UNIT_NODE_FLAGS = unitNodeFlags();
const OUTPUT_KEEP = 64 * 1024;

export interface SupervisorOptions {
  configPath: string;
  socket: string;
  env?: Record<string, string>;
  /** A command prefix for each start, e.g. `prlimit --fsize=0:unlimited --` while the disk is "full". */
  wrapper?: () => string[];
  /** An unexpected exit is followed by a restart after this long (systemd's Restart=always, RestartSec). */
  restartDelayMs?: number;
}

/**
 * Runs `kkt-agent run` as systemd would (Restart=always, the unit's Node flags): an exit nobody asked for is counted and followed
 * by a restart. SIGKILLs the chaos suite deals out are not restarted automatically; the scenario decides.
 */
export class AgentSupervisor {
  starts = 0;
  kills = 0;
  /** Exits nobody asked for (a crash the agent had on its own), restarted like systemd would. */
  crashes = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<unknown> = Promise.resolve();
  private expectingExit = false;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private text = '';
  private readonly counters = new Map<string, { pattern: RegExp; count: number }>();

  constructor(private readonly options: SupervisorOptions) {}

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last 64 KB of every run's output (log level warn and above). */
  output(): string {
    return this.text;
  }

  /** Starts counting output lines that match (e.g. failed journal writes); read with `counted`. */
  countLines(name: string, pattern: RegExp): void {
    this.counters.set(name, { pattern, count: 0 });
  }

  counted(name: string): number {
    return this.counters.get(name)?.count ?? 0;
  }

  private append(chunk: string): void {
    if (this.counters.size > 0) {
      for (const line of chunk.split('\n')) {
        for (const counter of this.counters.values()) if (counter.pattern.test(line)) counter.count++;
      }
    }
    this.text += chunk;
    if (this.text.length > OUTPUT_KEEP * 2) this.text = this.text.slice(-OUTPUT_KEEP);
  }

  /**
   * Starts the agent. `env` adds variables for this start only; `expectExit` marks an exit the scenario
   * provokes (a crash point), which is then neither counted nor followed by a restart.
   */
  start(options: { env?: Record<string, string>; expectExit?: boolean } = {}): void {
    if (this.running || this.stopped) return;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const command = [
      ...(this.options.wrapper?.() ?? []),
      process.execPath,
      ...UNIT_NODE_FLAGS,
      BIN,
      'run',
      '--config',
      this.options.configPath,
    ];
    const child = spawn(command[0]!, command.slice(1), {
      env: { ...process.env, NOTIFY_SOCKET: '', WATCHDOG_USEC: '', ...this.options.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.starts++;
    this.expectingExit = options.expectExit ?? false;
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => this.append(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => this.append(chunk.toString()));
    this.exited = once(child, 'exit');
    child.once('exit', (code, signal) => {
      if (this.child !== child || this.expectingExit || this.stopped) return;
      this.crashes++;
      this.append(
        `\n[supervisor] the agent exited on its own (code ${code}, signal ${signal}); restarting\n`,
      );
      this.restartTimer = setTimeout(() => this.start(), this.options.restartDelayMs ?? 200);
    });
  }

  /** Resolves when the current run has exited (for a run started with `expectExit`). */
  async exit(): Promise<void> {
    await this.exited;
  }

  /** SIGKILL, the power cut. Not restarted until `start()`. */
  async kill(): Promise<void> {
    clearTimeout(this.restartTimer);
    if (!this.running) return;
    this.expectingExit = true;
    this.kills++;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM and wait; no restart afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    if (!this.running) return;
    this.expectingExit = true;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
  }

  call(method: string, params: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<unknown> {
    return callControl(this.options.socket, method, params, timeoutMs);
  }

  /** Waits until the control socket answers `status`. */
  async ready(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.call('status');
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`the agent was not ready in ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
}
