import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { errorMessage, ValidationError } from '../../lib/errors.js';
import { parseWithSchema } from '../../lib/json.js';
import type { EmulatedTerminalState } from './emulatedTerminal.js';
import type { ComputedSaleLine } from './saleRules.js';

/**
 * Keeps the emulator's receipt counter, shift and journal across restarts, so a demo that restarts the
 * emulator does not reuse receipt numbers. Written whole to a temporary file and renamed over the old one.
 */

export function initialState(): EmulatedTerminalState {
  return { nextNumberCheck: 1, shiftOpen: true, sales: [], unfinishedSale: undefined };
}

const lineSchema = z.object({
  codeNumber: z.string(),
  nameTitle: z.string().optional(),
  priceMinor: z.number().int(),
  quantityMilli: z.number().int(),
  lineTotalMinor: z.number().int(),
});

const computedSchema = z.object({
  cashier: z.string(),
  lines: z.array(lineSchema),
  totalMinor: z.number().int(),
  cashMinor: z.number().int(),
  cashlessMinor: z.number().int(),
  certificateMinor: z.number().int(),
  changeMinor: z.number().int(),
  underpaidMinor: z.number().int(),
});

const saleSchema = z.object({
  numberCheck: z.string(),
  uid: z.string(),
  operationId: z.string().optional(),
  cashier: z.string(),
  dateTime: z.string(),
  totalMinor: z.number().int(),
  changeMinor: z.number().int(),
  underpaidMinor: z.number().int(),
  cashMinor: z.number().int(),
  cashlessMinor: z.number().int(),
  certificateMinor: z.number().int(),
  printCheque: z.boolean(),
  items: z.array(lineSchema),
});

const stateSchema = z.object({
  nextNumberCheck: z.number().int().positive(),
  shiftOpen: z.boolean(),
  sales: z.array(saleSchema),
  unfinishedSale: z
    .object({
      operationId: z.string().optional(),
      computed: computedSchema.optional(),
      printCheque: z.boolean(),
    })
    .optional(),
});

/** The saved state, or undefined when the file does not exist yet. A damaged file is an error, not a reset. */
export async function loadState(file: string): Promise<EmulatedTerminalState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // Our own file, holding only safe integers, so plain JSON.parse loses nothing here.
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(file, `the emulator state file is not JSON (${errorMessage(error)})`);
  }
  const state = parseWithSchema(stateSchema, json, file);
  return {
    nextNumberCheck: state.nextNumberCheck,
    shiftOpen: state.shiftOpen,
    sales: state.sales.map((sale) => ({
      ...sale,
      operationId: sale.operationId,
      items: sale.items.map(toLine),
    })),
    unfinishedSale: state.unfinishedSale && {
      operationId: state.unfinishedSale.operationId,
      printCheque: state.unfinishedSale.printCheque,
      computed: state.unfinishedSale.computed && {
        ...state.unfinishedSale.computed,
        lines: state.unfinishedSale.computed.lines.map(toLine),
      },
    },
  };
}

function toLine(line: z.output<typeof lineSchema>): ComputedSaleLine {
  return { ...line, nameTitle: line.nameTitle };
}

/** Serialises saves so that an older state never lands after a newer one. */
export class StateFileWriter {
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  save(state: EmulatedTerminalState): Promise<void> {
    const text = `${JSON.stringify(state, null, 2)}\n`;
    const write = async (): Promise<void> => {
      await mkdir(path.dirname(this.file), { recursive: true });
      const temporary = `${this.file}.${process.pid}.tmp`;
      await writeFile(temporary, text, 'utf8');
      await rename(temporary, this.file);
    };
    this.pending = this.pending.then(write, write);
    return this.pending;
  }

  flushed(): Promise<void> {
    return this.pending.catch(() => undefined);
  }
}
