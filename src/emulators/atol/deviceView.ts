import type { Tlv } from '../../drivers/atol/protocol/tlv.js';
import type { TaxType } from '../../drivers/atol/taxBytes.js';
import type { AtolDevice, ModeState, Printout } from './device.js';
import type { DeviceState, OpenReceiptState, RegisterIdentity, ShiftCounters } from './state.js';

export interface DocumentView {
  number: number;
  /** FFD document type: 2 open shift, 3 receipt, 5 close shift. */
  type: number;
  tlvs: Tlv[];
}

export interface ShiftView {
  open: boolean;
  /** The open shift's number, or the last closed one's. */
  number: number;
  /** When the current (or last) shift was opened: local wall-clock time with offset. */
  openedAt?: string;
  expired: boolean;
  lastReceiptNumber: number;
}

/**
 * A read-only look at the emulated register for tests and tools. Every getter returns a copy, so a
 * caller cannot change the register behind the protocol's back.
 */
export class DeviceView {
  constructor(private readonly device: AtolDevice) {}

  get identity(): RegisterIdentity {
    return structuredClone(this.device.identity);
  }

  /** The FFD version code the register works to (2 = 1.05, 4 = 1.2). */
  get ffdVersion(): number {
    return this.device.ffdVersion;
  }

  /** The `EB` tax byte the emulated firmware takes for a rate, or undefined when it knows none. */
  taxByte(type: TaxType): number | undefined {
    return this.device.vat.byteFor(type);
  }

  get mode(): ModeState {
    return { ...this.device.modeState };
  }

  /** The register's clock as local wall-clock time with offset. */
  get dateTime(): string {
    return this.device.iso(this.device.wallNow());
  }

  get lastDocumentNumber(): number {
    return this.device.state.lastDocumentNumber;
  }

  get documents(): DocumentView[] {
    return [...this.device.documents.keys()]
      .sort((a, b) => a - b)
      .map((number) => this.device.decodedDocument(number)!);
  }

  document(number: number): DocumentView | undefined {
    return this.device.decodedDocument(number);
  }

  get shift(): ShiftView {
    const { shift } = this.device.state;
    const view: ShiftView = {
      open: shift.open,
      number: this.device.currentShiftNumber(),
      expired: this.device.isShiftExpired(),
      lastReceiptNumber: shift.lastReceiptNumber,
    };
    if (shift.openedAtMs !== undefined)
      view.openedAt = this.device.iso(this.device.clock.wallClock(shift.openedAtMs));
    return view;
  }

  get receipt(): OpenReceiptState | undefined {
    const receipt = this.device.state.receipt;
    return receipt && structuredClone(receipt);
  }

  get cashKop(): number {
    return this.device.state.cashKop;
  }

  get ofd(): { unsentCount: number; firstUnsentNumber: number } {
    const { unsentCount, firstUnsentNumber } = this.device.state.ofd;
    return { unsentCount, firstUnsentNumber };
  }

  get counters(): ShiftCounters {
    return structuredClone(this.device.state.counters);
  }

  get printouts(): Printout[] {
    return [...this.device.printouts];
  }

  /** Everything the register would save, as saved. */
  state(): DeviceState {
    return this.device.snapshotState();
  }
}
