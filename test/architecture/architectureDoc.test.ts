import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOMS } from './rooms.js';

/**
 * docs/ARCHITECTURE.md against the tree: the room table names the rooms of test/architecture/rooms.ts (which
 * biome.json enforces), and every file or folder a row names exists in that room.
 */

const doc = readFileSync('docs/ARCHITECTURE.md', 'utf8');

interface Row {
  /** The paths of the first column (`src/agent/composition.ts`, `config/` …, made absolute). */
  paths: string[];
  what: string;
  mayImport: string;
}

/** A table line's cells; a `|` inside backticks is text (`'not-sent' | 'refused'`). */
function splitCells(line: string): string[] {
  const cells = [''];
  let inCode = false;
  for (const char of line) {
    if (char === '`') inCode = !inCode;
    if (char === '|' && !inCode) cells.push('');
    else cells[cells.length - 1] += char;
  }
  return cells.map((cell) => cell.trim());
}

function tableRows(): Row[] {
  const rows: Row[] = [];
  for (const line of doc.split('\n')) {
    const cells = splitCells(line);
    if (cells.length < 5 || !cells[1]!.startsWith('`')) continue;
    const named = [...cells[1]!.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
    // A row like "`src/agent/composition.ts`, `daemon.ts`, `config/`" names its siblings relatively.
    const base = named[0]!.includes('/')
      ? named[0]!.slice(0, named[0]!.lastIndexOf('/', named[0]!.length - 2) + 1)
      : '';
    rows.push({
      paths: named.map((path, index) => (index === 0 || path.startsWith('src/') ? path : base + path)),
      what: cells[2]!,
      mayImport: cells[3]!,
    });
  }
  return rows;
}

const sourceFiles = (dir: string) =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((file) =>
    join(dir, file).split('\\').join('/'),
  );

const DRIVERS = ['drivers/http', 'drivers/atol', 'drivers/intent'];
const CORE = ROOMS['agent']!.mayImport;

/** The rooms a "may import" cell names, in the words the table uses; undefined for words it does not know. */
function roomsNamed(cell: string): string[] | undefined {
  if (cell === 'node only') return [];
  const rooms: string[] = [];
  const text = cell.replace(/`/g, '').replace(/\s*\([^)]*\)/g, '');
  for (const part of text.split(/,\s*|\s+and\s+/)) {
    const word = part
      .trim()
      .replace(/^src\/(agent\/)?/, '')
      .replace(/\.ts$/, '');
    if (word === 'the core' || word === 'the core below it') rooms.push(...CORE);
    else if (word === 'drivers' || word === 'drivers/* protocol code') rooms.push(...DRIVERS);
    else if (ROOMS[word]) rooms.push(word);
    else return undefined;
  }
  return [...new Set(rooms)].sort();
}

describe('docs/ARCHITECTURE.md', () => {
  const rows = tableRows();

  it('has a row for every room of rooms.ts, and no row for a room that does not exist', () => {
    const documented = new Set(rows.flatMap((row) => row.paths));
    for (const [name, room] of Object.entries(ROOMS)) expect(documented.has(room.path), name).toBe(true);
    for (const path of documented.values()) expect(existsSync(path), path).toBe(true);
  });

  it('gives each room a row of its own, with the imports rooms.ts (and so biome.json) allows', () => {
    // A row naming several rooms would say their imports in prose, which nothing checks.
    const isRoom = (path: string) => Object.values(ROOMS).some((room) => room.path === path);
    const shared = rows.filter((row) => row.paths.length > 1 && row.paths.some(isRoom));
    expect(shared.map((row) => row.paths)).toEqual([]);
    const checked: string[] = [];
    for (const row of rows) {
      const room = Object.entries(ROOMS).find(([, candidate]) => candidate.path === row.paths[0]);
      if (!room || row.mayImport === 'everything') continue;
      expect(roomsNamed(row.mayImport), `${room[0]}: "${row.mayImport}"`).toEqual(
        [...room[1].mayImport].sort(),
      );
      checked.push(room[0]);
    }
    expect(checked.length).toBeGreaterThan(20);
  });

  it('names only files and folders that exist in its room', () => {
    const missing: string[] = [];
    for (const row of rows) {
      // A one-file room's row may name its neighbours in the same folder (`crashPoints.ts`).
      const folders = row.paths.map((path) =>
        path.endsWith('/') ? path : path.slice(0, path.lastIndexOf('/') + 1),
      );
      const inRoom = folders.flatMap((folder) => sourceFiles(folder));
      for (const [, name] of row.what.matchAll(/`([\w./-]+\.ts|[\w-]+\/)`/g)) {
        const bare = name!.replace(/\/$/, '');
        const isRoom = Object.values(ROOMS).some((room) => room.path.endsWith(`/${name}`));
        const found = existsSync(name!) || isRoom || inRoom.some((file) => file.endsWith(`/${bare}`));
        if (!found) missing.push(`${row.paths[0]}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
