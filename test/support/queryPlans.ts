import type { AgentDatabase } from '../../src/agent/store/database.js';

/**
 * The SQL statements `run` prepares through `db.statement`, each with SQLite's query plan (EXPLAIN QUERY PLAN,
 * parameters bound to NULL): what a test needs to say a read never walks a table that grows with receipts.
 */
export function queryPlansOf(db: AgentDatabase, run: () => void): Array<{ sql: string; plan: string }> {
  const statement = db.statement.bind(db);
  const used: string[] = [];
  db.statement = ((sql: string) => {
    used.push(sql);
    return statement(sql);
  }) as typeof db.statement;
  try {
    run();
  } finally {
    db.statement = statement;
  }
  return used.map((sql) => {
    const nulls = Array.from(sql.matchAll(/\?/g), () => null);
    const rows = statement(`EXPLAIN QUERY PLAN ${sql}`).all(...nulls) as Array<{ detail: string }>;
    return { sql, plan: rows.map((row) => row.detail).join('; ') };
  });
}
