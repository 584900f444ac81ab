import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KktAgentError } from '../lib/errors.js';
import type { Agent } from './agent.js';
import { buildAgent, controlSocketPath, traceDevicesWire } from './composition.js';
import { type AgentConfig, ConfigError } from './config/config.js';
import { configWarnings } from './config/warnings.js';
import { agentControlMethods } from './control/methods.js';
import { ControlServer, ControlSocketPathError, prepareSocketPath } from './control/server.js';
import { type AgentLogger, createLogger } from './logging.js';
import { resolveStartupConfig } from './mqtt/configStore.js';
import { withLiveLevels } from './mqtt/liveConfig.js';
import { RemoteServices } from './mqtt/remoteServices.js';
import { Scheduler } from './schedules/scheduler.js';
import { claimDataDir, type DataDirLock } from './store/dataDirLock.js';
import { leaveGoneMarker } from './store/dataDirWatch.js';
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

/**
 * Exit code after the data directory was found deleted or replaced (EX_TEMPFAIL): systemd restarts the
 * agent, which then stops at the marker left behind with DATA_DIR_GONE and exit 78 (docs/storage.md).
 */
export const EXIT_DATA_DIR_GONE = 75;

export interface DaemonOptions {
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
  /** Reopens the log file at its path (SIGHUP); false when the agent writes none. */
  reopenLogFile(): Promise<boolean>;
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
  // One agent per data directory, locked before anything in it is opened or read; an earlier run that found
  // this directory deleted or replaced under it stops this one (a person must look first).
  const lock = await claimDataDir(resolve(fileConfig.dataDir));
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
  // Before anything else is opened: a path that is not ours to replace (a journal, say) stops the start here.
  await prepareSocketPath(controlSocketPath(fileConfig)).catch((error: unknown) => {
    if (error instanceof ControlSocketPathError)
      throw new ConfigError(error.code, error.message, error.details);
    throw error;
  });
  const startup = await resolveStartupConfig(fileConfig);
  const config = startup.config;
  const baseLog = createLogger({
    level: config.log.level,
    modules: config.log.modules,
    pretty: config.log.pretty,
    file: config.log.file,
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
  // The agent's own (unreported receipts, failing journal writes), then the devices' from the checks.
  const alerts = () => [...agent.alerts(), ...scheduler.alerts];
  const methods = agentControlMethods(agent, {
    version: AGENT_VERSION,
    inlineBillSources: config.mqtt?.inlineBillSources,
    extraStatus: () => ({ ...remote.status(), alerts: alerts(), schedules: scheduler.describe() }),
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
      await baseLog.close();
    })();
    return stopping;
  };
  const exit = options.exit ?? ((code: number) => process.exit(code));
  // The data directory deleted or replaced under the running agent: stop taking work and exit, leaving a
  // marker so that systemd's restart stops at a clear error rather than print every bill again.
  agent.onDataDirGone((error) => {
    const at = new Date();
    setImmediate(() => {
      // What the open database holds is saved beside the marker: the deleted file goes when the agent exits.
      const rescued = agent.rescueDatabase(at);
      const marker = leaveGoneMarker(resolve(config.dataDir), error, at, rescued);
      log.root.error({
        event: 'daemon.data-dir-gone',
        code: error.code,
        marker: marker ?? 'not written',
        rescued: rescued ?? 'not written',
      });
      stop('data directory gone').then(
        () => exit(EXIT_DATA_DIR_GONE),
        (stopError: unknown) => {
          log.root.error({ event: 'daemon.stop-failed', reason: (stopError as Error).message });
          exit(EXIT_DATA_DIR_GONE);
        },
      );
    });
  });
  scheduler.start();
  remote.start({
    agent,
    methods,
    extraState: () => ({ alerts: alerts(), schedules: scheduler.describe() }),
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
  return { agent, log, control, remote, stop, reopenLogFile: () => baseLog.reopenFile() };
}

/**
 * `kkt-agent run`: start, then stop cleanly on SIGTERM/SIGINT (finishing a receipt in progress). SIGHUP
 * (systemd's reload, or logrotate's postrotate) reopens the log file and changes nothing else; without
 * this handler Node's default would end the process on the spot.
 */
export async function runDaemon(config: AgentConfig, options: DaemonOptions = {}): Promise<void> {
  let daemon: RunningDaemon | undefined;
  let hangupsBeforeReady = 0;
  const onHangup = () => {
    if (!daemon) {
      hangupsBeforeReady++;
      return;
    }
    const running = daemon;
    running.reopenLogFile().then(
      (reopened) =>
        running.log.root.info({
          event: 'daemon.sighup',
          logFile: reopened ? 'reopened' : 'none',
          note: 'SIGHUP reopens the log file only; a config change needs a restart',
        }),
      (error: unknown) =>
        running.log.root.error({ event: 'daemon.sighup-failed', reason: (error as Error).message }),
    );
  };
  process.on('SIGHUP', onHangup);
  daemon = await startDaemon(config, options);
  if (hangupsBeforeReady > 0)
    daemon.log.root.info({
      event: 'daemon.sighup',
      ignored: hangupsBeforeReady,
      note: 'received while starting',
    });
  const running = daemon;
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  await new Promise<void>((resolve) => {
    let stopping = false;
    onSignal = (signal: NodeJS.Signals) => {
      // The handler stays: a second Ctrl-C or SIGTERM must not kill the process in the middle of a receipt.
      if (stopping) {
        running.log.root.warn({ event: 'daemon.already-stopping', signal });
        return;
      }
      stopping = true;
      running.stop(signal).then(resolve, (error: unknown) => {
        running.log.root.error({ event: 'daemon.stop-failed', reason: (error as Error).message });
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  // Stopped: the process is about to exit, and a caller that goes on (a test) gets its signals back.
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  process.off('SIGHUP', onHangup);
}

export class DaemonError extends KktAgentError {}
