import { describe, expect, it } from 'vitest';
import * as commands from '../../drivers/atol/commands/index.js';
import { ALL_COMMANDS, type CommandSpec, codeHex, findCommand } from '../../drivers/atol/commands/index.js';
import { AtolDevice } from './device.js';
import type { RegisterIdentity } from './state.js';

// One CommandSpec serves driver and emulator. These checks keep the three lists in step: every spec the
// commands room exports is in ALL_COMMANDS (the emulator dispatches through it), and every spec there
// has an emulator handler, so a new command cannot ship with only one side.

const isSpec = (value: unknown): value is CommandSpec<unknown, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  Buffer.isBuffer((value as { code?: unknown }).code) &&
  typeof (value as { encodeParams?: unknown }).encodeParams === 'function' &&
  typeof (value as { decodeResult?: unknown }).decodeResult === 'function';

const exported = Object.entries(commands).filter(([, value]) => isSpec(value)) as Array<
  [string, CommandSpec<unknown, unknown>]
>;

describe('ATOL command specs', () => {
  it('finds the exported specs (the check itself works)', () => {
    expect(exported.length).toBeGreaterThanOrEqual(29);
    expect(exported.map(([name]) => name)).toEqual(expect.arrayContaining(['shortStatus', 'closeReceipt']));
  });

  it('registers every exported spec in ALL_COMMANDS', () => {
    const missing = exported.filter(([, spec]) => !ALL_COMMANDS.includes(spec)).map(([name]) => name);
    expect(missing).toEqual([]);
  });

  it('gives every spec its own code, found by its request bytes', () => {
    const codes = ALL_COMMANDS.map((spec) => codeHex(spec.code));
    expect(new Set(codes).size).toBe(codes.length);
    for (const spec of ALL_COMMANDS) expect(findCommand(spec.code)).toBe(spec);
  });

  it('has an emulator handler for every registered spec', () => {
    const device = new AtolDevice({
      // Handlers are registered before any command runs; none reads the identity until then.
      identity: { modelCode: 61 } as RegisterIdentity,
      clock: { now: () => Date.UTC(2026, 1, 1, 10, 0, 0) },
      timeZone: 'Europe/Moscow',
      zReportStepMs: 1,
      xReportMs: 1,
      printoutHistory: 1,
    });
    const unhandled = ALL_COMMANDS.filter((spec) => !device.handles(spec.code)).map((spec) => spec.name);
    expect(unhandled).toEqual([]);
    expect(device.handles(Buffer.of(0x01))).toBe(false);
  });
});
