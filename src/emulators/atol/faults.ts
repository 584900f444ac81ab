import { EmulatorConfigError } from './errors.js';

/**
 * Faults the emulated register can be told to show. Switches (`noPaper` …) hold until cleared; the link
 * faults (`dropOnCommand`, `executeThenDrop`, `executeThenFail`, `dropAfterCommands`, `corruptNextFrame`) fire once and
 * clear themselves; `shiftExpired` is an action on the state (the shift is backdated), not a switch.
 */
export interface FaultSettings {
  /** No paper: `45` flag b0, `3F` paper flag cleared, printing commands answer `67`. */
  noPaper: boolean;
  /** Cover open: `3F` flag b5; printing commands answer `67` (our reading: the printer cannot print). */
  coverOpen: boolean;
  /** Backdates the open shift (or opens one) to 25 hours ago, so fiscal commands answer `88`. */
  shiftExpired: boolean;
  /** The FN archive is full: document-making commands answer `D8`. */
  fnFull: boolean;
  /** The oldest unsent document is older than 30 days: fiscal commands answer `ED`. */
  ofdBacklog: boolean;
  /** A slow register: every answer is delayed by this many milliseconds (0 = off). */
  slowMs: number;
  /** Drop the connection when this command (hex code, e.g. "4A") arrives, without running it. */
  dropOnCommand: string;
  /** Run this command (it takes effect: `4A` makes its FD) and drop the connection instead of answering. */
  executeThenDrop: string;
  /** Run this command (it takes effect) and answer "no paper" (`67`) instead, as when the roll runs out mid-print. */
  executeThenFail: string;
  /** Drop the connection right after the N-th command from now has been answered. */
  dropAfterCommands: number;
  /** Flip a byte of the next frame the register sends, so its CRC check fails. */
  corruptNextFrame: boolean;
  /**
   * An `EB` tax byte the firmware refuses with `EE`/0x0104, as a register that does not know a rate would
   * (0 = off): what a self-test that probes the rates must report.
   */
  refuseTaxCode: number;
  /**
   * A hung register: it ignores every frame on every connection and sends nothing, while the link stays
   * open (TCP connected, the serial port there). Holds until cleared.
   */
  silent: boolean;
  /**
   * The current connection stops answering but stays open, as a half-open TCP session or a register that
   * lost its session does; a new connection is answered. An action, not a switch: it fires at once.
   */
  deafConnection: boolean;
}

export type FaultName = keyof FaultSettings;

/** Values a fault takes when it is set without one. */
export const FAULT_DEFAULTS: FaultSettings = {
  noPaper: true,
  coverOpen: true,
  shiftExpired: true,
  fnFull: true,
  ofdBacklog: true,
  slowMs: 1000,
  dropOnCommand: '4A',
  executeThenDrop: '4A',
  executeThenFail: '4A',
  dropAfterCommands: 1,
  corruptNextFrame: true,
  refuseTaxCode: 13,
  silent: true,
  deafConnection: true,
};

/** Every fault off. */
export const NO_FAULTS: FaultSettings = {
  noPaper: false,
  coverOpen: false,
  shiftExpired: false,
  fnFull: false,
  ofdBacklog: false,
  slowMs: 0,
  dropOnCommand: '',
  executeThenDrop: '',
  executeThenFail: '',
  dropAfterCommands: 0,
  corruptNextFrame: false,
  refuseTaxCode: 0,
  silent: false,
  deafConnection: false,
};

export const FAULT_NAMES = Object.keys(FAULT_DEFAULTS) as FaultName[];

/** "4A", "4a", "A4 46", "0xA446" → the command code bytes. */
export function parseCommandCode(text: string): Buffer {
  const hex = text.replace(/^0x/i, '').replace(/[\s:_-]/g, '');
  if (!/^([0-9a-fA-F]{2}){1,2}$/.test(hex)) {
    throw new EmulatorConfigError('faults', `"${text}" is not a command code such as 4A or "A4 46"`);
  }
  return Buffer.from(hex, 'hex');
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const BY_CLI_NAME = new Map(FAULT_NAMES.map((name) => [kebab(name), name]));

/**
 * Parses CLI fault options: `no-paper`, `cover-open`, `shift-expired`, `fn-full`, `ofd-backlog`,
 * `slow-ms=500`, `drop-on-command=4A`, `execute-then-drop=4A`, `drop-after-commands=3`,
 * `corrupt-next-frame`, `refuse-tax-code=13`, `silent`, `deaf-connection`.
 */
export function parseFaultSpecs(specs: readonly string[]): Partial<FaultSettings> {
  const faults: Partial<FaultSettings> = {};
  for (const spec of specs) {
    const [rawName = '', rawValue] = spec.split('=', 2);
    const name =
      BY_CLI_NAME.get(rawName.trim()) ?? (FAULT_NAMES as string[]).find((n) => n === rawName.trim());
    if (!name) {
      throw new EmulatorConfigError(
        'faults',
        `unknown fault "${rawName}"; known: ${[...BY_CLI_NAME.keys()].join(', ')}`,
      );
    }
    Object.assign(faults, { [name]: parseFaultValue(name as FaultName, rawValue) });
  }
  return faults;
}

function parseFaultValue(name: FaultName, raw: string | undefined): FaultSettings[FaultName] {
  const fallback = FAULT_DEFAULTS[name];
  if (raw === undefined) return fallback;
  if (typeof fallback === 'boolean') {
    if (raw === 'true' || raw === '1' || raw === 'on') return true;
    if (raw === 'false' || raw === '0' || raw === 'off') return false;
    throw new EmulatorConfigError('faults', `${kebab(name)} takes on/off, got "${raw}"`);
  }
  if (typeof fallback === 'number') {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) {
      throw new EmulatorConfigError('faults', `${kebab(name)} takes a whole number, got "${raw}"`);
    }
    return value;
  }
  parseCommandCode(raw);
  return raw;
}
