import { describe, expect, it } from 'vitest';
import { EmulatorConfigError } from './errors.js';
import { parseCommandCode, parseFaultSpecs } from './faults.js';

describe('fault options', () => {
  it('parses CLI fault specs with defaults and values', () => {
    expect(
      parseFaultSpecs([
        'no-paper',
        'execute-then-drop',
        'drop-on-command=A4 46',
        'slow-ms=250',
        'cover-open=off',
        'dropAfterCommands=3',
      ]),
    ).toEqual({
      noPaper: true,
      executeThenDrop: '4A',
      dropOnCommand: 'A4 46',
      slowMs: 250,
      coverOpen: false,
      dropAfterCommands: 3,
    });
  });

  it('refuses unknown faults and bad values with the list of known ones', () => {
    expect(() => parseFaultSpecs(['no-ink'])).toThrow(/unknown fault "no-ink".*no-paper/);
    expect(() => parseFaultSpecs(['slow-ms=fast'])).toThrow(EmulatorConfigError);
    expect(() => parseFaultSpecs(['drop-on-command=ZZ'])).toThrow(/not a command code/);
  });

  it('reads command codes in the usual spellings', () => {
    expect(parseCommandCode('4a')).toEqual(Buffer.of(0x4a));
    expect(parseCommandCode('0xA446')).toEqual(Buffer.of(0xa4, 0x46));
    expect(parseCommandCode('A4 46')).toEqual(Buffer.of(0xa4, 0x46));
  });
});
