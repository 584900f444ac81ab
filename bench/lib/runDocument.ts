import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../../test/support/agentProcess.js';
import type { RunOptions } from './options.js';

/**
 * The end of `npm run bench` and `npm run chaos`: where the Markdown goes and how the process exits. A
 * quick run never overwrites the published document unless `--out` says so.
 */

export interface RunDocument {
  /** `bench` or `chaos`: the prefix of every line on stderr. */
  suite: string;
  markdown: string;
  /** The file a quick run writes in the temp folder. */
  quickFileName: string;
  /** The published document, relative to the repository (`docs/BENCHMARKS.md`). */
  publishedPath: string;
  /** Appended to the `wrote` line, e.g. the seed to replay the run. */
  wroteNote?: string;
}

/** Writes the document (and prints it for `--quick`, so CI logs carry the figures). */
export async function writeRunDocument(options: RunOptions, document: RunDocument): Promise<void> {
  const out =
    options.out ??
    (options.quick ? join(tmpdir(), document.quickFileName) : join(REPO_ROOT, document.publishedPath));
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, document.markdown);
  if (options.quick) process.stdout.write(document.markdown);
  process.stderr.write(`${document.suite}: wrote ${out}${document.wroteNote ?? ''}\n`);
}

/** An error as a failed run reports it: the stack where there is one. */
export function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** Runs the suite and exits with its code; an error that escapes it is exit 1. */
export function exitWhenDone(suite: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${suite}: ${errorText(error)}\n`);
      process.exit(1);
    },
  );
}
