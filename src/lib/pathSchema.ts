import { isAbsolute, relative, sep } from 'node:path';
import { z } from 'zod';

/**
 * A file-system path in a config file. A service's working directory is `/`, so a relative path means
 * something else under systemd than in the shell that tested it, and `..` hides where a path really
 * points: both are refused, with the field named.
 */
export const absolutePathSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((path) => isAbsolute(path), 'must be an absolute path (starting with "/")')
  .refine((path) => !path.split(/[\\/]/).includes('..'), 'must not climb with ".."')
  .refine((path) => !path.includes(String.fromCharCode(0)), 'must not contain NUL');

/** True when `path` is `directory` itself or lies anywhere below it (both absolute, without `..`). */
export function isInsideOrEqual(path: string, directory: string): boolean {
  const rel = relative(directory, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
