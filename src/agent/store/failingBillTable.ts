import type { AgentDatabase } from './database.js';

/** One bill a cloud listed that could not be taken, as `failing_bills` keeps it (docs/storage.md). */
export interface FailingBillRow {
  billId: string;
  code: string;
  message: string;
  since: string;
  failures: number;
  nextTryAt: string;
}

interface Row {
  bill_id: string;
  code: string;
  message: string;
  since: string;
  failures: number;
  next_try_at: string;
}

/**
 * The failing bills of one connector in the store, so that their backoff outlives a restart. Its writes are
 * not fsync'd on their own (the next durable commit carries them): a record lost in a power cut means the
 * bill is asked for once more, the behaviour before it was kept at all.
 */
export class FailingBillTable {
  constructor(
    private readonly db: AgentDatabase,
    private readonly connector: string,
  ) {}

  /** In the order of their last failure. */
  list(): FailingBillRow[] {
    const rows = this.db.read(
      () =>
        this.db
          .statement(
            `SELECT bill_id, code, message, since, failures, next_try_at FROM failing_bills
             WHERE connector = ? ORDER BY next_try_at`,
          )
          .all(this.connector) as Row[],
    );
    return rows.map((row) => ({
      billId: row.bill_id,
      code: row.code,
      message: row.message,
      since: row.since,
      failures: row.failures,
      nextTryAt: row.next_try_at,
    }));
  }

  put(bill: FailingBillRow): void {
    this.db.write(
      'failing-bill',
      () => {
        this.db
          .statement(
            `INSERT INTO failing_bills (connector, bill_id, code, message, since, failures, next_try_at)
             VALUES (@connector, @billId, @code, @message, @since, @failures, @nextTryAt)
             ON CONFLICT (connector, bill_id) DO UPDATE SET code = excluded.code, message = excluded.message,
             since = excluded.since, failures = excluded.failures, next_try_at = excluded.next_try_at`,
          )
          .run({ connector: this.connector, ...bill });
      },
      { durable: false },
    );
  }

  delete(billIds: readonly string[]): void {
    if (billIds.length === 0) return;
    this.db.write(
      'failing-bill',
      () => {
        const statement = this.db.statement('DELETE FROM failing_bills WHERE connector = ? AND bill_id = ?');
        for (const billId of billIds) statement.run(this.connector, billId);
      },
      { durable: false },
    );
  }

  /** Forgets the failing bills of connectors no longer configured; writes only when there are any. */
  static keepConnectors(db: AgentDatabase, connectors: readonly string[]): void {
    const stored = db.read(
      () => db.statement('SELECT DISTINCT connector FROM failing_bills').pluck().all() as string[],
    );
    const gone = stored.filter((name) => !connectors.includes(name));
    if (gone.length === 0) return;
    db.write(
      'failing-bill',
      () => {
        for (const name of gone) db.statement('DELETE FROM failing_bills WHERE connector = ?').run(name);
      },
      { durable: false },
    );
  }
}
