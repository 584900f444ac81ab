import type { ProbeResult, SelfTestReport } from '../../../drivers/atol/selfTest.js';
import { VAT_TYPES, type VatType } from '../../domain/vat.js';
import type { DoctorFinding, DoctorReport, Feature } from '../doctorReport.js';

const TAG_LABELS: Record<number, string> = {
  1008: '1008 customer contact',
  1021: '1021 cashier name',
  1055: '1055 taxation system',
  1192: '1192 agent marker',
  1203: '1203 cashier INN',
  1227: '1227 buyer name',
  1228: '1228 buyer INN',
  1256: '1256 buyer (holds 1227, 1228)',
  2108: '2108 measurement unit',
};

/** FN life phases (`A4 30`), as the FN documentation numbers them (docs/protocol/atol-v3.md §15). */
const FN_PHASES: Record<number, string> = {
  0: 'factory mode',
  1: 'ready for registration',
  3: 'fiscal mode',
  7: 'archive closed, documents still to send',
  15: 'archive closed, all documents sent',
};

export function vatLabel(vat: VatType): string {
  const { ratePercent, calculated } = VAT_TYPES[vat];
  if (vat === 'none') return 'no VAT (none)';
  return calculated ? `VAT ${ratePercent}/${100 + ratePercent} (${vat})` : `VAT ${ratePercent} % (${vat})`;
}

const hex = (n: number, width: number) => `0x${n.toString(16).toUpperCase().padStart(width, '0')}`;

function findingOf(probe: ProbeResult): DoctorFinding {
  const feature: Feature = probe.kind === 'tag' ? `tag:${probe.tag!}` : `vat:${probe.rate!}`;
  return {
    feature,
    label:
      probe.kind === 'tag' ? (TAG_LABELS[probe.tag!] ?? `tag ${probe.tag}`) : vatLabel(probe.rate as VatType),
    verdict: probe.verdict,
    ...(probe.byte !== undefined ? { byte: probe.byte, byteOrigin: probe.byteOrigin } : {}),
    ...(probe.error
      ? {
          error: {
            code: probe.error.code,
            register:
              probe.error.extendedCode === undefined
                ? hex(probe.error.deviceCode, 2)
                : `${hex(probe.error.deviceCode, 2)}/${hex(probe.error.extendedCode, 4)}`,
            text: probe.error.deviceText,
            message: probe.error.message,
          },
        }
      : {}),
    ...(probe.note ? { note: probe.note } : {}),
  };
}

/** The driver's self-test report in the agent's device-neutral form. */
export function doctorReportOf(deviceId: string, kind: string, report: SelfTestReport): DoctorReport {
  const { device, status, fn } = report;
  const warnings = Object.entries(fn.warnings)
    .filter(([, on]) => on)
    .map(([name]) => name);
  return {
    deviceId,
    kind,
    at: new Date().toISOString(),
    identity: {
      model: device.modelName,
      serial: device.serial,
      firmware: device.firmwareVersion,
      ffd: report.ffd.name,
      fn: {
        serial: fn.serial,
        ...(fn.lifePhase !== undefined
          ? { state: FN_PHASES[fn.lifePhase] ?? `life phase ${fn.lifePhase}` }
          : {}),
        validUntil: fn.validUntil,
        warnings,
      },
      registration: { inn: fn.inn, number: fn.registrationNumber, taxationSystems: fn.taxationTypes },
    },
    shift: status.shift,
    paper: status.paper,
    ofd: { unsentCount: fn.ofd.unsentCount, oldestUnsentAt: fn.ofd.firstUnsentDateTime },
    probes: report.interrupted ? 'interrupted' : report.skipped ? 'skipped' : 'done',
    ...(report.interrupted
      ? { reason: { code: report.interrupted.code, message: report.interrupted.message } }
      : report.skipped
        ? { reason: { code: report.skipped.code, message: report.skipped.reason } }
        : {}),
    findings: report.probes.map(findingOf),
    fiscalDocuments: report.fiscalDocuments,
    ...(report.shiftOpened
      ? {
          shiftOpened: {
            shiftNumber: report.shiftOpened.shiftNumber,
            fiscalDocumentNumber: report.shiftOpened.fiscalDocumentNumber,
          },
        }
      : {}),
  };
}
