import { z } from 'zod';
import { type ErrorCode, ValidationError } from '../../lib/errors.js';
import type { AgentDatabase } from '../store/database.js';
import { StoreRecordError } from '../store/storeErrors.js';

/**
 * Links between jobs, in the `job_links` table (docs/storage.md, "Links"; docs/fiscalization.md, "Links"):
 *
 * - `return`: a return (or return correction) → the job whose receipt it returns, with its quantities;
 * - `correction`: a correction → the job whose settlement or receipt it corrects;
 * - the ledger of an order, keyed `source/account/order`: `advance` (money taken before hand-over),
 *   `advanceReturn` (an advance given back), `offset` (a final receipt's prepaid payment, tag 1215),
 *   `credit` (goods handed over on credit, tag 1216) and `creditPayment` (a credit repaid, tag 1214 = 7).
 *
 * What a link may take is checked in the transaction that writes it, against what the table holds at that
 * moment, so two requests racing each other can never both pass: a return never returns more than was
 * sold, a final receipt never offsets more than was prepaid, a repayment never repays more than was lent.
 * Money in counts once its receipt is printed (FISCALIZED or REPORTED); money out counts from the moment
 * its job exists, unless it FAILED (then nothing was printed and the amount is free again).
 */

export const LINK_KINDS = [
  'return',
  'correction',
  'advance',
  'advanceReturn',
  'offset',
  'credit',
  'creditPayment',
] as const;
export type LinkKind = (typeof LINK_KINDS)[number];

/** A returned position: where it is in the return's bill, which position of the original it returns. */
export interface ReturnLine {
  /** The position's index in the return's own bill (for errors). */
  index: number;
  /** The index of the returned position in the original job's bill. */
  position: number;
  quantityMilli: number;
  amountMinor: number;
}

export interface JobLink {
  jobId: string;
  kind: LinkKind;
  /** A job id (`return`, `correction`) or an order key (the ledger kinds). */
  target: string;
  amountMinor: number;
  lines?: ReturnLine[];
}

/** What the original receipt holds, for a return's check: its total and each position's quantity. */
export interface ReturnLimit {
  totalMinor: number;
  /** Per position of the original bill (absent when retention has dropped the bill: totals only). */
  positions?: Array<{ name: string; quantityMilli: number }>;
}

export interface JobLinkInput extends Omit<JobLink, 'jobId'> {
  /** `return` only: what the original sold. */
  limit?: ReturnLimit;
}

/** A link would take more than its target holds. Nothing was written, nothing prints. */
export class LinkLimitError extends ValidationError {
  constructor(code: ErrorCode, field: string, reason: string, details: Record<string, unknown> = {}) {
    super(field, reason, details, code);
  }
}

/** The money-in kind each ledger kind draws on. */
const DRAWS_ON: Partial<Record<LinkKind, { income: LinkKind; spending: LinkKind[] }>> = {
  advanceReturn: { income: 'advance', spending: ['advanceReturn', 'offset'] },
  offset: { income: 'advance', spending: ['advanceReturn', 'offset'] },
  creditPayment: { income: 'credit', spending: ['creditPayment'] },
};

const LIMIT_ERRORS: Partial<Record<LinkKind, { code: ErrorCode; field: string; what: string }>> = {
  advanceReturn: {
    code: 'ADVANCE_RETURN_EXCEEDS_PREPAID',
    field: 'totalMinor',
    what: 'returns an advance of',
  },
  offset: { code: 'OFFSET_EXCEEDS_PREPAID', field: 'payments', what: 'offsets a prepayment of' },
  creditPayment: {
    code: 'CREDIT_PAYMENT_EXCEEDS_CREDIT',
    field: 'totalMinor',
    what: 'repays a credit of',
  },
};

const lineSchema = z.object({
  index: z.number().int().min(0),
  position: z.number().int().min(0),
  quantityMilli: z.number().int().min(0),
  amountMinor: z.number().int().min(0),
});

interface LinkRow {
  job_id: string;
  kind: LinkKind;
  target: string;
  amount_minor: number;
  lines: string | null;
}

function fromRow(db: AgentDatabase, row: LinkRow): JobLink {
  let lines: ReturnLine[] | undefined;
  if (row.lines !== null) {
    const parsed = z.array(lineSchema).safeParse(JSON.parse(row.lines));
    if (!parsed.success) {
      throw new StoreRecordError(db.path, 'job_links', `${row.job_id}/${row.kind}`, parsed.error.message);
    }
    lines = parsed.data;
  }
  return {
    jobId: row.job_id,
    kind: row.kind,
    target: row.target,
    amountMinor: row.amount_minor,
    ...(lines ? { lines } : {}),
  };
}

const PRINTED = "('FISCALIZED', 'REPORTED')";

/** Σ amounts of links of `kinds` to `target`, other than `exceptJob`'s: money in (printed), money out (not failed). */
function sumOf(
  db: AgentDatabase,
  target: string,
  kinds: LinkKind[],
  income: boolean,
  exceptJob: string,
): number {
  const states = income ? `j.state IN ${PRINTED}` : "j.state <> 'FAILED'";
  const sum = db
    .statement(
      `SELECT coalesce(sum(l.amount_minor), 0) FROM job_links l JOIN jobs j ON j.id = l.job_id
       WHERE l.target = ? AND l.kind IN (${kinds.map(() => '?').join(', ')}) AND ${states} AND l.job_id <> ?`,
    )
    .pluck()
    .get(target, ...kinds, exceptJob);
  return Number(sum);
}

function checkReturn(db: AgentDatabase, jobId: string, link: JobLinkInput): void {
  const limit = link.limit;
  if (!limit) return;
  const earlier = (
    db
      .statement(
        `SELECT l.job_id, l.kind, l.target, l.amount_minor, l.lines FROM job_links l JOIN jobs j ON j.id = l.job_id
         WHERE l.target = ? AND l.kind = 'return' AND j.state <> 'FAILED' AND l.job_id <> ?`,
      )
      .all(link.target, jobId) as LinkRow[]
  ).map((row) => fromRow(db, row));
  const returnedMinor = earlier.reduce((sum, l) => sum + l.amountMinor, 0);
  if (returnedMinor + link.amountMinor > limit.totalMinor) {
    throw new LinkLimitError(
      'RETURN_EXCEEDS_SALE',
      'totalMinor',
      `the return is ${link.amountMinor}, but the receipt of job ${link.target} was ${limit.totalMinor} and ` +
        `${returnedMinor} of it has been returned already (${earlier.length} earlier return(s))`,
      { original: link.target, returnedMinor, totalMinor: limit.totalMinor },
    );
  }
  if (!limit.positions) return;
  for (const line of link.lines ?? []) {
    const sold = limit.positions[line.position];
    if (sold === undefined) {
      throw new LinkLimitError(
        'RETURN_EXCEEDS_SALE',
        `positions[${line.index}]`,
        `returns position ${line.position} of job ${link.target}, which has ${limit.positions.length} position(s)`,
      );
    }
    const returned = earlier
      .flatMap((l) => l.lines ?? [])
      .filter((l) => l.position === line.position)
      .reduce((sum, l) => sum + l.quantityMilli, 0);
    if (returned + line.quantityMilli > sold.quantityMilli) {
      throw new LinkLimitError(
        'RETURN_EXCEEDS_SALE',
        `positions[${line.index}].quantityMilli`,
        `returns ${line.quantityMilli} thousandths of "${sold.name}", but the receipt of job ${link.target} sold ` +
          `${sold.quantityMilli} and ${returned} were returned already`,
        {
          original: link.target,
          position: line.position,
          soldMilli: sold.quantityMilli,
          returnedMilli: returned,
        },
      );
    }
  }
}

/**
 * A settlement that was never receipted (its job is not printed) is corrected once: a second correction
 * (not FAILED) of the same job would receipt the same money twice.
 */
function checkCorrection(db: AgentDatabase, jobId: string, link: Pick<JobLink, 'target'>): void {
  const target = db.statement('SELECT state FROM jobs WHERE id = ?').pluck().get(link.target);
  if (target === 'FISCALIZED' || target === 'REPORTED') return;
  const earlier = db
    .statement(
      `SELECT l.job_id FROM job_links l JOIN jobs j ON j.id = l.job_id
       WHERE l.target = ? AND l.kind = 'correction' AND j.state <> 'FAILED' AND l.job_id <> ?`,
    )
    .pluck()
    .all(link.target, jobId) as string[];
  if (earlier.length > 0) {
    throw new LinkLimitError(
      'SETTLEMENT_ALREADY_CORRECTED',
      'relatesTo.jobId',
      `the settlement of job ${link.target} was never receipted and is corrected already by job ${earlier[0]}`,
      { original: link.target, corrections: earlier },
    );
  }
}

function checkLedger(
  db: AgentDatabase,
  jobId: string,
  link: Pick<JobLink, 'kind' | 'target' | 'amountMinor'>,
) {
  const rule = DRAWS_ON[link.kind];
  const error = LIMIT_ERRORS[link.kind];
  if (!rule || !error) return;
  const inMinor = sumOf(db, link.target, [rule.income], true, jobId);
  const outMinor = sumOf(db, link.target, rule.spending, false, jobId);
  const available = inMinor - outMinor;
  if (link.amountMinor > available) {
    const [, , order] = splitOrderKey(link.target);
    throw new LinkLimitError(
      error.code,
      error.field,
      `the receipt ${error.what} ${link.amountMinor}, but order "${order}" holds ${Math.max(0, available)} ` +
        `(${inMinor} in, ${outMinor} used or pending)`,
      { order: link.target, inMinor, outMinor },
    );
  }
}

/** `source/account/order`: the ledger's key of an order (an order id may itself contain slashes). */
export function orderKey(source: string, account: string, order: string): string {
  return `${source}/${account}/${order}`;
}

function splitOrderKey(key: string): [string, string, string] {
  const [source = '', account = '', ...rest] = key.split('/');
  return [source, account, rest.join('/')];
}

/**
 * Inside a store transaction: replaces `jobId`'s links with `links`, after checking each against what the
 * table holds now. Throws `LinkLimitError` (the transaction rolls back) when one would take too much.
 */
export function writeLinks(db: AgentDatabase, jobId: string, links: readonly JobLinkInput[]): void {
  db.statement('DELETE FROM job_links WHERE job_id = ?').run(jobId);
  for (const link of links) {
    if (link.kind === 'return') checkReturn(db, jobId, link);
    else if (link.kind === 'correction') checkCorrection(db, jobId, link);
    else checkLedger(db, jobId, link);
    db.statement(
      'INSERT INTO job_links (job_id, kind, target, amount_minor, lines) VALUES (?, ?, ?, ?, ?)',
    ).run(jobId, link.kind, link.target, link.amountMinor, link.lines ? JSON.stringify(link.lines) : null);
  }
}

/**
 * Inside a store transaction: checks the ledger links of a job that is leaving FAILED (its amounts were
 * free while it was failed, and may have been taken meanwhile).
 */
export function recheckLedgerLinks(db: AgentDatabase, jobId: string): void {
  for (const link of linksFrom(db, jobId)) checkLedger(db, jobId, link);
}

function linksFrom(db: AgentDatabase, jobId: string): JobLink[] {
  return (
    db
      .statement('SELECT job_id, kind, target, amount_minor, lines FROM job_links WHERE job_id = ?')
      .all(jobId) as LinkRow[]
  ).map((row) => fromRow(db, row));
}

/** Reading the links: `jobs show`, the state document, the refund and correction commands. */
export class JobLinks {
  constructor(private readonly db: AgentDatabase) {}

  /** The links a job made (to the receipt it returns or corrects, to its order). */
  from(jobId: string): JobLink[] {
    return this.db.read(() => linksFrom(this.db, jobId));
  }

  /** The links made to a job or an order key (its returns, corrections; an order's ledger). */
  to(target: string): JobLink[] {
    return this.db.read(() =>
      (
        this.db
          .statement(
            `SELECT l.job_id, l.kind, l.target, l.amount_minor, l.lines FROM job_links l
             JOIN jobs j ON j.id = l.job_id WHERE l.target = ? ORDER BY j.seq`,
          )
          .all(target) as LinkRow[]
      ).map((row) => fromRow(this.db, row)),
    );
  }

  /** Links per kind, for the state document. */
  countByKind(): Record<LinkKind, number> {
    const counts = Object.fromEntries(LINK_KINDS.map((kind) => [kind, 0])) as Record<LinkKind, number>;
    const rows = this.db.read(
      () =>
        // Kept by triggers (schema version 7): links are never pruned, so counting them would grow with years.
        this.db.statement('SELECT kind, n FROM job_link_counts WHERE n > 0').all() as Array<{
          kind: LinkKind;
          n: number;
        }>,
    );
    for (const { kind, n } of rows) counts[kind] = n;
    return counts;
  }

  /** What an order's ledger holds: advances printed less what was returned or offset, and credit outstanding. */
  orderBalance(key: string): { prepaidMinor: number; creditMinor: number } {
    return this.db.read(() => ({
      prepaidMinor:
        sumOf(this.db, key, ['advance'], true, '') -
        sumOf(this.db, key, ['advanceReturn', 'offset'], false, ''),
      creditMinor:
        sumOf(this.db, key, ['credit'], true, '') - sumOf(this.db, key, ['creditPayment'], false, ''),
    }));
  }
}
