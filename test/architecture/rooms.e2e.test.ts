import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOMS } from './rooms.js';

/**
 * The room table is enforced by `npm run lint`: a probe file in every room imports every other room (from
 * the room's top and from one folder down), and biome, run with the repository's biome.json, must flag
 * exactly the imports the table forbids. An import cycle must fail the lint too.
 */

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const biome = join(repo, 'node_modules', '.bin', 'biome');

interface Probe {
  file: string;
  /** Line number (1-based) → the room that line imports. */
  lines: Map<number, string>;
  from: string;
}

let root: string;
let flagged: Set<string>;
let cycleFlagged: string[];
const probes: Probe[] = [];

/** The specifier a file at `fromFile` writes to reach room `to` (a module inside a folder room). */
function specifier(fromFile: string, to: string): string {
  const target = ROOMS[to]!.path.endsWith('/') ? `${ROOMS[to]!.path}module.js` : ROOMS[to]!.path;
  const spec = posix.relative(posix.dirname(fromFile), target.replace(/\.ts$/, '.js'));
  return spec.startsWith('.') ? spec : `./${spec}`;
}

function run(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(biome, args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (_error, stdout) => resolve(stdout));
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kkt-rooms-'));
  const config = JSON.parse(await readFile(join(repo, 'biome.json'), 'utf8'));
  // The probe tree is no git work tree; the room rules and the cycle rule are what is checked.
  config.vcs = { enabled: false };
  await writeFile(join(root, 'biome.json'), JSON.stringify(config));

  for (const [from, room] of Object.entries(ROOMS)) {
    const files = room.path.endsWith('/')
      ? [`${room.path}roomProbe.ts`, `${room.path}nested/roomProbe.ts`]
      : [room.path];
    for (const file of files) {
      const lines = new Map<number, string>();
      const text = ["import 'node:fs';"];
      for (const to of Object.keys(ROOMS)) {
        if (to === from) continue;
        text.push(`import '${specifier(file, to)}';`);
        lines.set(text.length, to);
      }
      await mkdir(join(root, dirname(file)), { recursive: true });
      await writeFile(join(root, file), `${text.join('\n')}\n`);
      probes.push({ file, lines, from });
    }
  }
  await writeFile(
    join(root, 'src/agent/jobs/cycleA.ts'),
    "import type { B } from './cycleB.js';\nexport type A = B[];\n",
  );
  await writeFile(
    join(root, 'src/agent/jobs/cycleB.ts'),
    "import type { A } from './cycleA.js';\nexport type B = A | 1;\n",
  );

  const output = await run(['lint', '--reporter=github', '--max-diagnostics=none', '.'], root);
  flagged = new Set();
  cycleFlagged = [];
  for (const match of output.matchAll(/^::error title=lint\/([a-zA-Z/]+),file=([^,]+),line=(\d+),/gm)) {
    const file = relative(root, match[2]!).split('\\').join('/');
    if (match[1] === 'style/noRestrictedImports') flagged.add(`${file}:${match[3]}`);
    if (match[1] === 'suspicious/noImportCycles') cycleFlagged.push(file);
  }
}, 120_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the room table in lint', () => {
  it('flags every import the table forbids and no import it allows', () => {
    const wrong: string[] = [];
    for (const probe of probes) {
      if (flagged.has(`${probe.file}:1`)) wrong.push(`${probe.file}: node:fs is flagged`);
      for (const [line, to] of probe.lines) {
        const allowed = ROOMS[probe.from]!.mayImport.includes(to);
        const isFlagged = flagged.has(`${probe.file}:${line}`);
        if (allowed === isFlagged) {
          wrong.push(`${probe.file} → ${to}: ${allowed ? 'allowed but flagged' : 'forbidden but passes'}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    // The probes did run through biome: a sanity check that the output was read at all.
    expect(flagged.size).toBeGreaterThan(100);
  });

  it('fails an import cycle, also one made of type imports only', () => {
    // (File rooms' probes import each other too; only the pair made for this check is looked at.)
    const pair = cycleFlagged.filter((file) => file.startsWith('src/agent/jobs/cycle'));
    expect([...new Set(pair)].sort()).toEqual(['src/agent/jobs/cycleA.ts', 'src/agent/jobs/cycleB.ts']);
  });
});
