import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './main.js';

// Every `--option` the README and docs/ give a `kkt-agent` command must be one that command takes. Within a
// paragraph, list item, table row or code line, an option belongs to the `kkt-agent …` span it is in, or
// else to the last such span before it; a span that starts another program (`npm run chaos`, `journalctl`)
// ends that, and options before any `kkt-agent` span are not read as the CLI's.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DOCS = [
  'README.md',
  ...readdirSync(join(repoRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

interface Unit {
  where: string;
  text: string;
}

/** Paragraphs, list items and table rows of prose; every line of a fenced block (with `\` continuations). */
function splitUnits(file: string, markdown: string): Unit[] {
  const units: Unit[] = [];
  let buffer: string[] = [];
  let startLine = 0;
  let fenced = false;
  const flush = () => {
    if (buffer.length > 0) units.push({ where: `${file}:${startLine}`, text: buffer.join('\n') });
    buffer = [];
  };
  markdown.split('\n').forEach((line, index) => {
    const number = index + 1;
    if (line.trimStart().startsWith('```')) {
      flush();
      fenced = !fenced;
      return;
    }
    const continues = buffer.length > 0 && buffer[buffer.length - 1]?.endsWith('\\');
    const startsOwnUnit =
      line.trim() === '' || (!fenced && /^\s*([-*] |\d+\. |\||#)/.test(line)) || (fenced && !continues);
    if (startsOwnUnit) flush();
    if (line.trim() === '') return;
    if (buffer.length === 0) startLine = number;
    // A fenced line is shell: its commands are code as they stand.
    buffer.push(fenced ? `\`${line.replace(/\\$/, '')}\`` : line);
  });
  flush();
  return units;
}

const codeSpans = (text: string): string[] => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

/** The deepest command a span names after `kkt-agent` (`kkt-agent jobs resolve ID` → jobs resolve). */
function namedCommand(program: Command, words: string[]): Command {
  let command = program;
  for (const word of words) {
    const child = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!child) break;
    command = child;
  }
  return command;
}

/** The commands one span names: `kkt-agent a b` and, after `|`, siblings such as `jobs list | show ID`. */
function commandsInSpan(program: Command, span: string): Command[] | undefined {
  // `kkt-agent` as the command word, maybe after sudo (not `journalctl -u kkt-agent`).
  const invocation = /^(?:sudo(?: -u \S+)? )?kkt-agent (.*)$/.exec(span.trim());
  if (!invocation) return undefined;
  const alternatives = (invocation[1] as string).split(/\\?\|/).map((part) => part.trim().split(/\s+/));
  let last = namedCommand(program, alternatives[0] ?? []);
  const named = [last];
  for (const words of alternatives.slice(1)) {
    const parent = last.parent ?? program;
    const sibling = namedCommand(parent, words);
    if (sibling !== parent) {
      last = sibling;
      named.push(sibling);
    }
  }
  return named;
}

/** A span that runs something other than kkt-agent: options after it are not the CLI's. */
const OTHER_PROGRAM =
  /^(?:sudo )?(?:npm|npx|node|journalctl|systemd-analyze|systemctl|udevadm|socat|bash|scripts\/)/;

interface DocumentedOption {
  where: string;
  option: string;
  commands: Command[];
}

function documentedOptions(program: Command, unit: Unit): DocumentedOption[] {
  const found: DocumentedOption[] = [];
  let current: Command[] | undefined;
  for (const span of codeSpans(unit.text)) {
    const named = commandsInSpan(program, span);
    if (named) current = named;
    else if (OTHER_PROGRAM.test(span.trim())) current = undefined;
    if (!current) continue;
    for (const match of span.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)) {
      found.push({ where: unit.where, option: match[0], commands: current });
    }
  }
  return found;
}

function optionsOf(command: Command): Set<string> {
  const accepted = new Set(['--help']);
  for (let c: Command | null = command; c; c = c.parent) {
    for (const option of c.options) {
      if (option.long) accepted.add(option.long);
    }
  }
  if (command.parent === null) accepted.add('--version');
  return accepted;
}

describe('options the docs give kkt-agent commands', () => {
  const program = buildProgram();
  const documented = DOCS.flatMap((file) =>
    splitUnits(file, readFileSync(join(repoRoot, file), 'utf8')).flatMap((unit) =>
      documentedOptions(program, unit),
    ),
  );

  it('finds the documented commands and their options (the scan itself works)', () => {
    const names = new Set(documented.flatMap(({ commands }) => commands.map((c) => c.name())));
    expect([...names]).toEqual(expect.arrayContaining(['atol', 'atol-web', 'status', 'pair', 'resolve']));
    const drain = documented.find(({ option }) => option === '--ofd-auto-drain-ms');
    expect(drain?.commands.map((c) => c.name())).toEqual(['atol']);
    expect(documented.length).toBeGreaterThan(30);
  });

  it.each(DOCS)('every option %s gives a command is one the command takes', (file) => {
    const unknown = documented
      .filter(({ where }) => where.startsWith(`${file}:`))
      .filter(({ option, commands }) => !commands.some((command) => optionsOf(command).has(option)))
      .map(
        ({ where, option, commands }) => `${where} ${option} (${commands.map((c) => c.name()).join(' | ')})`,
      );
    expect(unknown).toEqual([]);
  });
});
