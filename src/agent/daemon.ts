import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KktAgentError } from '../lib/errors.js';
import type { Agent } from './agent.js';
import { buildAgent, controlSocketPath, traceDevicesWire } from './composition.js';
import type { AgentConfig } from './config/config.js';
import { logFileSchema } from './config/schema.js';
import { configWarnings } from './config/warnings.js';
import { agentControlMethods } from './control/methods.js';
import { ControlServer } from './control/server.js';
import { type AgentLogger, createLogger } from './logging.js';
import { resolveStartupConfig } from './mqtt/configStore.js';
import { withLiveLevels } from './mqtt/liveConfig.js';
import { RemoteServices } from './mqtt/remoteServices.js';
import { Scheduler } from './schedules/scheduler.js';
import { type DataDirLock, lockDataDir } from './store/dataDirLock.js';
import { SystemdIntegration } from './systemd/index.js';
import { AGENT_VERSION } from './version.js';

export { AGENT_VERSION } from './version.js';

/**
 * Exit code systemd is told not to restart on (RestartPreventExitStatus=78): the config is wrong, or the data
 * directory holds a database a person must look at (not ours, damaged, newer).
 */
export const EXIT_CONFIG = 78;

/** Exit code of a restart a remote config asked for: a clean exit, which systemd's Restart=always restarts. */
export const EXIT_RESTART = 0;

export interface DaemonOptions {
  logFile?: string;
  /** Traces every frame of the ATOL devices into this file (docs/protocol/atol-v3.md §14). */
  traceWire?: string;
  /**
   * Ends the process after a clean stop when a remote config needs a restart (systemd's Restart=always
   * starts it again with the stored config). Default `process.exit`; tests inject their own.
   */
  exit?: (code: number) => void;
}

export interface RunningDaemon {
  agent: Agent;
  log: AgentLogger;
  control: ControlServer;
  /** MQTT, the state document, POST /state and remote config. */
  remote: RemoteServices;
  stop(reason: string): Promise<void>;
}

/**
 * Starts the whole agent from a validated config: logging, journals, devices, connectors, the control
 * socket and systemd readiness. Returns once READY=1 has been sent. A stored remote config newer than the
 * file replaces it, except for local-only fields (docs/mqtt.md, "Remote config").
 */
export async function startDaemon(
  fileConfig: AgentConfig,
  options: DaemonOptions = {},
): Promise<RunningDaemon> {
  // One agent per data directory, locked before anything in it is opened or read.
  await mkdir(fileConfig.dataDir, { recursive: true, mode: 0o750 });
  const lock = lockDataDir(resolve(fileConfig.dataDir));
  try {
    return await startLocked(fileConfig, options, lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function startLocked(
  fileConfig: AgentConfig,
  options: DaemonOptions,
  lock: DataDirLock,
): Promise<RunningDaemon> {
  const startup = await resolveStartupConfig(fileConfig);
  const config = startup.config;
  const baseLog = createLogger({
    level: config.log.level,
    modules: config.log.modules,
    pretty: config.log.pretty,
    // `--log-file` names the file; its size and count come from the config (or the schema's defaults).
    file: options.logFile
      ? logFileSchema.parse({ ...config.log.file, path: options.logFile })
      : config.log.file,
  });
  const log = withLiveLevels(baseLog, { level: config.log.level, modules: config.log.modules });
  const configLog = log.module('config');
  for (const warning of configWarnings(config)) configLog.warn({ event: 'config.warning', warning });
  const systemd = SystemdIntegration.start({ logger: log.module('systemd') });
  // Everything below keeps state in the data directory; a fresh box has none yet.
  await mkdir(config.dataDir, { recursive: true, mode: 0o750 });
  const remote = await RemoteServices.open({ startup, log, version: AGENT_VERSION });
  const agent = await buildAgent(config, log, { extraSinks: remote.sinks });
  // Before the devices start, so that the trace begins with the first frame of the first connection.
  const stopTrace = options.traceWire ? traceDevicesWire(options.traceWire, agent.deviceList) : undefined;
  if (options.traceWire) log.root.warn({ event: 'daemon.wire-trace', file: options.traceWire });
  const scheduler = new Scheduler(agent, config.schedules, config.timeZone, log.module('schedules'));
  const methods = agentControlMethods(agent, {
    version: AGENT_VERSION,
    extraStatus: () => ({ ...remote.status(), alerts: scheduler.alerts, schedules: scheduler.describe() }),
    traceWire: (path) => traceDevicesWire(path, agent.deviceList),
  });
  const control = new ControlServer(controlSocketPath(config), methods, log.module('control'));
  await control.listen();
  await agent.start();

  // Liveness beyond the event loop: a device with a receipt in progress must have answered recently.
  const stallMs = config.fiscalizer.deviceStallMs;
  systemd.addProbe('device-loop', () => {
    for (const job of agent.printingJobs) {
      const device = agent.deviceList.find((d) => agent.jobs.get(job)?.deviceId === d.id);
      if (device && Date.now() - device.lastActivityAt > stallMs)
        return `device ${device.id} silent for ${stallMs} ms while printing`;
    }
    return true;
  });
  systemd.ready(`fiscalizing with ${agent.deviceList.length} device(s)`);
  log.root.info({ event: 'daemon.ready', version: AGENT_VERSION, socket: controlSocketPath(config) });

  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      log.root.info({ event: 'daemon.stopping', reason });
      systemd.stopping(agent.printingJobs.length > 0 ? 'finishing the receipt in progress' : 'stopping');
      await scheduler.stop();
      await remote.stop();
      await control.close();
      await agent.stop();
      stopTrace?.();
      await remote.close();
      lock.release();
      systemd.close();
      await log.flush();
    })();
    return stopping;
  };
  const exit = options.exit ?? ((code: number) => process.exit(code));
  scheduler.start();
  remote.start({
    agent,
    methods,
    extraState: () => ({ alerts: [...scheduler.alerts], schedules: scheduler.describe() }),
    // Remote config that cannot apply live: stop gracefully (a receipt being printed is finished), then exit.
    requestRestart: (reason) => {
      stop(reason).then(
        () => exit(EXIT_RESTART),
        (error: unknown) => {
          log.root.error({ event: 'daemon.stop-failed', reason: (error as Error).message });
          exit(EXIT_RESTART);
        },
      );
    },
  });
  return { agent, log, control, remote, stop };
}

/** `kkt-agent run`: start, then stop cleanly on SIGTERM/SIGINT (finishing a receipt in progress). */
export async function runDaemon(config: AgentConfig, options: DaemonOptions = {}): Promise<void> {
  const daemon = await startDaemon(config, options);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      // The handler stays: a second Ctrl-C or SIGTERM must not kill the process in the middle of a receipt.
      if (stopping) {
        daemon.log.root.warn({ event: 'daemon.already-stopping', signal });
        return;
      }
      stopping = true;
      daemon.stop(signal).then(resolve, (error: unknown) => {
        daemon.log.root.error({ event: 'daemon.stop-failed', reason: (error as Error).message });
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

export class DaemonError extends KktAgentError {}
