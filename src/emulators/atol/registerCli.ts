import { z } from 'zod';
import type { AtolEmulator } from './emulator.js';
import { formatMoney } from './render.js';

/**
 * What `kkt-agent emulator atol` and `emulator atol-web` share: both run an emulated register, so both
 * take its options and print it the same way.
 */

/** The register's options as the command line gives them; each command extends this with its ports. */
export const registerCliOptionsSchema = z.object({
  host: z.string().default('127.0.0.1'),
  state: z.string().optional(),
  journal: z.string().optional(),
  model: z.string().optional(),
  timeZone: z.string().optional(),
  persist: z.boolean().default(true),
  /** Repeats: `--fault no-paper --fault execute-then-drop=4A`. */
  fault: z.union([z.string(), z.array(z.string())]).optional(),
  /** Do not print printouts (connections and faults are still reported). */
  quiet: z.boolean().default(false),
});

export interface CliOutput {
  write(text: string): unknown;
}

/** `--fault` given once arrives as a string, given again as an array. */
export function faultSpecList(fault: string | string[] | undefined): string[] {
  return fault === undefined ? [] : ([] as string[]).concat(fault);
}

/** The register in one line: model, serials, last document and the cash drawer. */
export function describeRegister(register: AtolEmulator): string {
  const id = register.device.identity;
  return (
    `${id.modelName} ЗН ${id.serial}, ФН ${id.fnSerial}, last FD ${register.device.lastDocumentNumber}, ` +
    `drawer ${formatMoney(register.device.cashKop)}`
  );
}

/** Prints every printout as the paper would show it, with a tear line as wide as the register's. */
export function printPrintouts(register: AtolEmulator, out: CliOutput): void {
  const { lineWidth } = register.device.identity;
  register.on('printed', (printout) => out.write(`\n${printout.text}${'~'.repeat(lineWidth)}\n`));
}
