import { join } from 'node:path';
import { z } from 'zod';
import { parseWithSchema } from '../../lib/json.js';
import { JsonlJournal } from '../store/journal.js';

/** What a command answered: the result, or an error naming its code (and field, for validation errors). */
export type CommandAnswer =
  | { ok: true; result: unknown }
  | { ok: false; error: { code: string; message: string; field?: string } };

const answerSchema = z.union([
  z.strictObject({ ok: z.literal(true), result: z.unknown() }),
  z.strictObject({
    ok: z.literal(false),
    error: z.strictObject({ code: z.string(), message: z.string(), field: z.string().optional() }),
  }),
]);

const recordSchema = z.strictObject({
  name: z.string(),
  receivedAt: z.string(),
  /** `running` is written (fsync) before the command runs; `done` with its answer after. */
  state: z.enum(['running', 'done']),
  answer: answerSchema.optional(),
});

export type CommandRecord = z.output<typeof recordSchema>;

/**
 * Every command id seen in the last `ttlMs`, durably (append-only JSONL, fsync per change): a QoS 1
 * redelivery, even after a restart, finds its id here and gets the original answer instead of running again.
 */
export class CommandLog {
  private constructor(
    private readonly journal: JsonlJournal<CommandRecord>,
    private readonly ttlMs: number,
  ) {}

  static async open(dataDir: string, options: { ttlMs: number; fsync?: boolean }): Promise<CommandLog> {
    const journal = await JsonlJournal.open<CommandRecord>(join(dataDir, 'mqtt-commands.jsonl'), {
      fsync: options.fsync ?? true,
      validate: (value) => parseWithSchema(recordSchema, value),
    });
    const log = new CommandLog(journal, options.ttlMs);
    await log.prune();
    return log;
  }

  get(cmdId: string): CommandRecord | undefined {
    const record = this.journal.get(cmdId);
    if (record && Date.parse(record.receivedAt) < Date.now() - this.ttlMs) return undefined;
    return record;
  }

  get size(): number {
    return this.journal.size;
  }

  /** Records that the command is about to run; resolves once that is on disk. */
  begin(cmdId: string, name: string): Promise<void> {
    return this.journal.set(cmdId, { name, receivedAt: new Date().toISOString(), state: 'running' });
  }

  finish(cmdId: string, answer: CommandAnswer): Promise<void> {
    const record = this.journal.get(cmdId);
    return this.journal.set(cmdId, {
      name: record?.name ?? '',
      receivedAt: record?.receivedAt ?? new Date().toISOString(),
      state: 'done',
      answer,
    });
  }

  /** Forgets ids older than the TTL and compacts when most lines are stale. Returns how many went. */
  async prune(now = Date.now()): Promise<number> {
    const cutoff = now - this.ttlMs;
    const expired: string[] = [];
    for (const [cmdId, record] of this.journal.entries()) {
      if (Date.parse(record.receivedAt) < cutoff) expired.push(cmdId);
    }
    if (expired.length > 0) await this.journal.deleteMany(expired);
    if (this.journal.lineCount > 1000 && this.journal.staleRatio > 0.5) await this.journal.compact();
    return expired.length;
  }

  close(): Promise<void> {
    return this.journal.close();
  }
}
