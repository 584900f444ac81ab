import { Mode } from '../../../drivers/atol/commands/modes.js';
import { ReportType, xReport } from '../../../drivers/atol/commands/report.js';
import { openShift, zReport } from '../../../drivers/atol/commands/shift.js';
import { wallClockToFfdSeconds } from '../../../drivers/atol/protocol/dateTime.js';
import type { AtolDevice, HandlerRegistry } from '../device.js';
import { buildCloseShiftDocument, FfdTag } from '../fiscalDocuments.js';
import { ErrorCode, fail, ok } from '../outcome.js';
import { emptyCounters } from '../state.js';
import { cashierTags, tagText } from '../tags.js';
import { refuseFnBlocked, refusePrinterBlocked, requireMode } from './guards.js';

/** Z report: printing (3.2), then clearing the registers (7.1), then back to 3.0 (docs/protocol/atol-v3.md §5). */
const Z_REPORT_WALK: ReadonlyArray<[number, number]> = [
  [3, 2],
  [7, 1],
  [3, 0],
];
const X_REPORT_WALK: ReadonlyArray<[number, number]> = [
  [2, 2],
  [2, 0],
];

export function registerReportHandlers(device: AtolDevice, handle: HandlerRegistry): void {
  handle(openShift, () => {
    const refusal = requireMode(device, Mode.Registration);
    if (refusal) return refusal;
    if (device.state.shift.open) return fail(ErrorCode.ShiftOpen);
    const blocked = refuseFnBlocked(device) ?? refusePrinterBlocked(device);
    if (blocked) return blocked;
    const tags = device.state.pendingTags;
    device.state.pendingTags = [];
    device.openShift(tags);
    return ok();
  });

  handle(zReport, () => {
    const refusal = requireMode(device, Mode.ReportClear);
    if (refusal) return refusal;
    const { state } = device;
    if (!state.shift.open) return fail(ErrorCode.ReceiptClosed);
    // Closing the shift makes an FD too, so a full FN refuses it; an OFD backlog does not (our reading).
    if (device.faults.fnFull) return fail(ErrorCode.FnFull);
    const printer = refusePrinterBlocked(device);
    if (printer) return printer;

    const wall = device.wallNow();
    const ffdSeconds = wallClockToFfdSeconds(wall);
    const documentNumber = state.lastDocumentNumber + 1;
    const shiftNumber = state.shift.lastClosedNumber + 1;
    const tags = cashierTags(state.pendingTags);
    state.pendingTags = [];
    const receiptsInShift = state.shift.lastReceiptNumber;
    const documentsInShift = state.shift.documentsInShift + 1;
    const counters = state.counters;
    // The FD is made first, so the count of unsent documents it reports includes itself.
    const unsentDocuments = state.ofd.unsentCount + 1;
    const firstUnsentSeconds =
      state.ofd.unsentCount > 0 && state.ofd.firstUnsentAtMs !== undefined
        ? wallClockToFfdSeconds(device.clock.wallClock(state.ofd.firstUnsentAtMs))
        : ffdSeconds;
    const built = buildCloseShiftDocument({
      identity: device.identity,
      documentNumber,
      ffdSeconds,
      shiftNumber,
      tags,
      receiptsInShift,
      unsentDocuments,
      firstUnsentSeconds,
    });
    device.storeDocument(built, device.shiftJournal('closeShift', built, wall, shiftNumber), ffdSeconds);
    // The FN closes the shift with the document; the walk below is the printer and the register clearing.
    state.shift = {
      open: false,
      lastClosedNumber: shiftNumber,
      openedAtMs: state.shift.openedAtMs,
      lastReceiptNumber: 0,
      documentsInShift: 0,
    };
    state.counters = emptyCounters();
    device.print(
      {
        kind: 'closeShift',
        header: device.header(),
        footer: { documentNumber, fiscalSign: built.sign.value, dateTime: wall },
        shiftNumber,
        cashier: tagText(tags, FfdTag.cashierName),
        counters,
        cashKop: state.cashKop,
        receiptsInShift,
        documentsInShift,
        unsentDocuments,
      },
      documentNumber,
    );
    device.walk(Z_REPORT_WALK, device.options.zReportStepMs);
    return ok();
  });

  handle(xReport, ({ reportType }) => {
    const refusal = requireMode(device, Mode.ReportNoClear);
    if (refusal) return refusal;
    if (reportType !== ReportType.DailyX) return fail(ErrorCode.BadReportType);
    const printer = refusePrinterBlocked(device);
    if (printer) return printer;
    const { state } = device;
    device.print({
      kind: 'xReport',
      header: device.header(),
      dateTime: device.wallNow(),
      shiftNumber: device.currentShiftNumber(),
      shiftOpen: state.shift.open,
      cashier: tagText(state.pendingTags, FfdTag.cashierName),
      counters: state.counters,
      cashKop: state.cashKop,
      unsentDocuments: state.ofd.unsentCount,
    });
    device.walk(X_REPORT_WALK, device.options.xReportMs);
    return ok();
  });
}
