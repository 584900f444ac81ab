import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CODE_LISTS,
  ERRORS_DOC,
  renderErrorCodeTables,
  TEST_SUPPORT_LIST,
  withTables,
} from '../support/errorCodeLists.js';
import { ROOMS } from './rooms.js';

const lists = Object.entries(ERROR_CODE_LISTS);

/** Source files that register codes (every `declare module … ErrorCodeRegistry` augmentation). */
function registeringFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .map((file) => join(dir, file))
    .filter((file) => /interface ErrorCodeRegistry\b/.test(readFileSync(file, 'utf8')));
}

describe('error code lists (docs/errors.md)', () => {
  it('give every code to one room only', () => {
    const owner = new Map<string, string>();
    const clashes: string[] = [];
    for (const [room, list] of [...lists, ['test/support', TEST_SUPPORT_LIST] as const]) {
      for (const code of Object.keys(list.codes)) {
        const first = owner.get(code);
        if (first) clashes.push(`${code}: ${first} and ${room}`);
        else owner.set(code, room);
      }
    }
    expect(clashes).toEqual([]);
    expect(owner.size).toBeGreaterThan(250);
  });

  it('are codes in upper snake case, each with a one-line meaning', () => {
    for (const [room, list] of lists) {
      for (const [code, meaning] of Object.entries(list.codes)) {
        expect(code, room).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*(_<[a-z]+>)?$/);
        expect(meaning.trim().length, `${room} ${code}`).toBeGreaterThan(5);
        expect(meaning, `${room} ${code}`).not.toMatch(/\n/);
      }
    }
  });

  it('live in the room they are registered for', () => {
    for (const [room, list] of lists) {
      const home = ROOMS[room];
      expect(home, `${room} is a room of test/architecture/rooms.ts`).toBeDefined();
      expect(
        home!.path.endsWith('/') ? list.file.startsWith(home!.path) : list.file === home!.path,
        room,
      ).toBe(true);
      // lib's list is registered where the registry is declared (lib/errors.ts), every other in its file.
      const registeredIn = room === 'lib' ? 'src/lib/errors.ts' : list.file;
      expect(readFileSync(registeredIn, 'utf8'), registeredIn).toMatch(/interface ErrorCodeRegistry\b/);
    }
  });

  it('are all indexed: no file registers codes outside the index', () => {
    const indexed = new Set([...lists.map(([, list]) => list.file), TEST_SUPPORT_LIST.file]);
    indexed.delete(ERROR_CODE_LISTS.lib.file);
    const registering = [...registeringFiles('src'), ...registeringFiles('test/support')].filter(
      (file) => file !== join('src', 'lib', 'errors.ts'),
    );
    expect(registering.filter((file) => !indexed.has(file))).toEqual([]);
    expect(registering.length).toBe(indexed.size);
  });

  it(`are documented in ${ERRORS_DOC}, generated from the lists (npm run docs:errors)`, () => {
    const doc = readFileSync(ERRORS_DOC, 'utf8');
    expect(doc, 'run `npm run docs:errors`').toBe(withTables(doc, renderErrorCodeTables()));
    for (const [, list] of lists)
      for (const code of Object.keys(list.codes)) expect(doc).toContain(`\`${code}\``);
    for (const code of Object.keys(TEST_SUPPORT_LIST.codes)) expect(doc).not.toContain(code);
  });
});
