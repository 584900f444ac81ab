import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { createDevice, traceDevicesWire } from '../agent/composition.js';
import type { AgentConfig } from '../agent/config/config.js';
import { ControlCallError, callControl } from '../agent/control/client.js';
import type { FiscalDevice } from '../agent/devices/device.js';
import type { DoctorReport } from '../agent/devices/doctorReport.js';
import { Doctor } from '../agent/doctor/doctor.js';
import { lockDataDir } from '../agent/store/dataDirLock.js';
import { KktAgentError } from '../lib/errors.js';
import { type CliHelpers, socketOptions } from './cliHelpers.js';
import { needsAttention, renderDoctor } from './doctorView.js';

export interface DoctorCommandOptions {
  device?: string;
  openShift: boolean;
  /** Absolute path of a wire trace file. */
  traceWire?: string;
  /** How long to wait for a register to answer before reporting it offline. */
  readyTimeoutMs?: number;
}

/** Exit code when a register refused something or the probes could not run: an installer script sees it. */
export const EXIT_DOCTOR_ATTENTION = 2;

async function untilReady(devices: readonly FiscalDevice[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (devices.some((d) => !d.ready) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The doctor without a daemon: the configured devices are opened here, tested, and closed. Only when no
 * agent runs: a running agent owns the registers, and the CLI asks it instead (a second link to a register
 * would fight the first). The result is kept in the data directory for the agent to read at its start.
 */
export async function runDoctorStandalone(
  config: AgentConfig,
  options: DoctorCommandOptions,
): Promise<DoctorReport[]> {
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const selected = options.device ? config.devices.filter((d) => d.id === options.device) : config.devices;
  if (selected.length === 0) {
    throw new KktAgentError('DEVICE_UNKNOWN', `No device "${options.device}" is configured.`, {
      device: options.device,
    });
  }
  // The data directory's lock proves that no agent runs (and keeps one from starting meanwhile): a running
  // agent whose socket did not answer owns the registers, and this fails naming its pid.
  await mkdir(config.dataDir, { recursive: true, mode: 0o750 });
  const lock = lockDataDir(config.dataDir);
  const devices = await Promise.all(
    selected.map((d) => createDevice(d, config, logger.child({ device: d.id }))),
  );
  let stopTrace: (() => void) | undefined;
  try {
    stopTrace = options.traceWire ? traceDevicesWire(options.traceWire, devices) : undefined;
    await Promise.all(devices.map((d) => d.start()));
    await untilReady(devices, options.readyTimeoutMs ?? 15_000);
    const doctor = await Doctor.open(config.dataDir, logger);
    return await doctor.run(devices, { openShift: options.openShift });
  } finally {
    await Promise.all(devices.map((d) => d.stop().catch(() => undefined)));
    stopTrace?.();
    lock.release();
  }
}

/** `kkt-agent doctor`: through the running agent when there is one, on its own otherwise. */
export function registerDoctorCommand(program: Command, helpers: CliHelpers): void {
  socketOptions(
    program
      .command('doctor')
      .description(
        'self-test of the registers: identity, shift, paper, OFD backlog, and every tag and VAT rate the agent writes, probed inside a receipt the register cancels (no fiscal document)',
      ),
  )
    .option('--device <id>', 'test one device (default: every device)')
    .option(
      '--open-shift',
      'open a closed shift so that the probes can run (this makes one fiscal document: the shift-open report)',
      false,
    )
    .option(
      '--trace-wire <file>',
      'also write every frame both ways to this file (docs/protocol/atol-v3.md §14)',
    )
    .action(
      async (options: {
        config?: string;
        socket?: string;
        device?: string;
        openShift: boolean;
        traceWire?: string;
        json: boolean;
      }) => {
        const config = await helpers.loadConfig(options.config).catch(helpers.fail);
        const socket = await helpers.socketPath(options, config);
        const params: DoctorCommandOptions = {
          openShift: options.openShift,
          ...(options.device ? { device: options.device } : {}),
          ...(options.traceWire ? { traceWire: resolve(options.traceWire) } : {}),
        };
        let reports: DoctorReport[];
        try {
          reports = (
            (await callControl(socket, 'doctor', { ...params }, 300_000)) as { reports: DoctorReport[] }
          ).reports;
        } catch (error) {
          if (!(error instanceof ControlCallError && error.code === 'AGENT_NOT_RUNNING')) helpers.fail(error);
          reports = await runDoctorStandalone(config, params).catch(helpers.fail);
        }
        process.stdout.write(
          `${options.json ? JSON.stringify({ reports }, null, 2) : renderDoctor({ reports })}\n`,
        );
        process.exit(reports.some(needsAttention) ? EXIT_DOCTOR_ATTENTION : 0);
      },
    );
}
