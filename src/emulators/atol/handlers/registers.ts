import { Register, readRegister, registerValue } from '../../../drivers/atol/commands/registers.js';
import { encodeBcd } from '../../../drivers/atol/protocol/bcd.js';
import type { AtolDevice, HandlerRegistry } from '../device.js';
import { ErrorCode, fail, ok } from '../outcome.js';

/** Shift totals the driver does not read but a register has (docs/protocol/atol-v3.md §11): payment sums and receipt counts. */
const PAYMENT_SUM_REGISTER = 0x03;
const RECEIPT_COUNT_REGISTER = 0x06;

export function registerRegisterHandlers(device: AtolDevice, handle: HandlerRegistry): void {
  handle(readRegister, ({ register, p1, p2 }) => {
    const { state } = device;
    switch (register) {
      case Register.CashInDrawer:
        return ok(registerValue.cashInDrawer.encode(state.cashKop));
      case Register.UnsentOfdDocuments:
        return ok(registerValue.unsentOfdDocuments.encode(state.ofd.unsentCount));
      case Register.ShiftInfo: {
        const openedAt =
          state.shift.openedAtMs === undefined
            ? { year: 2000, month: 1, day: 1, hour: 0, minute: 0, second: 0 }
            : device.clock.wallClock(state.shift.openedAtMs);
        return ok(registerValue.shiftInfo.encode({ shiftOpen: state.shift.open, openedAt }));
      }
      case Register.Serial:
        return ok(registerValue.serial.encode(device.identity.serial));
      case Register.PrintSettings:
        return ok(registerValue.printSettings.encode(device.identity.lineWidth));
      case Register.SessionData:
        return ok(registerValue.sessionData.encode(device.currentShiftNumber()));
      case Register.FfdVersions:
        return ok(registerValue.ffdVersions.encode({ kkt: device.ffdVersion, fn: device.ffdVersion }));
      case Register.ExtendedError:
        return ok(
          registerValue.extendedError.encode({
            command: state.extendedError.command,
            errorCode: state.extendedError.code,
          }),
        );
      case PAYMENT_SUM_REGISTER:
        return ok(encodeBcd(state.counters.payments[`${p1}:${p2}`] ?? 0, 6));
      case RECEIPT_COUNT_REGISTER:
        return ok(encodeBcd(state.counters.receipts[String(p1)] ?? 0, 2));
      default:
        return fail(ErrorCode.BadRegister);
    }
  });
}
