import type { AgentEvent, OutboxDraft, OutboxEntry, ReportSink } from '../../outbox/sink.js';
import type { ConnectorPart, ConnectorRuntime } from '../runtime.js';
import type { MoyskladDelivery } from './delivery.js';
import type { MoyskladDrafts } from './drafts.js';
import type { ShiftRegistry } from './shifts.js';

/**
 * The sink of one MoySklad store: shifts and receipts reported back through posap 1.0, drafted once with
 * their syncIds (drafts.ts) and delivered in FIFO order (delivery.ts), so MoySklad sees "shift open →
 * documents → shift close" even after hours offline. It keeps the registry of the register's shifts.
 */
export class MoyskladSink implements ReportSink, ConnectorPart {
  readonly name: string;

  constructor(
    private readonly runtime: ConnectorRuntime,
    private readonly shifts: ShiftRegistry,
    private readonly drafts: MoyskladDrafts,
    private readonly delivery: MoyskladDelivery,
  ) {
    this.name = runtime.name;
  }

  /** Before anything awaits: drafts made from now on see the persisted shifts. */
  open(): void {
    const store = this.runtime.startedContext?.store;
    if (store) this.shifts.attach(store);
  }

  async stop(): Promise<void> {
    await this.shifts.flush();
  }

  status(): Record<string, unknown> {
    return {
      shifts: this.shifts.current().map((record) => ({
        deviceId: record.deviceId,
        number: record.number,
        syncId: record.syncId,
        openmoment: record.openmoment,
        receipts: record.receipts,
        adopted: record.adopted,
      })),
    };
  }

  draft(event: AgentEvent): OutboxDraft[] {
    return this.drafts.draft(event);
  }

  recorded(event: AgentEvent, drafts: readonly OutboxDraft[]): void {
    this.drafts.recorded(event, drafts);
  }

  deliver(entry: OutboxEntry): Promise<void> {
    return this.delivery.deliver(entry);
  }
}
