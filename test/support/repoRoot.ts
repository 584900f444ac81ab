import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root, from the sources (vitest) or from their build in dist/ (bench, chaos). */
export const REPO_ROOT = (() => {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'bin', 'kkt-agent.js')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
