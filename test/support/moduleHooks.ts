import { appendFileSync } from 'node:fs';

/**
 * Module hooks of `moduleProbe.ts` (they run on the loader's own thread): every module the ESM loader
 * loads is appended to `$KKT_PROBE_MODULES_FILE` as it loads, `esm <url>`.
 */
const out = process.env.KKT_PROBE_MODULES_FILE;

export async function load(
  url: string,
  context: unknown,
  nextLoad: (url: string, context: unknown) => Promise<unknown>,
): Promise<unknown> {
  if (out) appendFileSync(out, `esm ${url}\n`);
  return nextLoad(url, context);
}
