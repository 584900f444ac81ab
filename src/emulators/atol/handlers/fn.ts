import {
  fnStatus,
  fnValidity,
  fnVersion,
  ofdExchangeStatus,
  readDocumentChunk,
  registrationInfo,
  selectDocument,
} from '../../../drivers/atol/commands/fn.js';
import { type DeviceDateTime, ffdSecondsToWallClock } from '../../../drivers/atol/protocol/dateTime.js';
import type { AtolDevice, HandlerRegistry } from '../device.js';
import { documentSize, documentTlvs } from '../fiscalDocuments.js';
import { ErrorCode, fail, ok } from '../outcome.js';

/** FN life phase 3: fiscal mode (registered, documents being made). */
const LIFE_PHASE_FISCAL = 3;
/** FN "current document" codes: none open, or a receipt being formed. */
const NO_DOCUMENT = 0;
const RECEIPT_DOCUMENT = 4;

/** FN structures write "no date" as all-zero bytes. */
const NO_DATE: DeviceDateTime = { year: 2000, month: 0, day: 0, hour: 0, minute: 0, second: 0 };

export function registerFnHandlers(device: AtolDevice, handle: HandlerRegistry): void {
  handle(fnStatus, () => {
    const { state } = device;
    const receipt = state.receipt;
    return ok({
      lifePhase: LIFE_PHASE_FISCAL,
      currentDocumentType: receipt ? RECEIPT_DOCUMENT : NO_DOCUMENT,
      documentDataReceived: receipt !== undefined && receipt.positions.length > 0,
      shiftOpen: state.shift.open,
      warnings: {
        needReplacement: false,
        resourceExhausted: false,
        memoryOverflow: device.faults.fnFull,
        ofdTimeout: device.isOfdBlocked(),
        criticalError: false,
      },
      lastDocumentDateTime:
        state.lastDocumentNumber > 0 ? ffdSecondsToWallClock(state.lastDocumentSeconds) : NO_DATE,
      fnSerial: device.identity.fnSerial,
      lastDocumentNumber: state.lastDocumentNumber,
    });
  });

  handle(fnValidity, () => {
    const { year, month, day } = device.identity.fnValidUntil;
    return ok({
      validUntil: { year, month, day, hour: 0, minute: 0, second: 0 },
      registrationsRemaining: 29,
      registrationsDone: 1,
    });
  });

  handle(fnVersion, () => ok({ version: device.identity.fnVersion, serialType: 1 }));

  handle(ofdExchangeStatus, () => {
    const { ofd } = device.state;
    const pending = ofd.unsentCount > 0;
    return ok({
      // b1: the FN holds documents for the OFD.
      statusBits: pending ? 0x02 : 0,
      readingMessage: false,
      unsentCount: ofd.unsentCount,
      firstUnsentDocumentNumber: pending ? ofd.firstUnsentNumber : 0,
      firstUnsentDateTime:
        pending && ofd.firstUnsentAtMs !== undefined ? device.clock.wallClock(ofd.firstUnsentAtMs) : NO_DATE,
    });
  });

  handle(registrationInfo, () => {
    const { identity } = device;
    return ok({
      registeredAt: device.clock.wallClock(identity.registeredAtMs),
      inn: identity.inn,
      registrationNumber: identity.registrationNumber,
      taxationSystems: identity.taxationSystems,
      operationModes: 0,
    });
  });

  // A4 45 tells the type and the TLV list's size; each A4 46 then hands out one TLV, DA after the last
  // (docs/protocol/atol-v3.md §10).
  handle(selectDocument, ({ documentNumber }) => {
    const document = device.documents.get(documentNumber);
    if (!document) {
      device.reader = undefined;
      return fail(ErrorCode.NoData);
    }
    device.reader = { tlvs: documentTlvs(document), next: 0 };
    return ok({ documentType: document.type, size: documentSize(document) });
  });

  handle(readDocumentChunk, () => {
    const reader = device.reader;
    const tlv = reader?.tlvs[reader.next];
    if (!reader || !tlv) return fail(ErrorCode.NoData);
    reader.next++;
    return ok(tlv);
  });
}
