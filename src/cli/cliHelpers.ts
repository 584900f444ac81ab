import { resolve } from 'node:path';
import type { Command } from 'commander';
import { controlSocketPath } from '../agent/composition.js';
import { type AgentConfig, ConfigError, loadConfigFile } from '../agent/config/config.js';
import { ControlCallError, callControl } from '../agent/control/client.js';
import { EXIT_CONFIG } from '../agent/daemon.js';
import { refuseIfDataDirWasGone } from '../agent/store/dataDirWatch.js';
import { needsTechnician } from '../agent/store/storeErrors.js';
import { KktAgentError } from '../lib/errors.js';

export const DEFAULT_CONFIG = '/etc/kkt-agent/config.json';

/** `--socket` and `--config` as a command takes them. */
export interface AgentOptions {
  socket?: string;
  config?: string;
}

/** What every command file needs of the CLI: the config, the running agent, output, and the way out. */
export interface CliHelpers {
  /** The config file (`--config`, `$KKT_AGENT_CONFIG` or the default), parsed. */
  loadConfig(explicit?: string): Promise<AgentConfig>;
  /** The running agent's control socket: `--socket`, `$KKT_AGENT_SOCKET`, or from the config (read if not given). */
  socketPath(options: AgentOptions, config?: AgentConfig): Promise<string>;
  /** One control call to the running agent. */
  call(
    options: AgentOptions,
    method: string,
    params?: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<unknown>;
  /** `value` as JSON, or as `render` puts it for a person. */
  print(value: unknown, json: boolean, render: (value: never) => string): void;
  /** Prints the error (with its code when it is ours) and exits: 78 when a technician must act, else 1. */
  fail(error: unknown): never;
}

export function configPath(explicit?: string): string {
  return explicit ?? process.env.KKT_AGENT_CONFIG ?? DEFAULT_CONFIG;
}

const loadConfig = (explicit?: string) => loadConfigFile(configPath(explicit));

const socketPath = async (options: AgentOptions, config?: AgentConfig): Promise<string> =>
  options.socket ||
  process.env.KKT_AGENT_SOCKET ||
  controlSocketPath(config ?? (await loadConfig(options.config)));

/**
 * The agent is not running: when it stopped at the DATA_DIR_GONE marker (its data directory was deleted or
 * replaced under it), that error and its instructions are what the person needs, not "not running".
 */
async function refuseIfStoppedAtMarker(options: AgentOptions): Promise<void> {
  const config = await loadConfig(options.config).catch(() => undefined);
  if (config) refuseIfDataDirWasGone(resolve(config.dataDir));
}

export const cliHelpers: CliHelpers = {
  loadConfig,
  socketPath,
  call: async (options, method, params = {}, timeoutMs) => {
    const socket = await socketPath(options);
    try {
      return await callControl(socket, method, params, timeoutMs);
    } catch (error) {
      if (error instanceof ControlCallError && error.code === 'AGENT_NOT_RUNNING')
        await refuseIfStoppedAtMarker(options);
      throw error;
    }
  },
  print: (value, json, render) => {
    process.stdout.write(`${json ? JSON.stringify(value, null, 2) : render(value as never)}\n`);
  },
  fail: (error) => {
    const known = error instanceof KktAgentError;
    process.stderr.write(
      `kkt-agent: ${known ? `${error.message} [${error.code}]` : ((error as Error).stack ?? String(error))}\n`,
    );
    process.exit(error instanceof ConfigError || needsTechnician(error) ? EXIT_CONFIG : 1);
  },
};

/** `-c, --config`: the config file. */
export const configOption = (command: Command): Command =>
  command.option('-c, --config <file>', `config file (default: $KKT_AGENT_CONFIG or ${DEFAULT_CONFIG})`);

/** `--socket` and `--config`: where the running agent is. */
export const agentOptions = (command: Command): Command =>
  configOption(
    command.option('--socket <path>', 'control socket of the running agent (default: from the config)'),
  );

/** `--socket`, `--config` and `--json`: a command that asks the running agent and prints its answer. */
export const socketOptions = (command: Command): Command =>
  agentOptions(command).option('--json', 'print JSON instead of a table', false);
