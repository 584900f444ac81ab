import { Mode } from '../../../drivers/atol/commands/modes.js';
import { cut, printLine } from '../../../drivers/atol/commands/print.js';
import type { AtolDevice, HandlerRegistry } from '../device.js';
import { ok } from '../outcome.js';
import { refusePrinterBlocked, requireMode } from './guards.js';

export function registerPrintHandlers(device: AtolDevice, handle: HandlerRegistry): void {
  handle(printLine, ({ text }) => {
    const refusal = requireMode(device, Mode.Idle, Mode.Registration) ?? refusePrinterBlocked(device);
    if (refusal) return refusal;
    // Inside a receipt the line is part of the receipt's printout; outside, it waits for the cut.
    const receipt = device.state.receipt;
    if (receipt) receipt.textLines.push(text);
    else device.pendingText.push(text);
    return ok();
  });

  handle(cut, () => {
    const refusal = requireMode(device, Mode.Idle, Mode.Registration) ?? refusePrinterBlocked(device);
    if (refusal) return refusal;
    device.flushText();
    return ok();
  });
}
