import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileDurable } from '../../lib/durableFile.js';
import { parseWithSchema } from '../../lib/json.js';

const sessionFileSchema = z.strictObject({ session: z.number().int().min(0) });

/**
 * The presence session counter (Sparkplug's bdSeq): incremented and fsync'd before every CONNECT, so the
 * will of a connection and its birth carry the same number and a later connection always a higher one.
 */
export class SessionCounter {
  private constructor(
    private readonly path: string,
    private value: number,
  ) {}

  static async open(dataDir: string): Promise<SessionCounter> {
    const path = join(dataDir, 'mqtt-session.json');
    const text = await readFileIfExists(path);
    const value = text === undefined ? 0 : parseWithSchema(sessionFileSchema, JSON.parse(text)).session;
    return new SessionCounter(path, value);
  }

  /** The session of the latest connect attempt (0 before the first). */
  get current(): number {
    return this.value;
  }

  /** The next session number, durably recorded before it is returned. */
  async next(): Promise<number> {
    const value = this.value + 1;
    await writeFileDurable(this.path, `${JSON.stringify({ session: value })}\n`);
    this.value = value;
    return value;
  }

  /** Makes the next session higher than `seen` (a session published by an earlier install of this box). */
  async raiseAbove(seen: number): Promise<void> {
    if (seen <= this.value) return;
    await writeFileDurable(this.path, `${JSON.stringify({ session: seen })}\n`);
    this.value = seen;
  }
}
