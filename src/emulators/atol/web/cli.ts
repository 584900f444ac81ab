import { z } from 'zod';
import { parseWith } from '../../../lib/validation.js';
import { parseFaultSpecs } from '../faults.js';
import {
  type CliOutput,
  describeRegister,
  faultSpecList,
  printPrintouts,
  registerCliOptionsSchema,
} from '../registerCli.js';
import { splitWebFaultSpecs } from './faults.js';
import { type AtolWebEmulator, DEFAULT_WEB_EMULATOR_PORT, startAtolWebEmulator } from './server.js';

/**
 * Options of `kkt-agent emulator atol-web` as the command line gives them; checked here, at the edge.
 * `fault` repeats and takes the web faults (`drop-after-accept`, `http-500=2`, `http-500-after-accept`,
 * `lose-results-after-run`, `interrupt-task`, `task-slow-ms=500`; `@sell` limits one to requests holding a
 * `sell` task) and the register's (`no-paper`, `shift-expired`…).
 */
export const atolWebEmulatorCliOptionsSchema = registerCliOptionsSchema.extend({
  port: z.coerce.number().int().min(0).max(65_535).default(DEFAULT_WEB_EMULATOR_PORT),
  /** Also serve the register over protocol v3 on this TCP port (0: any free port). */
  tcp: z.coerce.number().int().min(0).max(65_535).default(0),
  user: z.string().min(1).optional(),
  password: z.string().optional(),
  deviceId: z.string().min(1).optional(),
});

export type AtolWebEmulatorCliOptions = z.input<typeof atolWebEmulatorCliOptionsSchema>;

/** Starts the web facade and its register for the CLI; prints requests, tasks, faults and printouts. */
export async function runAtolWebEmulatorCli(
  raw: AtolWebEmulatorCliOptions,
  out: CliOutput = process.stdout,
  err: CliOutput = process.stderr,
): Promise<AtolWebEmulator> {
  const options = parseWith(atolWebEmulatorCliOptionsSchema, raw, 'emulator');
  const { web, register } = splitWebFaultSpecs(faultSpecList(options.fault));
  const emulator = await startAtolWebEmulator({
    host: options.host,
    port: options.port,
    register: {
      host: options.host,
      port: options.tcp,
      stateFile: options.state,
      journalFile: options.journal,
      model: options.model,
      timeZone: options.timeZone,
      persist: options.persist,
      faults: parseFaultSpecs(register),
    },
    ...(options.user ? { auth: { username: options.user, password: options.password ?? '' } } : {}),
    ...(options.deviceId ? { deviceId: options.deviceId } : {}),
    faultSpecs: web,
  });
  out.write(
    `ATOL driver-10 web server emulator: ${describeRegister(emulator.register)}; ` +
      `${emulator.url}/api/v2 (protocol v3 on ${emulator.register.host}:${emulator.register.port})\n`,
  );
  if (!options.quiet) printPrintouts(emulator.register, out);
  emulator.on('task', (event) =>
    out.write(
      `[task] ${event.uuid}#${event.index} ${event.type}: ${event.status}${event.error ? ` (${event.error.code} ${event.error.description})` : ''}\n`,
    ),
  );
  emulator.on('fault', (event) => out.write(`[fault] ${event.name}: ${event.detail}\n`));
  emulator.on('warning', (error) => err.write(`[warning] ${error.message}\n`));
  emulator.register.on('warning', (error) => err.write(`[warning] ${error.message}\n`));
  return emulator;
}
