import type { CommandRunner } from './commandRunner.js';
import {
  beginPosition,
  cancelReceipt,
  OpenReceiptFlags,
  openReceipt,
  ReceiptType,
  registerPosition,
  Tag,
  writeTag,
} from './commands/receipt.js';
import type { ShiftResult } from './fiscalResults.js';
import { encodeCp866 } from './protocol/cp866.js';
import { KktDeviceError } from './protocol/deviceErrors.js';
import { encodeTlv } from './protocol/tlv.js';
import { FfdVersion, innField, isFfd12, type ReceiptForm } from './receiptForm.js';
import type { DeviceInfo, FnInfo, KktStatus } from './registerState.js';
import type { TaxByteTable, TaxType } from './taxBytes.js';
import {
  MEASUREMENT_UNITS,
  PAYMENT_METHODS,
  PAYMENT_OBJECTS,
  TAXATION_SYSTEMS,
  type TaxationSystem,
} from './vocabulary.js';

/** What the agent writes into its receipts on this register: the self-test probes exactly that. */
export interface SelfTestPlan {
  /** The VAT rates receipts may carry; each gets a position of its own. */
  rates: readonly TaxType[];
  /** The cashier (1021, and 1203 when it has an INN). */
  operator: { name: string; vatin?: string };
  /** Tag 1055; without it, the first taxation system of the registration is probed. */
  taxationType?: TaxationSystem;
  /**
   * Open a closed shift first. That makes a fiscal document (the shift-open report), so it is only done
   * when asked (`doctor --open-shift`).
   */
  openShift?: boolean;
  /** Called after each probe's answer is recorded (the agent's kill-point tests crash there). */
  onProbe?: (probe: ProbeResult) => void;
}

export type ProbeVerdict = 'accepted' | 'refused' | 'skipped';

/** One thing the register was asked to take inside the probe receipt, and its answer. */
export interface ProbeResult {
  /** `tag` for an `E8` tag write, `rate` for a position (`EA` … `EB`) with a tax byte. */
  kind: 'tag' | 'rate';
  tag?: number;
  rate?: TaxType;
  /** The `EB` byte sent for a rate. */
  byte?: number;
  /** Where the byte comes from: `config`, the table's profile, or `candidate` (§15). */
  byteOrigin?: string;
  verdict: ProbeVerdict;
  /** The register's refusal: its error code, the extended code behind `EE`, its own text. */
  error?: { code: string; deviceCode: number; extendedCode?: number; deviceText: string; message: string };
  note?: string;
}

/** What the self-test found; `probes` is empty when they were skipped (`skipped` says why). */
export interface SelfTestReport {
  device: DeviceInfo;
  ffd: { version: number; name: string };
  status: KktStatus;
  fn: FnInfo;
  /** What the driver writes on this register (tags, tax bytes). */
  form: ReceiptForm;
  /** The shift the self-test opened because it was asked to (`openShift`). */
  shiftOpened?: ShiftResult;
  probes: ProbeResult[];
  skipped?: { code: string; reason: string };
  /** The probes stopped without an answer (a lost link): the receipt may be open until the next print. */
  interrupted?: { code: string; message: string };
  /**
   * The FN's last document number before and after: equal unless a shift was opened. Absent when the
   * register stopped answering before the count after could be read.
   */
  fiscalDocuments?: { before: number; after: number };
}

/** The FN life phase of a registered register that makes fiscal documents (KassArray `FNLifePhases`). */
export const FN_FISCAL_MODE = 3;

/**
 * Why the probes cannot run on a register in this state, or undefined. None of these is worked around:
 * each needs a person's decision (docs/protocol/atol-v3.md §15).
 */
export function selfTestBlocker(
  status: KktStatus,
  fn: FnInfo,
  ffdVersion: number,
  openShift: boolean,
): SelfTestReport['skipped'] {
  if (ffdVersion < FfdVersion.V1_05) {
    return {
      code: 'FFD_UNSUPPORTED',
      reason: 'the register works to FFD 1.0; the agent writes no receipts for it',
    };
  }
  if (!status.fiscalized || (fn.lifePhase !== undefined && fn.lifePhase !== FN_FISCAL_MODE)) {
    return {
      code: 'NOT_FISCAL',
      reason: `the register is not registered with a working FN (FN life phase ${fn.lifePhase ?? 'unknown'}); its receipts would not be fiscal`,
    };
  }
  if (status.receipt.open) {
    return {
      code: 'RECEIPT_OPEN',
      reason:
        'a receipt is open on the register (an interrupted print, or the keyboard). The agent cancels it before its next print; run doctor again after that',
    };
  }
  if (status.shift.state === 'expired') {
    return {
      code: 'SHIFT_EXPIRED',
      reason:
        'the shift is more than 24 hours old: close it (kkt-agent shift close, a Z report), then run doctor again',
    };
  }
  if (status.shift.state === 'closed' && !openShift) {
    return {
      code: 'SHIFT_CLOSED',
      reason:
        'the probes need an open shift and none is open. Run doctor again with --open-shift (it opens the shift: one fiscal document, the shift-open report), or open it with kkt-agent shift open',
    };
  }
  return undefined;
}

/** Synthetic values for the probe receipt: never a real customer's. */
export const PROBE_VALUES = {
  customerContact: 'probe@kkt-agent.invalid',
  buyerName: 'Проверка ККТ',
  /** A checksum-valid 12-digit INN for 1203 when the operator has none configured. */
  cashierInn: '500100732259',
  marker: 'kkt-agent doctor',
  priceKop: 100,
  quantityMilli: 1000,
} as const;

export interface ProbeContext {
  runner: CommandRunner;
  /** The effective FFD version code (2 = 1.05, 4 = 1.2). */
  ffdVersion: number;
  taxTable: TaxByteTable;
  /** The registration's INN: a valid buyer INN for 1228 that is nobody's customer. */
  registrationInn: string;
  /** The registration's taxation systems, lowest first. */
  registeredTaxation: readonly string[];
}

const RATE_LABEL: Record<TaxType, string> = {
  none: 'без НДС',
  vat0: 'НДС 0%',
  vat5: 'НДС 5%',
  vat7: 'НДС 7%',
  vat10: 'НДС 10%',
  vat20: 'НДС 20%',
  vat22: 'НДС 22%',
  vat105: 'НДС 5/105',
  vat107: 'НДС 7/107',
  vat110: 'НДС 10/110',
  vat120: 'НДС 20/120',
  vat122: 'НДС 22/122',
};

function refusal(error: KktDeviceError): NonNullable<ProbeResult['error']> {
  return {
    code: error.code,
    deviceCode: error.deviceCode,
    ...(error.extendedCode !== undefined ? { extendedCode: error.extendedCode } : {}),
    deviceText: error.deviceText,
    message: error.message,
  };
}

/**
 * The probes of docs/protocol/atol-v3.md §15, run inside a receipt opened not to be printed (`92` flag
 * 0x04) and cancelled (`59`) at the end: a cancelled receipt makes no fiscal document. Every command waits
 * for its answer, so a refusal belongs to the probe that caused it. The caller has checked that a shift is
 * open and no receipt is. Errors other than a register's refusal (a lost link) propagate: the receipt may
 * then be left open, and the next print cancels it (`92` → `9B` → `59`).
 */
export async function runReceiptProbes(
  context: ProbeContext,
  plan: SelfTestPlan,
  /** Filled as the probes go, so that what was learned survives a link that drops halfway. */
  results: ProbeResult[] = [],
): Promise<ProbeResult[]> {
  const { runner } = context;
  const attempt = async (work: () => Promise<unknown>): Promise<ProbeResult['error'] | undefined> => {
    try {
      await work();
      return undefined;
    } catch (error) {
      if (error instanceof KktDeviceError) return refusal(error);
      throw error;
    }
  };
  const record = (result: ProbeResult) => {
    results.push(result);
    plan.onProbe?.(result);
  };
  const probeTag = async (tag: number, value: Buffer, print = 1, note?: string) => {
    const error = await attempt(() => runner.run(writeTag, { flags: print, tlv: { tag, value } }));
    record({
      kind: 'tag',
      tag,
      verdict: error ? 'refused' : 'accepted',
      ...(error ? { error } : {}),
      ...(note ? { note } : {}),
    });
    return error === undefined;
  };
  const text = (value: string) => encodeCp866(value);

  await runner.run(openReceipt, { flags: OpenReceiptFlags.Electronic, receiptType: ReceiptType.Sell });

  // Receipt tags in the order a receipt writes them (docs/protocol/atol-v3.md §6).
  await probeTag(Tag.cashierName, text(plan.operator.name));
  await probeTag(
    Tag.cashierInn,
    text(innField(plan.operator.vatin ?? PROBE_VALUES.cashierInn)),
    1,
    plan.operator.vatin ? undefined : 'probed with a sample INN: the operator has none configured',
  );
  const taxation = plan.taxationType ?? (context.registeredTaxation[0] as TaxationSystem | undefined);
  if (taxation !== undefined) {
    await probeTag(
      Tag.taxationSystem,
      Buffer.of(TAXATION_SYSTEMS[taxation]),
      1,
      `taxation system ${taxation}`,
    );
  }
  await probeTag(Tag.customerContact, text(PROBE_VALUES.customerContact));
  const buyerName = encodeTlv(Tag.buyerName, text(PROBE_VALUES.buyerName));
  const buyerInn = encodeTlv(Tag.buyerInn, text(innField(context.registrationInn)));
  if (isFfd12(context.ffdVersion)) {
    await probeTag(Tag.buyerInfo, Buffer.concat([buyerName, buyerInn]), 1, 'holding 1227 and 1228 (FFD 1.2)');
  } else {
    await probeTag(Tag.buyerName, buyerName.subarray(4));
    await probeTag(Tag.buyerInn, buyerInn.subarray(4));
  }
  await probeTag(Tag.marker, text(PROBE_VALUES.marker));

  // The position tag, on a position with a byte every register takes.
  const ffd12 = isFfd12(context.ffdVersion);
  let unitAccepted = false;
  const referenceRate = (['none', 'vat0', 'vat10', 'vat20'] as const).find(
    (type) => context.taxTable.byteFor(type) !== undefined,
  );
  const unit = Buffer.of(MEASUREMENT_UNITS.piece);
  /** A position: `EA`, 2108 probed (`probe`), written as receipts write it (`write`) or left out, `EB`. */
  const position = async (taxCode: number, label: string, unitTag: 'probe' | 'write' | 'none') => {
    await runner.run(beginPosition, undefined);
    if (unitTag === 'probe') await probeTag(Tag.measurementUnit, unit, 0);
    if (unitTag === 'write') {
      const refused = await attempt(() =>
        runner.run(writeTag, { flags: 0, tlv: { tag: Tag.measurementUnit, value: unit } }),
      );
      if (refused) return refused;
    }
    return attempt(() =>
      runner.run(registerPosition, {
        flags: 0,
        priceKop: PROBE_VALUES.priceKop,
        quantityMilli: PROBE_VALUES.quantityMilli,
        amountKop: PROBE_VALUES.priceKop,
        taxCode,
        taxSumKop: 0,
        department: 1,
        paymentObject: PAYMENT_OBJECTS.commodity,
        paymentMethod: PAYMENT_METHODS.fullPayment,
        discountSign: 0,
        discountKop: 0,
        name: `Проверка: ${label}`,
      }),
    );
  };
  if (ffd12 && referenceRate !== undefined) {
    await position(context.taxTable.byteFor(referenceRate)!, 'единица измерения', 'probe');
    unitAccepted = results.at(-1)?.verdict === 'accepted';
  }

  for (const rate of plan.rates) {
    const { bytes, origin } = context.taxTable.probeBytes(rate);
    if (bytes.length === 0) {
      record({
        kind: 'rate',
        rate,
        verdict: 'skipped',
        note: 'no byte is known and no candidate is left to try',
      });
      continue;
    }
    for (const [index, byte] of bytes.entries()) {
      const error = await position(byte, RATE_LABEL[rate], ffd12 && unitAccepted ? 'write' : 'none');
      const last = index === bytes.length - 1;
      if (error && !last) continue;
      record({
        kind: 'rate',
        rate,
        byte,
        byteOrigin: origin,
        verdict: error ? 'refused' : 'accepted',
        ...(error ? { error } : {}),
        ...(origin === 'candidate'
          ? {
              note: error
                ? `no candidate byte was taken (tried ${bytes.join(', ')})`
                : `candidate byte ${byte}: the register takes it; confirm the rate it stands for, then set taxBytes.${rate}: ${byte}`,
            }
          : {}),
      });
      break;
    }
  }

  await runner.run(cancelReceipt, undefined);
  return results;
}
