import { ValidationError } from '../../lib/errors.js';

/**
 * The VAT rates a receipt position can carry, named as ATOL's JSON tasks name them (`tax.type`). They are
 * the agent's domain identifiers too (src/agent/domain/vat.ts); a test keeps the two lists equal.
 */
export const TAX_TYPES = [
  'none',
  'vat0',
  'vat5',
  'vat7',
  'vat10',
  'vat20',
  'vat22',
  'vat105',
  'vat107',
  'vat110',
  'vat120',
  'vat122',
] as const;
export type TaxType = (typeof TAX_TYPES)[number];

export type TaxBytes = Partial<Record<TaxType, number>>;

/**
 * The `EB` tax byte as production code sends it (docs/protocol/atol-v3.md §8): TerminalClient and the
 * Zzzzipper vending firmware agree on 1, 2 and 6, Zzzzipper adds 5; 3 and 4 are the calculated forms of the
 * same two rates. Byte 1 was 18 % until 2019; the firmware applies 20 % to it since. No public source
 * shows the byte for 5 %, 7 %, 5/105, 7/107, 22 % or 22/122: they stay unknown here.
 */
export const SOURCE_TAX_BYTES: Readonly<TaxBytes> = {
  vat20: 1,
  vat10: 2,
  vat120: 3,
  vat110: 4,
  vat0: 5,
  none: 6,
};

/** What decides which table a register gets: its `A5` model byte and firmware version. */
export interface RegisterIdentity {
  model: number;
  firmwareVersion: string;
}

/** Tax bytes known for a family of registers, with where the knowledge comes from. */
export interface TaxByteProfile {
  name: string;
  matches(identity: RegisterIdentity): boolean;
  bytes: Readonly<TaxBytes>;
  source: string;
}

/**
 * Per model and firmware. Today there is one row: what the public sources show holds for every
 * platform-2.5 register. A row for a firmware that is known to take the 2026 rates goes above it.
 */
export const TAX_BYTE_PROFILES: readonly TaxByteProfile[] = [
  {
    name: 'platform 2.5, any firmware',
    matches: () => true,
    bytes: SOURCE_TAX_BYTES,
    source: 'docs/protocol/atol-v3.md §8',
  },
];

export interface TaxByteEntry {
  type: TaxType;
  /** The byte `EB` carries, or undefined when no source and no configuration gives one. */
  byte: number | undefined;
  /** `config`, the profile's name, or `unknown`. */
  origin: string;
}

/**
 * The tax byte of every rate for one register: its profile, overridden by configuration. A rate without a
 * byte is refused before anything is sent (`KktTaxRateUnknownError`), until configuration (or the
 * doctor's self-test) supplies it.
 */
export class TaxByteTable {
  private readonly entries = new Map<TaxType, TaxByteEntry>();

  constructor(profile: TaxByteProfile, overrides: TaxBytes = {}, field = 'taxBytes') {
    for (const type of TAX_TYPES) {
      const configured = overrides[type];
      if (configured !== undefined) {
        if (!Number.isInteger(configured) || configured < 1 || configured > 255) {
          throw new ValidationError(`${field}.${type}`, `must be a byte 1–255, got ${configured}`);
        }
        this.entries.set(type, { type, byte: configured, origin: 'config' });
      } else {
        const byte = profile.bytes[type];
        this.entries.set(type, { type, byte, origin: byte === undefined ? 'unknown' : profile.name });
      }
    }
    const owners = new Map<number, TaxType>();
    for (const entry of this.entries.values()) {
      if (entry.byte === undefined) continue;
      const other = owners.get(entry.byte);
      if (other !== undefined) {
        const [blamed, partner] = entry.origin === 'config' ? [entry.type, other] : [other, entry.type];
        throw new ValidationError(
          `${field}.${blamed}`,
          `byte ${entry.byte} is already the byte of ${partner}; two rates cannot share one`,
        );
      }
      owners.set(entry.byte, entry.type);
    }
  }

  /** The table for a register: the first matching profile, then the configured overrides. */
  static forRegister(identity: RegisterIdentity | undefined, overrides: TaxBytes = {}): TaxByteTable {
    const profile =
      (identity && TAX_BYTE_PROFILES.find((p) => p.matches(identity))) ?? TAX_BYTE_PROFILES.at(-1)!;
    return new TaxByteTable(profile, overrides);
  }

  byteFor(type: TaxType): number | undefined {
    return this.entries.get(type)?.byte;
  }

  /** The rate a byte stands for, or undefined. */
  typeFor(byte: number): TaxType | undefined {
    for (const entry of this.entries.values()) if (entry.byte === byte) return entry.type;
    return undefined;
  }

  /** Every rate with its byte (or none) and where the byte comes from: what `doctor` shows and probes. */
  list(): TaxByteEntry[] {
    return TAX_TYPES.map((type) => ({ ...this.entries.get(type)! }));
  }

  /**
   * What the self-test sends for a rate: its byte when the table has one, else the candidates (§15) that no
   * other rate of this table owns.
   */
  probeBytes(type: TaxType): { bytes: number[]; origin: string } {
    const entry = this.entries.get(type)!;
    if (entry.byte !== undefined) return { bytes: [entry.byte], origin: entry.origin };
    const owned = (byte: number) => this.typeFor(byte) !== undefined;
    return { bytes: (CANDIDATE_TAX_BYTES[type] ?? []).filter((b) => !owned(b)), origin: 'candidate' };
  }

  /** The rates among `types` that have no byte. */
  unknown(types: Iterable<TaxType>): TaxType[] {
    return [...new Set(types)].filter((type) => this.byteFor(type) === undefined);
  }
}

/**
 * Bytes the self-test tries for a rate the table has no byte for (docs/protocol/atol-v3.md §15): the rate's
 * number in ATOL's driver API (`LIBFPTR_TAX_*`), because for the six rates the sources show, that numbering
 * and the wire agree (1 = 18→20 %, 2 = 10 %, 3, 4, 5 = 0 %, 6 = none). That the register takes a candidate
 * shows the byte exists, not which rate the firmware applies to it: a person confirms and configures it.
 */
export const CANDIDATE_TAX_BYTES: Readonly<Partial<Record<TaxType, readonly number[]>>> = {
  vat5: [9],
  vat7: [10],
  vat105: [11],
  vat107: [12],
  vat22: [13],
  vat122: [14],
};
