import { z } from 'zod';
import { parseWith } from '../../lib/validation.js';
import { type AtolEmulator, startAtolEmulator } from './emulator.js';
import { parseFaultSpecs } from './faults.js';
import {
  type CliOutput,
  describeRegister,
  faultSpecList,
  printPrintouts,
  registerCliOptionsSchema,
} from './registerCli.js';

/**
 * Options of `kkt-agent emulator atol` as the command line gives them (strings or numbers); checked here,
 * at the edge. `fault` repeats: `--fault no-paper --fault execute-then-drop=4A`.
 */
export const emulatorCliOptionsSchema = registerCliOptionsSchema.extend({
  tcp: z.coerce.number().int().min(0).max(65_535).default(5555),
  latencyMs: z.coerce.number().int().min(0).optional(),
  asyncLatencyMs: z.coerce.number().int().min(0).optional(),
  zReportStepMs: z.coerce.number().int().min(0).optional(),
  xReportMs: z.coerce.number().int().min(0).optional(),
  ofdAutoDrainMs: z.coerce.number().int().min(0).optional(),
  /** FFD version at first start; a saved state keeps its own. */
  ffd: z.enum(['1.05', '1.2']).default('1.2'),
});

export type AtolEmulatorCliOptions = z.input<typeof emulatorCliOptionsSchema>;

/** Starts the emulator for the CLI and prints what it prints, plus connections and faults. */
export async function runAtolEmulatorCli(
  raw: AtolEmulatorCliOptions,
  out: CliOutput = process.stdout,
  err: CliOutput = process.stderr,
): Promise<AtolEmulator> {
  const options = parseWith(emulatorCliOptionsSchema, raw, 'emulator');
  const emulator = await startAtolEmulator({
    host: options.host,
    port: options.tcp,
    stateFile: options.state,
    journalFile: options.journal,
    model: options.model,
    timeZone: options.timeZone,
    latencyMs: options.latencyMs,
    asyncLatencyMs: options.asyncLatencyMs,
    zReportStepMs: options.zReportStepMs,
    xReportMs: options.xReportMs,
    ofdAutoDrainMs: options.ofdAutoDrainMs,
    persist: options.persist,
    ffdVersion: options.ffd === '1.05' ? 2 : 4,
    faults: parseFaultSpecs(faultSpecList(options.fault)),
  });
  out.write(`ATOL emulator: ${describeRegister(emulator)}; listening on ${emulator.host}:${emulator.port}\n`);
  if (!options.quiet) printPrintouts(emulator, out);
  emulator.on('connection', (info) =>
    out.write(`[connection] host ${info.remoteAddress}:${info.remotePort}\n`),
  );
  emulator.on('disconnect', (info) => out.write(`[disconnect] ${info.reason}\n`));
  emulator.on('fault', (event) => out.write(`[fault] ${event.name}: ${event.detail}\n`));
  emulator.on('warning', (error) => err.write(`[warning] ${error.message}\n`));
  return emulator;
}
