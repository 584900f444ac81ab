import type { AgentDatabase } from './database.js';

/**
 * Where the store came from (`store_origin`, docs/storage.md "Rebuilding from the register"). A store
 * created empty, or one a technician declared lost (`kkt-agent recover --from-register`), is rebuilt from
 * the registers' fiscal storage before any bill is taken; one imported from an older agent's journals, or
 * upgraded from an earlier schema, is trusted as it is.
 */
export type StoreOrigin = 'new' | 'imported' | 'upgraded' | 'declared-lost';
export type RebuildState = 'pending' | 'done' | 'not-needed';

export interface StoreOriginRecord {
  origin: StoreOrigin;
  rebuild: RebuildState;
  /** When the origin was set (the store's creation, an import, a declaration). */
  at: string;
  note?: string;
}

interface OriginRow {
  origin: StoreOrigin;
  rebuild: RebuildState;
  at: string;
  note: string | null;
}

export function readStoreOrigin(db: AgentDatabase): StoreOriginRecord {
  const row = db.read(
    () =>
      db.statement('SELECT origin, rebuild, at, note FROM store_origin WHERE id = 1').get() as
        | OriginRow
        | undefined,
  );
  // The row is made with the table; a database without it was changed by hand: treat it as trusted.
  if (row === undefined) return { origin: 'upgraded', rebuild: 'not-needed', at: '' };
  return { origin: row.origin, rebuild: row.rebuild, at: row.at, ...(row.note ? { note: row.note } : {}) };
}

/** Sets the origin in its own transaction, or inside the caller's. */
export function writeStoreOrigin(db: AgentDatabase, record: StoreOriginRecord): void {
  db.write('store-origin', () => {
    db.statement(
      `INSERT INTO store_origin (id, origin, rebuild, at, note) VALUES (1, @origin, @rebuild, @at, @note)
       ON CONFLICT (id) DO UPDATE SET origin = excluded.origin, rebuild = excluded.rebuild, at = excluded.at,
       note = excluded.note`,
    ).run({ ...record, note: record.note ?? null });
  });
}

/** An import from an older agent's journals: that agent's history is the store's, nothing to rebuild. */
export function markImported(db: AgentDatabase, at: string): void {
  db.write('store-origin', () => {
    db.statement(
      "UPDATE store_origin SET origin = 'imported', rebuild = 'not-needed', at = ? WHERE id = 1 AND origin = 'new'",
    ).run(at);
  });
}
