import { ValidationError } from '../../lib/errors.js';
import type { LocalModuleReport } from './localModule/reportTypes.js';

/**
 * What `kkt-agent doctor` learns about one device (docs/atol-backends.md, "The self-test"). The agent keeps
 * the last report per device and refuses, at intake, a bill that needs something the register refused.
 */

/** Something a receipt may need of the register: an FFD tag (`tag:1008`) or a VAT rate (`vat:vat22`). */
export type Feature = `tag:${number}` | `vat:${string}`;

export type FindingVerdict = 'accepted' | 'refused' | 'skipped';

/** One row of the doctor's table. */
export interface DoctorFinding {
  feature: Feature;
  /** What a technician reads: "1008 customer contact", "VAT 22 % (vat22)". */
  label: string;
  verdict: FindingVerdict;
  /** The `EB` tax byte sent for a rate, and where it comes from (`config`, the table, `candidate`). */
  byte?: number;
  byteOrigin?: string;
  /** The register's own answer: its error code (`0xEE/0x0104`), its text, the agent's code for it. */
  error?: { code: string; register: string; text: string; message: string };
  note?: string;
}

export type ProbeOutcome = 'done' | 'skipped' | 'interrupted' | 'unsupported' | 'offline';

export interface DoctorReport {
  deviceId: string;
  kind: string;
  /** When the self-test ran (ISO 8601, UTC). */
  at: string;
  identity?: {
    model?: string;
    serial?: string;
    firmware?: string;
    ffd?: string;
    fn?: { serial?: string; state?: string; validUntil?: string; warnings?: string[] };
    registration?: { inn?: string; number?: string; taxationSystems?: string[] };
  };
  shift?: { state: string; number?: number; openedAt?: string; expiresAt?: string };
  paper?: { present: boolean; nearEnd?: boolean };
  ofd?: { unsentCount: number; oldestUnsentAt?: string };
  probes: ProbeOutcome;
  /** Why the probes did not run (or stopped), and its code (`SHIFT_CLOSED`, `RECEIPT_OPEN` …). */
  reason?: { code: string; message: string };
  findings: DoctorFinding[];
  /** The FN's last document number before and after: equal unless the doctor was asked to open the shift. */
  fiscalDocuments?: { before: number; after: number };
  shiftOpened?: { shiftNumber: number; fiscalDocumentNumber: number };
  /** The shop's local module of Честный ЗНАК, when the device's config names one (docs/marking.md). */
  localModule?: LocalModuleReport;
}

export interface DoctorOptions {
  /** Open a closed shift so that the probes can run (one fiscal document). */
  openShift?: boolean;
  /** Called after each probe (the kill-point tests crash the process here). */
  onProbe?: () => void;
}

/**
 * A bill needs something the register refused in its last self-test. Nothing was sent; the job fails at
 * intake with the field that needs it, instead of at the register.
 */
export class RefusedInSelfTestError extends ValidationError {
  constructor(field: string, deviceId: string, finding: DoctorFinding, at: string) {
    const said = finding.error ? ` (register error ${finding.error.register} "${finding.error.text}")` : '';
    super(
      field,
      `needs ${finding.label}${finding.byte !== undefined ? ` (byte ${finding.byte})` : ''}, which register ${deviceId} refused in its self-test of ${at}${said}. Nothing was sent. Fix the register or the configuration (docs/atol-backends.md, "What to do with a refusal"), run kkt-agent doctor again, then ask for the bill again.`,
      { device: deviceId, feature: finding.feature, selfTestAt: at, registerError: finding.error?.register },
      'KKT_REFUSED_IN_SELF_TEST',
    );
  }
}
