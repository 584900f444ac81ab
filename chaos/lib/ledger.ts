import type { AtolEmulator, JournalEntry } from '../../src/emulators/atol/index.js';
import type { MockBridge } from '../../src/emulators/bridge/index.js';
import { billIdOfItemName } from '../../test/support/bridgeBills.js';

/**
 * The outside view the chaos suite judges by, never the agent's own word: fiscal documents as the register
 * made them (emulator `document` events; the bill is named in the first item) and reports as the cloud
 * received them (distinct report ids per bill: the bridge's `data.id`, MQTT's `eventId`).
 */

export interface Verdict {
  bills: number;
  fiscalDocuments: number;
  /** Extra fiscal documents for one bill (printed twice). */
  duplicateReceipts: number;
  /** Extra distinct reports for one bill (a report drafted twice; a redelivery of the same id is fine). */
  duplicateReports: number;
  duplicates: number;
  /** Bills without a fiscal document or without a delivered report at the end. */
  lost: number;
  /** Bills with at least one delivered report. */
  delivered: number;
  /** Receipts on the register that belong to no bill of the scenario. */
  foreignReceipts: number;
}

export class Ledger {
  readonly documents = new Map<string, JournalEntry[]>();
  readonly reports = new Map<string, Set<string>>();
  foreignReceipts = 0;

  attachEmulator(emulator: AtolEmulator): void {
    emulator.on('document', (entry) => {
      if (entry.kind !== 'receipt') return;
      const billId = billIdOfItemName(entry.items?.[0]?.name ?? '');
      if (billId === undefined) {
        this.foreignReceipts++;
        return;
      }
      const list = this.documents.get(billId) ?? [];
      list.push(entry);
      this.documents.set(billId, list);
    });
  }

  attachBridge(bridge: MockBridge): void {
    bridge.events.on('receipt', (receipt) => {
      const data = (receipt.body as { data?: { id?: unknown; extras?: { billId?: unknown } } }).data;
      if (typeof data?.id === 'string' && typeof data.extras?.billId === 'string') {
        this.report(data.extras.billId, data.id);
      }
    });
  }

  report(billId: string, reportId: string): void {
    const ids = this.reports.get(billId) ?? new Set<string>();
    ids.add(reportId);
    this.reports.set(billId, ids);
  }

  /** Receipts of the scenario's bills printed so far (duplicates included). */
  get totalPrinted(): number {
    let total = 0;
    for (const list of this.documents.values()) total += list.length;
    return total;
  }

  /** Documents printed plus reports received so far: grows while the agent makes progress. */
  get progress(): number {
    let reports = 0;
    for (const ids of this.reports.values()) reports += ids.size;
    return this.totalPrinted + reports;
  }

  printed(billId: string): number {
    return this.documents.get(billId)?.length ?? 0;
  }

  /** Every bill printed and reported at least once. */
  settled(billIds: readonly string[]): boolean {
    return billIds.every((id) => this.printed(id) > 0 && (this.reports.get(id)?.size ?? 0) > 0);
  }

  verdict(billIds: readonly string[]): Verdict {
    let fiscalDocuments = 0;
    let duplicateReceipts = 0;
    let duplicateReports = 0;
    let lost = 0;
    let delivered = 0;
    for (const id of billIds) {
      const printed = this.printed(id);
      const reported = this.reports.get(id)?.size ?? 0;
      fiscalDocuments += printed;
      duplicateReceipts += Math.max(0, printed - 1);
      duplicateReports += Math.max(0, reported - 1);
      if (printed === 0 || reported === 0) lost++;
      if (reported > 0) delivered++;
    }
    return {
      bills: billIds.length,
      fiscalDocuments,
      duplicateReceipts,
      duplicateReports,
      duplicates: duplicateReceipts + duplicateReports,
      lost,
      delivered,
      foreignReceipts: this.foreignReceipts,
    };
  }
}
