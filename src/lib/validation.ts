import type { z } from 'zod';
import { ValidationError } from './errors.js';

/** `items[2].price` from a zod issue path. */
export function formatPath(path: ReadonlyArray<PropertyKey>, root = ''): string {
  let text = root;
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text ? `.${String(key)}` : String(key);
  }
  return text;
}

/**
 * Parses a value with a zod schema; the first problem becomes a `ValidationError` naming the field, so a
 * technician reads "items[2].quantityMilli: must be greater than 0" rather than a zod dump.
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, root = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new ValidationError(formatPath(issue.path, root), issue.message, {
    issues: result.error.issues
      .slice(0, 10)
      .map((i) => ({ path: formatPath(i.path, root), message: i.message })),
  });
}
