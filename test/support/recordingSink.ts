import { randomUUID } from 'node:crypto';
import type { AgentEvent, OutboxDraft, OutboxEntry, ReportSink } from '../../src/agent/outbox/sink.js';

/** A sink for tests: drafts one report per fiscalized job with a random id, records every delivery attempt. */
export class RecordingSink implements ReportSink {
  attempts: OutboxEntry[] = [];
  delivered: OutboxEntry[] = [];
  /** Decides each attempt: undefined delivers, an Error fails it. */
  behaviour: (entry: OutboxEntry, attempt: number) => Error | undefined = () => undefined;

  constructor(readonly name = 'test') {}

  draft(event: AgentEvent): OutboxDraft[] {
    if (event.type === 'job.fiscalized') {
      return [
        {
          kind: 'receipt',
          jobId: event.job.id,
          payload: { reportId: randomUUID(), fd: event.job.fiscal?.fiscalDocumentNumber },
        },
      ];
    }
    if (event.type === 'job.failed')
      return [{ kind: 'rejection', jobId: event.job.id, payload: { reason: event.job.failure?.code } }];
    if (event.type === 'shift.opened' || event.type === 'shift.closed') {
      return [{ kind: event.type, payload: { shift: event.shift.shiftNumber } }];
    }
    return [];
  }

  async deliver(entry: OutboxEntry): Promise<void> {
    this.attempts.push(entry);
    const failure = this.behaviour(entry, this.attempts.filter((a) => a.id === entry.id).length);
    if (failure) throw failure;
    this.delivered.push(entry);
  }
}
