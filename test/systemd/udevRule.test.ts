import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './compileModule.js';

const RULE_FILE = join(repoRoot, 'systemd/99-atol-kkt.rules');

// A parser for the subset of udev(7) rule syntax a rule file may use, strict enough to catch typos that
// udevd would only log at boot: unknown keys, operators a key does not take, unquoted values, dangling GOTOs.

type Operator = '==' | '!=' | '=' | '+=' | '-=' | ':=';
interface Pair {
  key: string;
  attribute?: string;
  operator: Operator;
  value: string;
}

const MATCH_KEYS = new Set([
  'ACTION',
  'DEVPATH',
  'KERNEL',
  'NAME',
  'SYMLINK',
  'SUBSYSTEM',
  'DRIVER',
  'ATTR',
  'SYSCTL',
  'KERNELS',
  'SUBSYSTEMS',
  'DRIVERS',
  'ATTRS',
  'TAGS',
  'TAG',
  'TEST',
  'PROGRAM',
  'RESULT',
  'ENV',
  'CONST',
]);
const ASSIGN_KEYS = new Set([
  'NAME',
  'SYMLINK',
  'OWNER',
  'GROUP',
  'MODE',
  'SECLABEL',
  'ATTR',
  'SYSCTL',
  'ENV',
  'TAG',
  'RUN',
  'LABEL',
  'GOTO',
  'IMPORT',
  'OPTIONS',
]);
const KEYS_NEEDING_ATTRIBUTE = new Set(['ATTR', 'ATTRS', 'SYSCTL', 'ENV', 'CONST', 'IMPORT', 'SECLABEL']);
const KEYS_WITH_OPTIONAL_ATTRIBUTE = new Set(['TEST', 'RUN']);

function parseRules(text: string): Pair[][] {
  const rules: Pair[][] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const pairs: Pair[] = [];
    const pattern = /\s*([A-Z_]+)(?:\{([^}]+)\})?\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;
    let at = 0;
    while (at < line.length) {
      pattern.lastIndex = at;
      const match = pattern.exec(line);
      if (!match) throw new Error(`line ${index + 1}: cannot parse from column ${at + 1}: ${line.slice(at)}`);
      const [, key, attribute, operator, value] = match as unknown as [
        string,
        string,
        string | undefined,
        Operator,
        string,
      ];
      const isMatch = operator === '==' || operator === '!=';
      if (!(isMatch ? MATCH_KEYS : ASSIGN_KEYS).has(key)) {
        throw new Error(`line ${index + 1}: ${key} does not take ${operator}`);
      }
      if (
        !KEYS_WITH_OPTIONAL_ATTRIBUTE.has(key) &&
        (attribute !== undefined) !== KEYS_NEEDING_ATTRIBUTE.has(key)
      ) {
        throw new Error(
          `line ${index + 1}: ${key} ${attribute === undefined ? 'needs' : 'takes no'} {attribute}`,
        );
      }
      pairs.push(attribute === undefined ? { key, operator, value } : { key, attribute, operator, value });
      at = pattern.lastIndex;
    }
    rules.push(pairs);
  });
  const labels = new Set(
    rules
      .flat()
      .filter((p) => p.key === 'LABEL')
      .map((p) => p.value),
  );
  for (const goto of rules.flat().filter((p) => p.key === 'GOTO')) {
    if (!labels.has(goto.value)) throw new Error(`GOTO="${goto.value}" has no LABEL`);
  }
  return rules;
}

const has = (rule: Pair[], key: string, operator: Operator, value: string, attribute?: string) =>
  rule.some(
    (p) => p.key === key && p.operator === operator && p.value === value && p.attribute === attribute,
  );

const rules = parseRules(readFileSync(RULE_FILE, 'utf8'));
const ttyRules = rules.filter((rule) => has(rule, 'SUBSYSTEM', '==', 'tty'));
const usbDeviceRule = rules.find((rule) => has(rule, 'SUBSYSTEM', '==', 'usb'));

describe('99-atol-kkt.rules', () => {
  it('parses as udev rules', () => {
    expect(rules.length).toBeGreaterThan(0);
  });

  it('the parser rejects what udevd would reject', () => {
    expect(() => parseRules('SUBSYSTEM=="tty", MODE=0660\n')).toThrow(/cannot parse/);
    expect(() => parseRules('GROUP=="dialout"\n')).toThrow(/does not take ==/);
    expect(() => parseRules('ATTRS=="2912"\n')).toThrow(/needs \{attribute\}/);
    expect(() => parseRules('GOTO="nowhere"\n')).toThrow(/has no LABEL/);
  });

  it('matches ATOL by USB vendor 2912 only, never by product id', () => {
    for (const rule of [...ttyRules, usbDeviceRule ?? []]) {
      expect(rule.some((p) => p.value === '2912' && (p.attribute === 'idVendor' || p.key === 'ATTRS'))).toBe(
        true,
      );
    }
    expect(rules.flat().some((p) => p.attribute === 'idProduct')).toBe(false);
  });

  it('gives dialout read/write on the serial ports and keeps ModemManager away', () => {
    const permissions = ttyRules.find((rule) => has(rule, 'MODE', '=', '0660'));
    expect(permissions).toBeDefined();
    expect(has(permissions ?? [], 'GROUP', '=', 'dialout')).toBe(true);
    expect(has(permissions ?? [], 'ENV', '=', '1', 'ID_MM_DEVICE_IGNORE')).toBe(true);
  });

  it('makes the raw USB device node readable by dialout for discovery', () => {
    expect(usbDeviceRule).toBeDefined();
    expect(has(usbDeviceRule ?? [], 'ENV', '==', 'usb_device', 'DEVTYPE')).toBe(true);
    expect(has(usbDeviceRule ?? [], 'MODE', '=', '0660')).toBe(true);
    expect(has(usbDeviceRule ?? [], 'GROUP', '=', 'dialout')).toBe(true);
  });

  it('adds a stable symlink per CDC interface', () => {
    expect(rules.flat()).toContainEqual({
      key: 'SYMLINK',
      operator: '+=',
      value: 'atol-kkt-if$env{ID_USB_INTERFACE_NUM}',
    });
  });
});
