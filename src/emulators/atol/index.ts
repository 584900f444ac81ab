/**
 * The ATOL emulator: a register (platform 2.5, protocol v3) on a TCP port, for the demo and every test.
 * It shares the transport framing and the command codecs with the driver, never its logic.
 */

export { type AtolEmulatorCliOptions, emulatorCliOptionsSchema, runAtolEmulatorCli } from './cli.js';
export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export type { CommandRecord, ModeState, Printout } from './device.js';
export type { DeviceView, DocumentView, ShiftView } from './deviceView.js';
export {
  AtolEmulator,
  type AtolEmulatorEvents,
  type AtolEmulatorOptions,
  type CommandEvent,
  DEFAULT_EMULATOR_PORT,
  type FaultEvent,
  type IdentityOptions,
  startAtolEmulator,
} from './emulator.js';
export { EmulatorConfigError, EmulatorStateError } from './errors.js';
export {
  FAULT_DEFAULTS,
  FAULT_NAMES,
  type FaultName,
  type FaultSettings,
  parseFaultSpecs,
} from './faults.js';
export type { JournalEntry, JournalItem } from './journalEntry.js';
export { EMULATED_MODELS, type EmulatedModel } from './models.js';
export { archivePathFor } from './persistence.js';
export type { ConnectionInfo, DisconnectInfo } from './server.js';
export type { DeviceState, OpenReceiptState, RegisterIdentity, ShiftCounters } from './state.js';
export { EMULATOR_EXTRA_TAX_BYTES, EMULATOR_TAX_BYTES } from './vat.js';
