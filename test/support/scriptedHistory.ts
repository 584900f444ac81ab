import type { FiscalData, Job } from '../../src/agent/jobs/job.js';
import type {
  HistoryDocument,
  HistoryHead,
  PrintedReceipt,
  ReceiptHistory,
} from '../../src/agent/jobs/receiptHistory.js';

/**
 * A register's fiscal storage as a list of documents, for tests of the rebuild: shift reports and receipts
 * at given times, read back one at a time (counted), optionally failing once at a given number.
 */
export class ScriptedHistory implements ReceiptHistory {
  readonly documents: HistoryDocument[] = [];
  reads: number[] = [];
  failOnceAt: number | undefined;
  fnSerial: string;
  /** The register's factory serial; `null`: a device that does not tell it. */
  registerSerial: string | null;
  private readonly startMs: number;

  constructor(options: { fnSerial?: string; registerSerial?: string | null; start?: string } = {}) {
    this.fnSerial = options.fnSerial ?? '9999078900007317';
    this.registerSerial = options.registerSerial === undefined ? '00555000000001' : options.registerSerial;
    this.startMs = Date.parse(options.start ?? '2026-11-16T09:00:00+03:00');
  }

  get last(): number {
    return this.documents.length;
  }

  private at(hoursFromStart: number): string {
    const at = new Date(this.startMs + hoursFromStart * 3_600_000);
    // The register's clock in Moscow (+03:00), as ATOL reports it.
    return `${new Date(at.getTime() + 3 * 3_600_000).toISOString().slice(0, 19)}+03:00`;
  }

  add(kind: HistoryDocument['kind'], hoursFromStart: number): HistoryDocument {
    const document: HistoryDocument = { number: this.last + 1, kind, dateTime: this.at(hoursFromStart) };
    this.documents.push(document);
    return document;
  }

  /** A receipt of ours for a job, with the FN's word on its total and positions (or a changed one). */
  addReceipt(job: Job, hoursFromStart: number, change: Partial<PrintedReceipt> = {}): PrintedReceipt {
    const document = this.add('receipt', hoursFromStart);
    const bill = job.bill!;
    const fiscal: FiscalData = {
      deviceId: job.deviceId,
      deviceKind: 'atol',
      fiscalDocumentNumber: document.number,
      fiscalSign: String(3_000_000_000 + document.number),
      dateTime: document.dateTime!,
      dateTimeUtc: new Date(Date.parse(document.dateTime!)).toISOString().replace(/\.\d+Z$/, '.000Z'),
      shiftNumber: 1,
      receiptNumber: String(document.number),
      fnNumber: this.fnSerial,
      totalMinor: bill.totalMinor,
    };
    const receipt: PrintedReceipt = {
      deviceId: job.deviceId,
      fnSerial: this.fnSerial,
      documentNumber: document.number,
      marker: job.id,
      operation: job.operation,
      totalMinor: bill.totalMinor,
      positions: bill.positions.map((p) => ({
        priceMinor: p.priceMinor,
        quantityMilli: p.quantityMilli,
        amountMinor: p.amountMinor,
      })),
      fiscal,
      ...change,
    };
    document.receipt = receipt;
    return receipt;
  }

  /** A day of the shop: the shift opens, `receipts` foreign receipts (no marker), the shift closes. */
  addDay(dayFromStart: number, receipts: number): void {
    const base = dayFromStart * 24;
    this.add('shift-open', base);
    for (let i = 0; i < receipts; i++) this.add('receipt', base + 1 + (i * 10) / Math.max(receipts, 1));
    this.add('shift-close', base + 12);
  }

  async head(): Promise<HistoryHead> {
    return {
      fnSerial: this.fnSerial,
      lastDocumentNumber: this.last,
      ...(this.registerSerial === null ? {} : { registerSerial: this.registerSerial }),
    };
  }

  async read(documentNumber: number): Promise<HistoryDocument> {
    if (this.failOnceAt === documentNumber) {
      this.failOnceAt = undefined;
      throw new Error('the register went away');
    }
    this.reads.push(documentNumber);
    const document = this.documents[documentNumber - 1];
    if (!document) throw new Error(`no document ${documentNumber}`);
    return document;
  }
}
