import {
  deviceType,
  firmwareVersion,
  longStatus,
  shortStatus,
} from '../../../drivers/atol/commands/status.js';
import { bcdByte, encodeBcd } from '../../../drivers/atol/protocol/bcd.js';
import type { AtolDevice, HandlerRegistry } from '../device.js';
import { ok } from '../outcome.js';
import { receiptTotal } from '../receiptMath.js';

/** 1 RS-232, 4 USB, 6 Ethernet: the emulator listens on TCP. */
const PORT_ETHERNET = 6;

export function registerStatusHandlers(device: AtolDevice, handle: HandlerRegistry): void {
  handle(shortStatus, () =>
    ok({
      ...device.modeState,
      printer: {
        noPaper: device.faults.noPaper,
        printerNotConnected: false,
        mechanicalError: false,
        cutterError: false,
        overheat: false,
        printerError: false,
        paperNearEnd: false,
      },
    }),
  );

  handle(longStatus, () => {
    const { state } = device;
    const receipt = state.receipt;
    return ok({
      cashierNumber: state.cashierNumber,
      hallNumber: 1,
      dateTime: device.wallNow(),
      flags: {
        fiscalized: true,
        shiftOpen: state.shift.open,
        drawerOpen: false,
        paperPresent: !device.faults.noPaper,
        coverOpen: device.faults.coverOpen,
        fnActive: true,
        batteryLow: false,
      },
      serialShort: device.identity.serial.slice(-8),
      model: device.identity.modelCode,
      ...device.modeState,
      // While a receipt is open, the number it will get; otherwise the last one of the shift.
      receiptNumber: state.shift.lastReceiptNumber + (receipt ? 1 : 0),
      lastClosedShiftNumber: state.shift.lastClosedNumber,
      receiptState: receipt?.receiptType ?? 0,
      receiptSumKop: receipt ? receiptTotal(receipt) : 0,
      port: PORT_ETHERNET,
    });
  });

  handle(deviceType, () => {
    const { identity } = device;
    const { major, minor, build } = identity.firmware;
    const packedMode = (device.modeState.mode & 0x0f) | ((device.modeState.submode & 0x0f) << 4);
    return ok({
      protocolVersion: 3,
      deviceType: 1,
      model: identity.modelCode,
      modeBytes: Buffer.of(packedMode, 0),
      versionBytes: Buffer.concat([Buffer.of(bcdByte(major), bcdByte(minor), 0), encodeBcd(build, 2)]),
      name: identity.modelName,
    });
  });

  handle(firmwareVersion, ({ unit }) => {
    const { major, minor, build } = device.identity.firmware;
    // The bootloader has its own version; every other unit reports the main firmware.
    return ok(
      unit === 3 ? { major: 1, minor: 0, language: 0, build: 1 } : { major, minor, language: 0, build },
    );
  });
}
