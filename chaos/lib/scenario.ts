import type { Verdict } from './ledger.js';

export interface ScenarioContext {
  quick: boolean;
  /** Seeded: the run's seed is printed so it can be replayed (`--seed`). */
  random: () => number;
  log: (text: string) => void;
}

/** One row of RELIABILITY.md. */
export interface ScenarioRow extends Verdict {
  scenario: string;
  runs: number;
  notes: string;
  /** Counts toward the goal (0 duplicates, 0 lost, all delivered); false only for the documented limit. */
  gated: boolean;
  error?: string;
}

export interface Scenario {
  name: string;
  title: string;
  /** What the scenario does, for RELIABILITY.md. */
  description: string;
  run(context: ScenarioContext): Promise<ScenarioRow[]>;
  /** Runs only when `--only` names it (a long soak kept out of the default and CI runs). */
  optIn?: boolean;
}

export function meetsGoal(row: ScenarioRow): boolean {
  return (
    row.error === undefined &&
    row.duplicates === 0 &&
    row.lost === 0 &&
    row.delivered === row.bills &&
    row.bills > 0
  );
}

export function emptyVerdict(bills: number): Verdict {
  return {
    bills,
    fiscalDocuments: 0,
    duplicateReceipts: 0,
    duplicateReports: 0,
    duplicates: 0,
    lost: bills,
    delivered: 0,
    foreignReceipts: 0,
  };
}

/** The row of a scenario that could not run (a tool missing, a broker that would not start…): all lost. */
export function notRunRow(scenario: string, bills: number, error: string): ScenarioRow {
  return { scenario, runs: 0, ...emptyVerdict(bills), gated: true, notes: '', error };
}

export function addVerdicts(a: Verdict, b: Verdict): Verdict {
  return {
    bills: a.bills + b.bills,
    fiscalDocuments: a.fiscalDocuments + b.fiscalDocuments,
    duplicateReceipts: a.duplicateReceipts + b.duplicateReceipts,
    duplicateReports: a.duplicateReports + b.duplicateReports,
    duplicates: a.duplicates + b.duplicates,
    lost: a.lost + b.lost,
    delivered: a.delivered + b.delivered,
    foreignReceipts: a.foreignReceipts + b.foreignReceipts,
  };
}

/** Picks one element at random. */
export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** A duration between `min` and `max` ms. */
export function between(random: () => number, min: number, max: number): number {
  return Math.round(min + random() * (max - min));
}

/** `1 kill`, `3 kills`. */
export function count(n: number, word: string, plural = `${word}s`): string {
  return `${n} ${n === 1 ? word : plural}`;
}
