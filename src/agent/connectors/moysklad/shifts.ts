import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { reportId } from '../../outbox/reportId.js';
import type { ConnectorStore } from '../types.js';

/**
 * The MoySklad side of the register's shifts: for each KKT shift, the syncId of the retail shift we opened
 * in posap (generated once, in the shift.opened report's draft, and recorded here once that draft is
 * journaled) and what `cheque.start` said. Documents
 * name the shift they were printed in by that syncId. Kept in the connector's store so it survives restarts;
 * the last `keepPerDevice` shifts of each register are kept.
 */

export const SHIFTS_STORE_KEY = 'shifts';

/** posap's `cheque.start` / `cheque.end`: strings, except the end's counters (B.5.2). */
export const shiftChequeSchema = z.strictObject({
  fnNumber: z.string().optional(),
  kktRegNumber: z.string().optional(),
  fiscalDocSign: z.string().optional(),
  shiftNumber: z.string(),
  fiscalDocNumber: z.string().optional(),
  time: z.string(),
});
export type ShiftCheque = z.infer<typeof shiftChequeSchema>;

export const shiftRecordSchema = z.strictObject({
  deviceId: z.string(),
  number: z.number().int().min(0),
  fnNumber: z.string().optional(),
  syncId: z.string(),
  state: z.enum(['open', 'closed']),
  /** posap `openmoment`. */
  openmoment: z.string(),
  openFiscalDocumentNumber: z.number().int().optional(),
  start: shiftChequeSchema,
  /** Receipts recorded in this shift (any source): `chequesTotal` when the register does not say. */
  receipts: z.number().int().min(0),
  /** Opened on our side because a document needed a shift MoySklad had not been told about. */
  adopted: z.boolean(),
  /**
   * False while MoySklad has not been told of the shift (adopted when a receipt was recorded): delivery
   * opens it there before its first document. Absent (records of older versions): told.
   */
  announced: z.boolean().optional(),
  closedAt: z.string().optional(),
});
export type ShiftRecord = z.infer<typeof shiftRecordSchema>;

const storedSchema = z.array(shiftRecordSchema).max(10_000);

export interface ShiftLookup {
  deviceId: string;
  number: number | undefined;
  fnNumber?: string | undefined;
}

export class ShiftRegistry {
  private records: ShiftRecord[] = [];
  private store: ConnectorStore | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private writeScheduled = false;
  lastWriteError: unknown;

  /** `owner`: the sink whose shifts these are (`moysklad:<account>`), part of every syncId named here. */
  constructor(
    private readonly keepPerDevice = 20,
    private readonly owner = '',
  ) {}

  /**
   * The syncId of the MoySklad shift of a KKT shift, named by the shift (its FN and number identify it for
   * good), so a store rebuilt after an SD-card swap tells MoySklad of the same shift again rather than of a
   * second one (docs/operations.md, "Replacing the SD card"). Without an FN number, a fresh one.
   */
  syncIdFor(shift: { fnNumber?: string | undefined; number: number }): string {
    return shift.fnNumber
      ? reportId(this.owner, 'moysklad.retailShift', shift.fnNumber, String(shift.number))
      : randomUUID();
  }

  /**
   * Loads what was persisted and keeps persisting from now on. Shifts recorded before (drafts that came
   * before the connector started) are newer than anything stored and win.
   */
  attach(store: ConnectorStore): void {
    this.store = store;
    const parsed = storedSchema.safeParse(store.get(SHIFTS_STORE_KEY));
    const stored = parsed.success ? parsed.data : [];
    const known = new Set(this.records.map((record) => record.syncId));
    this.records = [...stored.filter((record) => !known.has(record.syncId)), ...this.records];
    this.trim();
    if (this.dirty || known.size > 0) this.persist();
  }

  get all(): readonly ShiftRecord[] {
    return this.records;
  }

  /** The shift a document belongs to; with an FN number, a record of another FN does not match. */
  find(lookup: ShiftLookup): ShiftRecord | undefined {
    for (let i = this.records.length - 1; i >= 0; i--) {
      const record = this.records[i]!;
      if (record.deviceId !== lookup.deviceId) continue;
      if (lookup.number === undefined) {
        if (record.state === 'open') return record;
        continue;
      }
      if (record.number !== lookup.number) continue;
      if (lookup.fnNumber && record.fnNumber && lookup.fnNumber !== record.fnNumber) continue;
      return record;
    }
    return undefined;
  }

  bySyncId(syncId: string): ShiftRecord | undefined {
    return this.records.find((record) => record.syncId === syncId);
  }

  /** The latest open shift of each register. */
  current(): ShiftRecord[] {
    const latest = new Map<string, ShiftRecord>();
    for (const record of this.records) if (record.state === 'open') latest.set(record.deviceId, record);
    return [...latest.values()];
  }

  /** Records were loaded from the connector's store: the registry knows every shift it persisted. */
  get attached(): boolean {
    return this.store !== undefined;
  }

  /** A new MoySklad shift for a KKT shift: the syncId its open report carries (named if none), persisted. */
  open(input: Omit<ShiftRecord, 'syncId' | 'state' | 'receipts'> & { syncId?: string }): ShiftRecord {
    const record: ShiftRecord = {
      ...input,
      syncId: input.syncId ?? this.syncIdFor(input),
      state: 'open',
      receipts: 0,
    };
    this.records.push(record);
    this.trim();
    this.persist();
    return record;
  }

  close(record: ShiftRecord, closedAt: string): void {
    record.state = 'closed';
    record.closedAt = closedAt;
    this.persist();
  }

  /** MoySklad has been told of the shift (its open was delivered). */
  announce(record: ShiftRecord): void {
    if (record.announced !== false) return;
    delete record.announced;
    this.persist();
  }

  countReceipt(record: ShiftRecord): void {
    record.receipts++;
    this.persist();
  }

  /** Resolves once everything recorded so far is on disk (or the write failed: see lastWriteError). */
  async flush(): Promise<void> {
    if (this.dirty && !this.writeScheduled) this.persist();
    await this.writing;
    // A change recorded while that write ran went into the next write, chained onto `writing`.
    await this.writing;
  }

  private trim(): void {
    const counts = new Map<string, number>();
    const kept: ShiftRecord[] = [];
    for (let i = this.records.length - 1; i >= 0; i--) {
      const record = this.records[i]!;
      const count = counts.get(record.deviceId) ?? 0;
      if (count >= this.keepPerDevice) continue;
      counts.set(record.deviceId, count + 1);
      kept.unshift(record);
    }
    this.records = kept;
  }

  /** Coalesced: one write in flight, the next one carries everything that changed meanwhile. */
  private persist(): void {
    this.dirty = true;
    const store = this.store;
    if (!store || this.writeScheduled) return;
    this.writeScheduled = true;
    this.writing = this.writing.then(async () => {
      this.writeScheduled = false;
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await store.set(SHIFTS_STORE_KEY, structuredClone(this.records));
        this.lastWriteError = undefined;
      } catch (error) {
        this.lastWriteError = error;
        this.dirty = true;
      }
    });
  }
}
