import { type Adapter, Low } from 'lowdb';
import type { ZodType } from 'zod';
import { readFileIfExists, removeStaleTempFiles, writeFileDurable } from '../../lib/durableFile.js';
import { KktAgentError, ValidationError } from '../../lib/errors.js';

/**
 * lowdb for small documents only (config, registries, ids): every write rewrites the whole file, durably
 * (temp file, fsync, rename, directory fsync) instead of lowdb's default steno writer, which does not fsync.
 * Fiscal jobs never live here; they go to the journal (docs/storage.md).
 */

/** The file is not JSON at all (as opposed to JSON of the wrong shape, which is a `ValidationError`). */
export class DocumentCorruptError extends KktAgentError {
  constructor(path: string, reason: string) {
    super(
      'DOCUMENT_CORRUPT',
      `${path} is not valid JSON (${reason}). Restore it from a backup or remove it.`,
      {
        path,
        reason,
      },
    );
  }
}

function checkShape<T>(schema: ZodType<T> | undefined, data: unknown, path: string): T {
  if (schema === undefined) return data as T;
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const [first] = result.error.issues;
  const field = first === undefined ? '' : first.path.map(String).join('.');
  throw new ValidationError(field, `${first?.message ?? 'invalid'} (in ${path})`, {
    path,
    issues: result.error.issues.map((issue) => ({
      field: issue.path.map(String).join('.'),
      message: issue.message,
    })),
  });
}

export class DurableJsonFile<T> implements Adapter<T> {
  readonly path: string;
  private readonly schema: ZodType<T> | undefined;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(path: string, schema?: ZodType<T>) {
    this.path = path;
    this.schema = schema;
  }

  /** `null` when the file does not exist (lowdb then keeps its default data). */
  async read(): Promise<T | null> {
    const text = await readFileIfExists(this.path);
    if (text === undefined) return null;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new DocumentCorruptError(this.path, error instanceof Error ? error.message : String(error));
    }
    return checkShape(this.schema, data, this.path);
  }

  /**
   * Refuses data the schema would reject on the next read. Serialises at call time and writes in call order,
   * so an older snapshot never lands after a newer one.
   */
  write(data: T): Promise<void> {
    let text: string;
    try {
      checkShape(this.schema, data, this.path);
      text = `${JSON.stringify(data, null, 2)}\n`;
    } catch (error) {
      return Promise.reject(error);
    }
    const run = this.writes.then(() => writeFileDurable(this.path, text));
    this.writes = run.catch(() => undefined);
    return run;
  }
}

/** Opens a small durable document: removes temp files a crash left behind, then reads (and validates) it. */
export async function openDurableDb<T>(path: string, defaultData: T, schema?: ZodType<T>): Promise<Low<T>> {
  await removeStaleTempFiles(path);
  const db = new Low<T>(new DurableJsonFile<T>(path, schema), defaultData);
  await db.read();
  return db;
}
