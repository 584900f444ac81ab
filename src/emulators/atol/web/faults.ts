import { EmulatorConfigError } from '../errors.js';

/**
 * Faults of the web facade itself (the register's own faults — no paper, expired shift… — are set on the
 * emulated register). Counters fire on the next N occasions and count down; `taskSlowMs` holds until cleared.
 */
export interface WebFaultSettings {
  /** Every task stays `inProgress` this much longer before it runs (a slow driver or register). */
  taskSlowMs: number;
  /** The next N submissions are queued (they will run), then the connection is cut instead of answering 201. */
  dropAfterAccept: number;
  /** The next N HTTP requests of any kind are answered 500 without being looked at. */
  http500: number;
  /** The next N submissions are queued (they will run), then answered 500. */
  http500AfterAccept: number;
  /** After each of the next N tasks finishes, the server forgets every request (a restart that lost its store). */
  loseResultsAfterRun: number;
  /** The next N tasks end `interrupted` (driver error 241, connection lost) before reaching the register. */
  interruptTask: number;
  /**
   * The next N tasks run on the register, then are reported failed with driver error 44 (no paper), as a
   * driver might when the printer stops after the FN closed the document.
   */
  errorAfterRun: number;
}

export type WebFaultName = keyof WebFaultSettings;

export const WEB_FAULT_DEFAULTS: WebFaultSettings = {
  taskSlowMs: 1000,
  dropAfterAccept: 1,
  http500: 1,
  http500AfterAccept: 1,
  loseResultsAfterRun: 1,
  interruptTask: 1,
  errorAfterRun: 1,
};

export const NO_WEB_FAULTS: WebFaultSettings = {
  taskSlowMs: 0,
  dropAfterAccept: 0,
  http500: 0,
  http500AfterAccept: 0,
  loseResultsAfterRun: 0,
  interruptTask: 0,
  errorAfterRun: 0,
};

export const WEB_FAULT_NAMES = Object.keys(WEB_FAULT_DEFAULTS) as WebFaultName[];

const kebab = (name: string) =>
  name
    .replace(/([a-z])([A-Z0-9])/g, '$1-$2')
    .replace(/([0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
const BY_CLI_NAME = new Map(WEB_FAULT_NAMES.map((name) => [kebab(name), name]));

export function checkWebFault(name: string, value: unknown): number {
  if (!(WEB_FAULT_NAMES as string[]).includes(name)) {
    throw new EmulatorConfigError(
      'fault',
      `unknown web fault "${name}"; known: ${WEB_FAULT_NAMES.join(', ')}`,
    );
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new EmulatorConfigError('fault', `${name} takes a whole number, got ${String(value)}`);
  }
  return value;
}

/** A web fault from the CLI, optionally limited to requests whose tasks are of some types. */
export interface WebFaultSpec {
  name: WebFaultName;
  value: number;
  /** Only submissions holding a task of one of these types (`sell`…) trigger it. */
  taskTypes?: string[];
}

/**
 * Splits CLI fault specs into web faults and the rest, which are the register's. Web faults:
 * `task-slow-ms=500`, `drop-after-accept`, `http-500=2`, `http-500-after-accept`, `lose-results-after-run`,
 * `interrupt-task`, `error-after-run`; `@sell,sellReturn` limits one to requests holding those task types
 * (`drop-after-accept=2@sell`).
 */
export function splitWebFaultSpecs(specs: readonly string[]): { web: WebFaultSpec[]; register: string[] } {
  const web: WebFaultSpec[] = [];
  const register: string[] = [];
  for (const spec of specs) {
    const [head = '', types] = spec.split('@', 2);
    const [rawName = '', rawValue] = head.split('=', 2);
    const name = BY_CLI_NAME.get(rawName.trim()) ?? WEB_FAULT_NAMES.find((n) => n === rawName.trim());
    if (!name) {
      register.push(spec);
      continue;
    }
    const value = checkWebFault(name, rawValue === undefined ? WEB_FAULT_DEFAULTS[name] : Number(rawValue));
    const taskTypes = types
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    web.push({ name, value, ...(taskTypes?.length ? { taskTypes } : {}) });
  }
  return { web, register };
}
