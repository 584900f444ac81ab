import type { DoctorFinding, DoctorReport } from '../agent/devices/doctorReport.js';
import type { LocalModuleProbeLine, LocalModuleReport } from '../agent/devices/localModule/reportTypes.js';
import { keyValues, table } from './format.js';

/**
 * What a technician does about each refusal (docs/atol-backends.md, "What to do with a refusal"). Keyed by
 * feature; rates share one piece of advice.
 */
const ADVICE: Record<string, string> = {
  'tag:1021':
    'the register refuses the cashier name: check operator.name (at most 64 characters, printable in CP866)',
  'tag:1203':
    'the register refuses the cashier INN: check operator.vatin (12 digits) or leave it out; bills that name a cashier INN are refused until then',
  'tag:1055':
    "the register refuses the taxation system: set the device's taxationType to one the register is registered for (see Registration above)",
  'tag:1008':
    "the register refuses a customer contact: bills with a customer's e-mail or phone are refused until the firmware is updated",
  'tag:1227': 'the register refuses the buyer name (FFD 1.05): bills naming a legal buyer are refused',
  'tag:1228': 'the register refuses the buyer INN (FFD 1.05): bills naming a legal buyer are refused',
  'tag:1256':
    'the register refuses the buyer STLV 1256 (FFD 1.2): bills naming a legal buyer are refused; report the firmware version',
  'tag:1192':
    'the register refuses the agent marker 1192: every bill is refused; update the firmware, the marker is how the agent proves what it printed',
  'tag:2108':
    'the register refuses the measurement unit 2108 (FFD 1.2): every bill is refused; check the FFD version of register and FN',
};

const RATE_ADVICE =
  "the register refuses this tax byte: bills at this rate are refused. Set the right byte in taxBytes (ask ATOL for the firmware's table), or update the firmware";

const CANDIDATE_ADVICE =
  "the register takes these candidate bytes (marked ?), but taking a byte does not prove which rate the firmware applies to it. Confirm each with ATOL for this firmware (or one real receipt checked on paper), then add to the device's config";

/** What to do about one finding; accepted ones need nothing (candidates are advised on together). */
export function adviceFor(finding: DoctorFinding): string | undefined {
  if (finding.verdict === 'accepted') return undefined;
  if (finding.verdict === 'skipped') return finding.note;
  return finding.feature.startsWith('vat:') ? RATE_ADVICE : ADVICE[finding.feature];
}

/** The candidate bytes the register took, as one piece of advice with the config lines to add. */
function candidateAdvice(findings: readonly DoctorFinding[]): string | undefined {
  const taken = findings.filter((f) => f.verdict === 'accepted' && f.byteOrigin === 'candidate');
  if (taken.length === 0) return undefined;
  const bytes = taken.map((f) => `"${f.feature.slice(4)}": ${f.byte}`).join(', ');
  return `${taken.map((f) => f.label).join(', ')}: ${CANDIDATE_ADVICE}: "taxBytes": { ${bytes} }`;
}

/**
 * True when the technician has something to do: a refusal, skipped or interrupted probes, a line of the
 * local module that failed.
 */
export function needsAttention(report: DoctorReport): boolean {
  return (
    report.probes === 'skipped' ||
    report.probes === 'interrupted' ||
    report.probes === 'offline' ||
    report.findings.some((f) => f.verdict === 'refused') ||
    (report.localModule?.lines.some((line) => line.verdict === 'failed') ?? false)
  );
}

const LOCAL_MODULE_LABELS: Record<LocalModuleProbeLine['check'], string> = {
  reachable: 'reachable',
  credentials: 'credentials',
  status: 'status',
  sync: 'last sync',
  version: 'version',
};

/** The local module of Честный ЗНАК: one line per check, then what to do about each failure. */
function renderLocalModule(module: LocalModuleReport): string[] {
  const out = [
    `  Local module of Честный ЗНАК (ЛМ ЧЗ), API v${module.apiVersion}${module.enabled ? '' : ' — enabled: false, sales do not ask it'}:`,
  ];
  out.push(
    keyValues(
      module.lines.map((line) => [
        `    ${LOCAL_MODULE_LABELS[line.check]}`,
        line.verdict === 'failed'
          ? `FAILED: ${line.text} [${line.error?.code}]`
          : line.verdict === 'skipped'
            ? `- ${line.text}`
            : `ok: ${line.text}`,
      ]),
    ),
  );
  const todo = module.lines.flatMap((line) =>
    line.todo ? [`    - ${LOCAL_MODULE_LABELS[line.check]}: ${line.todo}`] : [],
  );
  if (todo.length > 0) out.push('  What to do about the local module:', ...todo);
  return out;
}

function resultOf(finding: DoctorFinding): string {
  if (finding.verdict !== 'accepted') return finding.verdict.toUpperCase();
  return finding.byteOrigin === 'candidate' ? 'accepted (candidate)' : 'accepted';
}

function renderOne(report: DoctorReport): string {
  const out: string[] = [];
  const id = report.identity;
  out.push(`Device ${report.deviceId} (${report.kind}), self-test of ${report.at}`);
  out.push(
    keyValues([
      [
        '  register',
        [
          id?.model,
          id?.serial && `serial ${id.serial}`,
          id?.firmware && `firmware ${id.firmware}`,
          id?.ffd && `FFD ${id.ffd}`,
        ]
          .filter(Boolean)
          .join(', '),
      ],
      [
        '  FN',
        id?.fn &&
          [
            id.fn.serial,
            id.fn.state,
            id.fn.validUntil && `valid until ${id.fn.validUntil}`,
            `warnings: ${id.fn.warnings?.join(', ') || 'none'}`,
          ]
            .filter(Boolean)
            .join(', '),
      ],
      [
        '  registration',
        id?.registration &&
          [
            `INN ${id.registration.inn}`,
            `RNM ${id.registration.number}`,
            `taxation ${id.registration.taxationSystems?.join(', ') || '-'}`,
          ].join(', '),
      ],
      [
        '  shift',
        report.shift &&
          `${report.shift.state}${report.shift.number !== undefined ? ` (${report.shift.state === 'closed' ? 'last shift' : 'shift'} ${report.shift.number})` : ''}${report.shift.expiresAt ? `, expires ${report.shift.expiresAt}` : ''}`,
      ],
      [
        '  paper',
        report.paper && (report.paper.present ? (report.paper.nearEnd ? 'near end' : 'present') : 'OUT'),
      ],
      [
        '  OFD backlog',
        report.ofd &&
          `${report.ofd.unsentCount} document(s)${report.ofd.oldestUnsentAt ? `, oldest ${report.ofd.oldestUnsentAt}` : ''}`,
      ],
    ]),
  );
  if (report.shiftOpened) {
    out.push(
      `  The shift was opened for the probes: shift ${report.shiftOpened.shiftNumber}, FD ${report.shiftOpened.fiscalDocumentNumber}.`,
    );
  }
  if (report.reason) {
    const what = {
      skipped: 'Probes skipped',
      interrupted: 'Probes INTERRUPTED',
      unsupported: 'No probes',
      offline: 'OFFLINE',
      done: 'Note',
    }[report.probes];
    out.push(`  ${what}: ${report.reason.message} [${report.reason.code}]`);
  }
  if (report.findings.length > 0) {
    const docs = report.fiscalDocuments;
    out.push(
      `  Probes inside a receipt that was cancelled${docs ? ` (FN documents ${docs.before} → ${docs.after})` : ''}:`,
    );
    const rows = report.findings.map((f) => [
      f.label,
      f.byte === undefined ? '' : `${f.byte}${f.byteOrigin === 'candidate' ? '?' : ''}`,
      resultOf(f),
      f.error ? `${f.error.register} ${f.error.text}`.trim() : '',
    ]);
    out.push(
      table(['what', 'byte', 'result', 'register says'], rows)
        .split('\n')
        .map((line) => `    ${line}`)
        .join('\n'),
    );
    const todo = report.findings.flatMap((f) => {
      const advice = adviceFor(f);
      return advice ? [`    - ${f.label}: ${advice}`] : [];
    });
    const candidates = candidateAdvice(report.findings);
    if (candidates) todo.push(`    - ${candidates}`);
    if (todo.length > 0) out.push('  What to do:', ...todo);
  }
  if (report.localModule) out.push(...renderLocalModule(report.localModule));
  return out.join('\n');
}

/** The doctor's answer as a technician reads it: one block per device, the table, then what to do. */
export function renderDoctor(result: { reports: DoctorReport[] }): string {
  const attention = result.reports.filter(needsAttention);
  const registers = attention.some((r) => needsAttention({ ...r, localModule: undefined }));
  const head =
    attention.length === 0
      ? `OK: every register takes everything the agent writes${result.reports.some((r) => r.localModule) ? ', and the local module of Честный ЗНАК can check codes' : ''}.`
      : `ATTENTION: ${attention.map((r) => r.deviceId).join(', ')} need(s) a look (below).${registers ? ' Bills that need what a register refused are refused at intake.' : ''}`;
  return [head, '', ...result.reports.map(renderOne)].join('\n');
}
