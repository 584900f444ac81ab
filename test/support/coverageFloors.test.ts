import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOM_FLOORS } from '../../vitest.config.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [relative(repoRoot, path)] : [];
  });
}

/** The room globs are `dir/**` or `dir/*.ts`. */
function inRoom(file: string, glob: string): boolean {
  if (glob.endsWith('/**')) return file.startsWith(glob.slice(0, -2));
  if (glob.endsWith('/*.ts')) return dirname(file) === glob.slice(0, -5);
  throw new Error(`unexpected room glob ${glob}`);
}

describe('coverage floors (vitest.config.ts)', () => {
  it('give every source file exactly one room with a floor', () => {
    const rooms = Object.keys(ROOM_FLOORS);
    const files = sourceFiles(join(repoRoot, 'src'));
    expect(files.length).toBeGreaterThan(100);
    const wrong = files
      .map((file) => ({ file, rooms: rooms.filter((glob) => inRoom(file, glob)) }))
      .filter(({ rooms }) => rooms.length !== 1)
      .map(({ file, rooms }) => `${file}: ${rooms.join(', ') || 'no room'}`);
    expect(wrong).toEqual([]);
  });

  it('are checked by npm test, which measures coverage', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(manifest.scripts.test).toMatch(/\bvitest run --coverage\b/);
  });

  it('are percentages', () => {
    for (const floor of Object.values(ROOM_FLOORS)) {
      for (const value of Object.values(floor)) expect(value >= 0 && value <= 100).toBe(true);
    }
  });
});
