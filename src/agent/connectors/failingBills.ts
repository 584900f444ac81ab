import { createHash } from 'node:crypto';
import { jitteredBackoffMs } from '../../lib/backoff.js';
import { errorCode, errorMessage } from '../../lib/errors.js';

/**
 * The bills of one connector that could not be taken (docs/bridge.md, "One bad bill"): each has its own
 * backoff, so a bill that answers 500 or hangs is tried again later without holding up the newer bills
 * behind it, and is an alert in `status` until it is taken. With the store attached (`attach`), the
 * failing bills outlive a restart, so a bill that keeps failing is not asked for again by every start. Also
 * remembers the bills already warned about as unreadable, so that a broken row is one warning, not one per
 * poll (in memory: after a restart a broken row is warned about once more).
 */

export interface BillRetrySchedule {
  /** The wait after a bill's first failure; doubled per failure, with jitter. */
  firstDelayMs: number;
  /** No wait is longer. */
  maxDelayMs: number;
}

/** One failing bill, as `status` and the alerts show it. */
export interface FailingBill {
  billId: string;
  /** The last failure's code and message. */
  code: string;
  message: string;
  /** The first failure since the bill was last taken. */
  since: string;
  failures: number;
  /** Not tried again before this. */
  nextTryAt: string;
}

/** Where a connector's failing bills are kept across restarts (the store's `failing_bills`, docs/storage.md). */
export interface FailingBillRecords {
  /** In the order of their last failure. */
  list(): FailingBill[];
  put(bill: FailingBill): void;
  delete(billIds: readonly string[]): void;
}

export interface BillFailureNote {
  bill: FailingBill;
  /** The first failure, or a failure with another code than the last one: worth a warning. */
  news: boolean;
}

/** At most this many failing bills and warned rows are remembered (the oldest are forgotten first). */
const MAX_REMEMBERED = 1000;

export class FailingBills {
  private readonly failing = new Map<string, FailingBill & { nextTryMs: number }>();
  /** Row id → the content last warned about. */
  private readonly warned = new Map<string, string>();
  private records: FailingBillRecords | undefined;

  constructor(
    private readonly schedule: BillRetrySchedule,
    private readonly now: () => Date,
  ) {}

  /** Takes up the failing bills `records` kept (an earlier run's), and keeps every change there from now on. */
  attach(records: FailingBillRecords): void {
    this.records = records;
    this.failing.clear();
    for (const bill of records.list()) {
      const nextTryMs = Date.parse(bill.nextTryAt);
      // A time that does not parse would never come: such a bill is due now.
      this.failing.set(bill.billId, { ...bill, nextTryMs: Number.isFinite(nextTryMs) ? nextTryMs : 0 });
    }
  }

  /** Whether the bill may be tried now (it is not failing, or its backoff has passed). */
  due(billId: string): boolean {
    const failing = this.failing.get(billId);
    return failing === undefined || failing.nextTryMs <= this.now().getTime();
  }

  /** Records a failure of the bill and sets its next try. */
  failed(billId: string, error: unknown): BillFailureNote {
    const now = this.now();
    const previous = this.failing.get(billId);
    const failures = (previous?.failures ?? 0) + 1;
    const delayMs = jitteredBackoffMs(failures - 1, this.schedule);
    const code = errorCode(error);
    const entry = {
      billId,
      code,
      message: errorMessage(error),
      since: previous?.since ?? now.toISOString(),
      failures,
      nextTryAt: new Date(now.getTime() + delayMs).toISOString(),
      nextTryMs: now.getTime() + delayMs,
    };
    // Delete first: the map's order is the order of last failure, so the stalest is forgotten first.
    this.failing.delete(billId);
    this.failing.set(billId, entry);
    const bill = publicOf(entry);
    const forgotten = trim(this.failing);
    this.records?.put(bill);
    this.records?.delete(forgotten);
    return { bill, news: previous?.code !== code };
  }

  /** The bill was taken: it is no longer failing. Returns what it was, if it was failing. */
  succeeded(billId: string): FailingBill | undefined {
    const entry = this.failing.get(billId);
    if (entry === undefined) return undefined;
    this.failing.delete(billId);
    this.records?.delete([billId]);
    return publicOf(entry);
  }

  /** Forgets failing bills the cloud no longer lists (paid elsewhere, deleted). */
  keepOnly(listed: ReadonlySet<string>): void {
    const gone = [...this.failing.keys()].filter((billId) => !listed.has(billId));
    for (const billId of gone) this.failing.delete(billId);
    this.records?.delete(gone);
    for (const rowId of this.warned.keys()) if (!listed.has(rowId)) this.warned.delete(rowId);
  }

  /**
   * A row that cannot be read as it stands: true the first time for this content (warn), false while it
   * stays the same (stay quiet). A changed row is news again.
   */
  firstWarning(rowId: string, content: string): boolean {
    if (this.warned.get(rowId) === content) return false;
    this.warned.delete(rowId);
    this.warned.set(rowId, content);
    trim(this.warned);
    return true;
  }

  list(): FailingBill[] {
    return [...this.failing.values()].map(publicOf).sort((a, b) => a.since.localeCompare(b.since));
  }

  get size(): number {
    return this.failing.size;
  }
}

function publicOf(entry: FailingBill & { nextTryMs: number }): FailingBill {
  const { nextTryMs: _nextTryMs, ...bill } = entry;
  return bill;
}

/** Forgets the oldest entries beyond MAX_REMEMBERED; returns their keys. */
function trim(map: Map<string, unknown>): string[] {
  const forgotten: string[] = [];
  while (map.size > MAX_REMEMBERED) {
    const oldest = map.keys().next().value as string;
    map.delete(oldest);
    forgotten.push(oldest);
  }
  return forgotten;
}

/** A short digest of a row as the cloud sent it: what `firstWarning` compares (the row itself is not kept). */
export function rowDigest(row: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(row) ?? String(row);
  } catch {
    text = String(row);
  }
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}
