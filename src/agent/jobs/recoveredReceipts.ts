import { z } from 'zod';
import { parseWithSchema } from '../../lib/json.js';
import type { AgentDatabase } from '../store/database.js';
import { StoreRecordError } from '../store/storeErrors.js';
import { fiscalDataSchema } from './jobSchema.js';
import type { PrintedReceipt } from './receiptHistory.js';

/**
 * The tables a rebuild writes (docs/storage.md, "Rebuilding from the register"): receipts of ours found on
 * a register (`recovered_receipts`, taken by the job whose marker they carry), how far each register's
 * documents are accounted for (`fn_watermarks`) and how each device's rebuild ended (`recovery_devices`).
 * SQL only; `Recovery` decides.
 */

const int = z.number().int();
const receiptSchema = z.looseObject({
  deviceId: z.string(),
  fnSerial: z.string(),
  documentNumber: int,
  marker: z.string(),
  operation: z.enum(['sell', 'sellReturn', 'other']).optional(),
  totalMinor: int.optional(),
  positions: z
    .array(
      z.looseObject({
        priceMinor: int.optional(),
        quantityMilli: int.optional(),
        amountMinor: int.optional(),
      }),
    )
    .optional(),
  fiscal: fiscalDataSchema,
});

export interface RecoveredReceipt extends PrintedReceipt {
  foundAt: string;
  /** The job that took it, once one has. */
  jobId?: string;
}

interface ReceiptRow {
  fn_serial: string;
  document_number: number;
  found_at: string;
  receipt: string;
  job_id: string | null;
}

export type DeviceRecoveryState = 'done' | 'unreadable' | 'confirmed';

/** How far a device's documents are accounted for, and on which FN and register. */
export interface FnWatermark {
  fnSerial: string;
  documentNumber: number;
  /** The register's factory serial; absent when not known (a watermark of an older version). */
  registerSerial?: string;
}

export interface DeviceRecoveryRecord {
  deviceId: string;
  state: DeviceRecoveryState;
  at: string;
  detail: Record<string, unknown>;
}

export class RecoveredReceipts {
  constructor(private readonly db: AgentDatabase) {}

  private fromRow(row: ReceiptRow): RecoveredReceipt {
    let receipt: PrintedReceipt;
    try {
      receipt = parseWithSchema(receiptSchema, JSON.parse(row.receipt)) as PrintedReceipt;
    } catch (error) {
      throw new StoreRecordError(
        this.db.path,
        'recovered_receipts',
        `${row.fn_serial}/${row.document_number}`,
        (error as Error).message,
      );
    }
    return { ...receipt, foundAt: row.found_at, ...(row.job_id === null ? {} : { jobId: row.job_id }) };
  }

  /** Records receipts found on a register (a second sighting of one changes nothing). Joins the caller's write. */
  insertWithin(receipts: readonly PrintedReceipt[], foundAt: string): number {
    let inserted = 0;
    const statement = this.db.statement(
      `INSERT INTO recovered_receipts (fn_serial, document_number, device_id, marker, found_at, receipt)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    for (const receipt of receipts) {
      inserted += statement.run(
        receipt.fnSerial,
        receipt.documentNumber,
        receipt.deviceId,
        receipt.marker,
        foundAt,
        JSON.stringify(receipt),
      ).changes;
    }
    return inserted;
  }

  /** Every receipt found with this marker, the newest first. */
  withMarker(marker: string): RecoveredReceipt[] {
    const rows = this.db.read(
      () =>
        this.db
          .statement(
            `SELECT fn_serial, document_number, found_at, receipt, job_id FROM recovered_receipts
             WHERE marker = ? ORDER BY found_at DESC, document_number DESC`,
          )
          .all(marker) as ReceiptRow[],
    );
    return rows.map((row) => this.fromRow(row));
  }

  /** Gives the receipt to a job. Joins the caller's write (the job's FISCALIZED commits with it). */
  claimWithin(receipt: Pick<PrintedReceipt, 'fnSerial' | 'documentNumber'>, jobId: string): void {
    this.db
      .statement('UPDATE recovered_receipts SET job_id = ? WHERE fn_serial = ? AND document_number = ?')
      .run(jobId, receipt.fnSerial, receipt.documentNumber);
  }

  counts(): { found: number; taken: number } {
    const row = this.db.read(
      () =>
        this.db
          .statement('SELECT count(*) AS found, count(job_id) AS taken FROM recovered_receipts')
          .get() as {
          found: number;
          taken: number;
        },
    );
    return { found: row.found, taken: row.taken };
  }

  /** Retention: receipts found before `cutoffIso` go (taken or not: a bill that never came back by then won't). */
  deleteFoundBefore(cutoffIso: string, batchSize = 500): number {
    return this.db.write(
      'recovered-retention',
      () =>
        this.db
          .statement(
            `DELETE FROM recovered_receipts WHERE rowid IN (SELECT rowid FROM recovered_receipts
             WHERE found_at < ? LIMIT ?)`,
          )
          .run(cutoffIso, batchSize).changes,
    );
  }

  watermark(deviceId: string): FnWatermark | undefined {
    const row = this.db.read(
      () =>
        this.db
          .statement(
            'SELECT fn_serial, document_number, register_serial FROM fn_watermarks WHERE device_id = ?',
          )
          .get(deviceId) as
          | { fn_serial: string; document_number: number; register_serial: string | null }
          | undefined,
    );
    return (
      row && {
        fnSerial: row.fn_serial,
        documentNumber: row.document_number,
        ...(row.register_serial === null ? {} : { registerSerial: row.register_serial }),
      }
    );
  }

  /** Records which register a device's watermark was read on, once it is known. Joins the caller's write. */
  setRegisterWithin(deviceId: string, registerSerial: string): void {
    this.db
      .statement('UPDATE fn_watermarks SET register_serial = ? WHERE device_id = ?')
      .run(registerSerial, deviceId);
  }

  /**
   * A technician took another register for a device: its watermark is that register's, at `documentNumber`
   * (0: every document of its FN is read back at the next start). Joins the caller's write.
   */
  replaceWatermarkWithin(deviceId: string, watermark: FnWatermark, at: string): void {
    this.db
      .statement(
        `INSERT INTO fn_watermarks (device_id, fn_serial, document_number, at, register_serial)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (device_id) DO UPDATE SET fn_serial = excluded.fn_serial,
           document_number = excluded.document_number, at = excluded.at,
           register_serial = excluded.register_serial`,
      )
      .run(deviceId, watermark.fnSerial, watermark.documentNumber, at, watermark.registerSerial ?? null);
  }

  /**
   * Moves a device's watermark: forward on the same FN, to any number on another FN (a replaced FN counts
   * afresh). Joins the caller's write.
   */
  advanceWatermarkWithin(deviceId: string, fnSerial: string, documentNumber: number, at: string): void {
    this.db
      .statement(
        `INSERT INTO fn_watermarks (device_id, fn_serial, document_number, at) VALUES (?, ?, ?, ?)
         ON CONFLICT (device_id) DO UPDATE SET fn_serial = excluded.fn_serial,
           document_number = excluded.document_number, at = excluded.at
         WHERE fn_watermarks.fn_serial <> excluded.fn_serial
           OR fn_watermarks.document_number < excluded.document_number`,
      )
      .run(deviceId, fnSerial, documentNumber, at);
  }

  deviceRecords(): DeviceRecoveryRecord[] {
    const rows = this.db.read(
      () =>
        this.db.statement('SELECT device_id, state, at, detail FROM recovery_devices').all() as Array<{
          device_id: string;
          state: DeviceRecoveryState;
          at: string;
          detail: string;
        }>,
    );
    return rows.map((row) => ({
      deviceId: row.device_id,
      state: row.state,
      at: row.at,
      detail: JSON.parse(row.detail) as Record<string, unknown>,
    }));
  }

  setDeviceWithin(record: DeviceRecoveryRecord): void {
    this.db
      .statement(
        `INSERT INTO recovery_devices (device_id, state, at, detail) VALUES (?, ?, ?, ?)
         ON CONFLICT (device_id) DO UPDATE SET state = excluded.state, at = excluded.at, detail = excluded.detail`,
      )
      .run(record.deviceId, record.state, record.at, JSON.stringify(record.detail));
  }

  /** A new declaration starts every device's rebuild afresh. Joins the caller's write. */
  clearDevicesWithin(): void {
    this.db.statement('DELETE FROM recovery_devices').run();
  }
}
