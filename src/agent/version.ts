import { readFileSync } from 'node:fs';

/** The package version, found by walking up from this module (it runs from `src/` in tests, `dist/src/` in production). */
export const AGENT_VERSION: string = (() => {
  let dir = new URL('.', import.meta.url);
  for (let depth = 0; depth < 6; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (pkg.name === 'kkt-agent') return pkg.version;
    } catch {
      // not here; look one directory up
    }
    dir = new URL('..', dir);
  }
  return '0.0.0';
})();
