import type { DocumentHeader } from './commands/fn.js';
import type { Tlv } from './protocol/tlv.js';

/**
 * Reading a fiscal document back from the FN (docs/protocol/atol-v3.md §10): `A4 45` selects it and tells
 * its type and the size of its TLV list; each `A4 46` then hands out one TLV, a long one possibly spread
 * over several answers; error `DA` says there is nothing more. We stop at the size, at `DA`, or as soon as
 * the caller has what it needs (the short read of the normal path).
 */
export interface DocumentSource {
  select(documentNumber: number): Promise<DocumentHeader>;
  /** The next `A4 46` answer's data, or undefined when the register says there is no more (`DA`). */
  next(): Promise<Buffer | undefined>;
}

export interface ReadDocument extends DocumentHeader {
  tlvs: Tlv[];
  /** Every TLV up to the announced size was read (false after a short read or an early `DA`). */
  complete: boolean;
}

/**
 * Collects `A4 46` answers until one whole TLV is there, as TerminalClient does: bytes after the TLV in
 * the same answer are dropped, which keeps an answer that carries a reserved byte readable.
 */
export class TlvAssembler {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Tlv | undefined {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.pending.length < 4) return undefined;
    const length = this.pending.readUInt16LE(2);
    if (this.pending.length < 4 + length) return undefined;
    const tlv = {
      tag: this.pending.readUInt16LE(0),
      value: Buffer.from(this.pending.subarray(4, 4 + length)),
    };
    this.pending = Buffer.alloc(0);
    return tlv;
  }

  /** Bytes received that do not yet make a whole TLV. */
  get pendingBytes(): number {
    return this.pending.length;
  }
}

export async function readDocumentTlvs(
  source: DocumentSource,
  documentNumber: number,
  enough: (header: DocumentHeader, tlvs: readonly Tlv[]) => boolean = () => false,
): Promise<ReadDocument> {
  const header = await source.select(documentNumber);
  const tlvs: Tlv[] = [];
  const assembler = new TlvAssembler();
  let consumed = 0;
  // Every answer brings at least one byte, so this bounds a register that never says DA.
  let answersLeft = header.size + 4;
  while (consumed < header.size && answersLeft-- > 0) {
    const chunk = await source.next();
    if (chunk === undefined || chunk.length === 0) break;
    const tlv = assembler.push(chunk);
    if (!tlv) continue;
    tlvs.push(tlv);
    consumed += 4 + tlv.value.length;
    if (enough(header, tlvs)) return { ...header, tlvs, complete: consumed >= header.size };
  }
  return { ...header, tlvs, complete: consumed >= header.size && assembler.pendingBytes === 0 };
}
