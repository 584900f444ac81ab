import type { AtolDevice } from '../device.js';
import { ErrorCode, fail, type Outcome } from '../outcome.js';
import { cashierTags } from '../tags.js';

/**
 * Preconditions shared by command families. Each returns the refusal, or undefined when the command may
 * go on; the order of checks is the order of the error a register reports first.
 */

export function requireMode(device: AtolDevice, ...modes: number[]): Outcome<never> | undefined {
  return modes.includes(device.modeState.mode) ? undefined : fail(ErrorCode.WrongMode);
}

/** Operations inside the shift: refused once the shift is older than 24 hours. */
export function refuseExpiredShift(device: AtolDevice): Outcome<never> | undefined {
  return device.isShiftExpired() ? fail(ErrorCode.ShiftExpired) : undefined;
}

/** The FN can make no more documents: archive full, or the OFD backlog is 30 days old. */
export function refuseFnBlocked(device: AtolDevice): Outcome<never> | undefined {
  if (device.faults.fnFull) return fail(ErrorCode.FnFull);
  if (device.isOfdBlocked()) return fail(ErrorCode.UnsentDocuments);
  return undefined;
}

/** The printer cannot print: no paper, or the cover is open (both answer `67`, see docs/emulator.md). */
export function refusePrinterBlocked(device: AtolDevice): Outcome<never> | undefined {
  return device.faults.noPaper || device.faults.coverOpen ? fail(ErrorCode.NoPaper) : undefined;
}

/** A closed shift is opened implicitly by `92`, `49` and `4F`, which needs the FN and the printer. */
export function refuseImplicitShiftOpening(device: AtolDevice): Outcome<never> | undefined {
  if (device.state.shift.open) return undefined;
  return refuseFnBlocked(device) ?? refusePrinterBlocked(device);
}

/** Opens a closed shift with the cashier written beforehand; tags pending outside a document are used up. */
export function openShiftIfClosed(device: AtolDevice): void {
  const tags = device.state.pendingTags;
  device.state.pendingTags = [];
  if (!device.state.shift.open) device.openShift(cashierTags(tags));
}
