import { setDateTime } from '../../../drivers/atol/commands/dateTime.js';
import { enterMode, exitMode, Mode } from '../../../drivers/atol/commands/modes.js';
import { formatWallClock, wallClockToFfdSeconds } from '../../../drivers/atol/protocol/dateTime.js';
import type { AtolDevice, HandlerRegistry } from '../device.js';
import { ErrorCode, fail, ok } from '../outcome.js';

/** Modes a user may enter with `56`, and the users allowed in each (administrators 29 and 30 everywhere). */
const ENTERABLE_MODES: ReadonlySet<number> = new Set([
  Mode.Registration,
  Mode.ReportNoClear,
  Mode.ReportClear,
  Mode.Programming,
  Mode.FnAccess,
]);
const ADMINISTRATORS: ReadonlySet<number> = new Set([29, 30]);
const CASHIER_MODES: ReadonlySet<number> = new Set([Mode.Registration, Mode.ReportNoClear]);

export function registerModeHandlers(device: AtolDevice, handle: HandlerRegistry): void {
  handle(enterMode, ({ mode, password }) => {
    if (device.modeState.mode !== Mode.Idle || !ENTERABLE_MODES.has(mode)) return fail(ErrorCode.WrongMode);
    const user = device.state.userPasswords.indexOf(password) + 1;
    if (user === 0) return fail(ErrorCode.WrongPassword);
    // Cashiers (1–28) may register and print X reports; Z reports and service modes need 29 or 30.
    if (!ADMINISTRATORS.has(user) && !CASHIER_MODES.has(mode)) return fail(ErrorCode.WrongPassword);
    device.modeState = { mode, submode: 0 };
    device.state.cashierNumber = user;
    return ok();
  });

  handle(exitMode, () => {
    // In mode 0 already there is nothing to leave: answered OK (hosts often send 48 first, blindly).
    if (device.state.receipt) return fail(ErrorCode.ReceiptOpen);
    device.modeState = { mode: Mode.Idle, submode: 0 };
    return ok();
  });

  handle(setDateTime, (t) => {
    if (device.state.shift.open) return fail(ErrorCode.ShiftOpen);
    // A date that does not exist (30 February, or an hour skipped by DST) reads back differently.
    const readBack = device.clock.wallClock(device.clock.instantOf(t));
    if (formatWallClock(readBack) !== formatWallClock(t)) return fail(ErrorCode.CheckDateTime);
    if (device.state.lastDocumentNumber > 0 && wallClockToFfdSeconds(t) < device.state.lastDocumentSeconds) {
      return fail(ErrorCode.DateBeforeFn);
    }
    device.setWallClock(t);
    return ok();
  });
}
