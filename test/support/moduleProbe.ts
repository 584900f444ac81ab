import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

/**
 * Preloaded into a daemon under test or bench (`NODE_OPTIONS=--import …/moduleProbe.js`) to tell which
 * modules it loaded: ESM modules are listed as they load (`moduleHooks.ts`); on SIGUSR2 the CommonJS
 * modules in `require.cache` are appended (`cjs <path>`) and a last line `done`. Test and bench only; the
 * agent itself never listens for SIGUSR2.
 */
const out = process.env.KKT_PROBE_MODULES_FILE;
if (out) {
  register('./moduleHooks.js', import.meta.url);
  process.on('SIGUSR2', () => {
    const cjs = Object.keys(createRequire(import.meta.url).cache);
    // Node's own modules compiled into the binary (`NativeModule internal/deps/undici/undici`).
    const builtins = (process as unknown as { moduleLoadList: string[] }).moduleLoadList
      .filter((entry) => entry.startsWith('NativeModule '))
      .map((entry) => `builtin ${entry.slice('NativeModule '.length)}\n`);
    appendFileSync(out, `${cjs.map((path) => `cjs ${path}\n`).join('')}${builtins.join('')}done\n`);
  });
}

/** The loaded modules as the probe wrote them: one path each (file URLs made paths), no duplicates. */
export function parseModuleList(text: string): string[] {
  const paths = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^(esm|cjs) (.+)$/.exec(line);
    if (!match) continue;
    const name = match[2]!;
    paths.add(name.startsWith('file://') ? decodeURIComponent(new URL(name).pathname) : name);
  }
  return [...paths];
}

/** Node's built-in modules the probe saw loaded (`internal/deps/undici/undici`, `https`…). */
export function parseBuiltinList(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n'))
    if (line.startsWith('builtin ')) names.add(line.slice('builtin '.length));
  return names;
}

/** The npm packages among the modules (`node_modules/<name>` or `node_modules/@scope/<name>`). */
export function packagesOf(paths: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const path of paths) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(path);
    if (match) names.add(match[1]!);
  }
  return names;
}
