import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Compiles one TypeScript entry point (and what it imports) to JavaScript for a child process, and returns
 * the emitted entry and the output directory (remove it when done). It goes below the repository's ignored .tmp/ rather than dist/, so the
 * child always runs the current source and native packages still resolve from node_modules.
 */
export function compileForChild(entry: string, label: string): { entryPath: string; outDir: string } {
  const outDir = join(repoRoot, '.tmp', `${label}-${process.pid}`);
  mkdirSync(outDir, { recursive: true });
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(
    process.execPath,
    [
      tsc,
      '--outDir',
      outDir,
      '--rootDir',
      repoRoot,
      '--module',
      'NodeNext',
      '--moduleResolution',
      'NodeNext',
      '--target',
      'ES2022',
      '--lib',
      'ES2023',
      '--strict',
      '--skipLibCheck',
      '--types',
      'node',
      join(repoRoot, entry),
    ],
    { cwd: repoRoot, stdio: 'pipe' },
  );
  return { entryPath: join(outDir, entry.replace(/\.ts$/, '.js')), outDir };
}
