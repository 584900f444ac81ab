/**
 * Faults the emulator can inject, each for the next `times` matching requests (default 1). They model what a
 * LAN, a busy terminal or an unlucky moment does to a client, so tests can prove the driver never sells twice.
 */
export type IntentFault =
  /** SALE: the sale is fiscalised and recorded, then the connection is dropped without an answer. */
  | { kind: 'dropAfterSale'; times?: number }
  /** SALE: the connection is dropped as soon as the request arrives; nothing is recorded. */
  | { kind: 'dropBeforeSale'; times?: number }
  /** SALE: the sale is recorded, the answer comes only after `delayMs`. */
  | { kind: 'slowAnswer'; delayMs: number; times?: number }
  /** SALE: an HTTP error status instead of an answer; `recordSale` (default true) says whether the sale happened first. */
  | { kind: 'httpError'; status?: number; recordSale?: boolean; times?: number }
  /** SALE: the sale is recorded and the answer is not JSON. */
  | { kind: 'garbledAnswer'; times?: number }
  /** SALE: answered 405 (token error) as if the token had expired; nothing is recorded. */
  | { kind: 'rejectToken'; times?: number }
  /** AUTH: refused as if the PIN were wrong. */
  | { kind: 'refuseAuth'; times?: number }
  /** SALE: the payment is taken but fiscalisation fails: 399 now, and 410 until a person finishes it. */
  | { kind: 'fiscalisationFails'; times?: number }
  /** SALE: answered with this resultCode (for codes the emulator does not model, e.g. 407, 409, 412). */
  | { kind: 'resultCode'; resultCode: number; messageDetail?: string; times?: number };

export type IntentFaultKind = IntentFault['kind'];

interface ArmedFault {
  fault: IntentFault;
  remaining: number;
}

/** The armed faults, consumed in the order they were set. */
export class FaultPlan {
  private armed: ArmedFault[] = [];

  constructor(initial: readonly IntentFault[] = []) {
    for (const fault of initial) this.add(fault);
  }

  add(fault: IntentFault): void {
    const times = fault.times ?? 1;
    if (!Number.isInteger(times) || times < 1) {
      throw new RangeError(`fault.times must be a positive integer, got ${times}`);
    }
    this.armed.push({ fault, remaining: times });
  }

  clear(): void {
    this.armed = [];
  }

  /** Takes one use of the first armed fault whose kind is listed, if any. */
  take<Kind extends IntentFaultKind>(
    kinds: readonly Kind[],
    accept: (fault: Extract<IntentFault, { kind: Kind }>) => boolean = () => true,
  ): Extract<IntentFault, { kind: Kind }> | undefined {
    const index = this.armed.findIndex(
      (entry) =>
        (kinds as readonly IntentFaultKind[]).includes(entry.fault.kind) &&
        accept(entry.fault as Extract<IntentFault, { kind: Kind }>),
    );
    const entry = this.armed[index];
    if (entry === undefined) return undefined;
    entry.remaining -= 1;
    if (entry.remaining === 0) this.armed.splice(index, 1);
    return entry.fault as Extract<IntentFault, { kind: Kind }>;
  }
}
