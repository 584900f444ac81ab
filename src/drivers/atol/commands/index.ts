import * as cash from './cash.js';
import type { CommandSpec } from './command.js';
import * as dateTime from './dateTime.js';
import * as fn from './fn.js';
import * as modes from './modes.js';
import * as print from './print.js';
import * as receipt from './receipt.js';
import * as registers from './registers.js';
import * as report from './report.js';
import * as shift from './shift.js';
import * as status from './status.js';

export * from './cash.js';
export * from './command.js';
export * from './dateTime.js';
export * from './fn.js';
export * from './modes.js';
export * from './print.js';
export * from './receipt.js';
export * from './registers.js';
export * from './report.js';
export * from './shift.js';
export * from './status.js';

type AnySpec = CommandSpec<never, never>;

/** Every command the driver sends, keyed for the emulator's dispatch. */
export const ALL_COMMANDS: ReadonlyArray<CommandSpec<unknown, unknown>> = [
  status.shortStatus,
  status.longStatus,
  status.deviceType,
  status.firmwareVersion,
  modes.enterMode,
  modes.exitMode,
  shift.openShift,
  shift.zReport,
  report.xReport,
  receipt.openReceipt,
  receipt.beginPosition,
  receipt.registerPosition,
  receipt.writeTag,
  receipt.payment,
  receipt.closeReceipt,
  receipt.cancelReceipt,
  cash.cashIn,
  cash.cashOut,
  print.printLine,
  print.cut,
  registers.readRegister,
  fn.fnStatus,
  fn.fnValidity,
  fn.fnVersion,
  fn.ofdExchangeStatus,
  fn.registrationInfo,
  fn.selectDocument,
  fn.readDocumentChunk,
  dateTime.setDateTime,
] as unknown as AnySpec[] as ReadonlyArray<CommandSpec<unknown, unknown>>;

/** Finds the spec a command body starts with (two-byte codes such as `A4 30` are matched first). */
export function findCommand(body: Buffer): CommandSpec<unknown, unknown> | undefined {
  let best: CommandSpec<unknown, unknown> | undefined;
  for (const spec of ALL_COMMANDS) {
    if (body.length >= spec.code.length && body.subarray(0, spec.code.length).equals(spec.code)) {
      if (!best || spec.code.length > best.code.length) best = spec;
    }
  }
  return best;
}
