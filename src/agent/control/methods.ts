import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { KktAgentError } from '../../lib/errors.js';
import type { Agent } from '../agent.js';
import { billSchema, changeMinor } from '../domain/bill.js';
import { PAYMENT_TYPE_NAMES } from '../domain/payment.js';
import { RECEIPT_KIND_NAMES, RECEIPT_KIND_TITLES } from '../domain/receiptKind.js';
import { buildCorrectionBill, buildReturnBill, correctionBasis } from '../jobs/commandBills.js';
import { JOB_STATES, type Job } from '../jobs/job.js';
import { type ControlMethods, method } from './server.js';

const deviceParam = z.strictObject({ device: z.string().optional() });
const amountMinor = z.number().int().min(1).max(9_999_999_999);

/** The sources an MQTT inline bill may claim when the config names none (`mqtt.inlineBillSources`). */
export const DEFAULT_INLINE_BILL_SOURCES: readonly string[] = ['mqtt'];

/**
 * Offsetting an advance receipted outside this agent skips the order's ledger; only a connector configured
 * for it may say so (the bridge's `prepayment: "offsetElsewhere"`, docs/bridge.md), never a pushed bill.
 */
function refuseOffsetElsewhere(bill: { prepaidElsewhere?: boolean } | undefined, ctx: z.RefinementCtx): void {
  if (bill?.prepaidElsewhere !== true) return;
  ctx.addIssue({
    code: 'custom',
    path: ['bill', 'prepaidElsewhere'],
    message:
      'only a connector configured for it may offset an advance receipted elsewhere; name the order of an advance this agent printed instead',
  });
}

/**
 * A bill pushed over MQTT may claim only the sources `mqtt.inlineBillSources` names, never another
 * connector's bill (issue 18.4): the same rule for an inline `fiscalize` and an inline kind command.
 */
function refuseForeignSource(
  p: { via: 'command' | 'mqtt'; bill?: { source: string } | undefined },
  configured: readonly string[] | undefined,
  ctx: z.RefinementCtx,
): void {
  const allowed = configured ?? DEFAULT_INLINE_BILL_SOURCES;
  if (p.via !== 'mqtt' || p.bill === undefined || allowed.includes(p.bill.source)) return;
  ctx.addIssue({
    code: 'custom',
    path: ['bill', 'source'],
    message: `a bill pushed over MQTT may only claim the source${allowed.length === 1 ? '' : 's'} ${allowed.map((s) => `"${s}"`).join(', ')} (mqtt.inlineBillSources), not "${p.bill.source}"`,
  });
}

export interface AgentInfo {
  version: string;
  /**
   * The `source` values a bill pushed inline over MQTT may carry. Another connector's source would let the
   * cloud claim that connector's bills (its real bill then "already known", its report never drafted).
   */
  inlineBillSources?: readonly string[];
  /** Extra sections of the status answer (MQTT, schedules…), added by the daemon. */
  extraStatus?: () => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** Traces the devices' wire into a file until the returned function is called (`doctor --trace-wire`). */
  traceWire?: (path: string) => () => void;
}

/** A job without its bill's lines, for listings. */
export function jobSummary(job: Job) {
  return {
    id: job.id,
    key: job.key,
    state: job.state,
    kind: job.operation,
    device: job.deviceId,
    number: job.summary.number,
    totalMinor: job.summary.totalMinor,
    currency: job.summary.currency,
    receivedAt: job.receivedAt,
    updatedAt: job.updatedAt,
    attempts: job.attempts,
    fiscalDocumentNumber: job.fiscal?.fiscalDocumentNumber,
    failure: job.failure?.message,
    blocked: job.blocked?.message,
  };
}

/**
 * How the customer paid, for `jobs show`, and who chose it where the source says (a connector that picks the
 * payment type keeps `paymentFrom` in the bill's sourceData: "command", "bill" or "default").
 */
export function jobPayment(job: Job) {
  if (!job.bill) return undefined;
  const from = job.bill.sourceData?.['paymentFrom'];
  return {
    types: [...new Set(job.bill.payments.map((payment) => payment.type))],
    payments: job.bill.payments,
    ...(changeMinor(job.bill) > 0 ? { changeMinor: changeMinor(job.bill) } : {}),
    ...(typeof from === 'string' ? { from } : {}),
  };
}

function connectorFor(agent: Agent, account: string | undefined, connector: string | undefined) {
  const name = connector ?? (account ? `bridge:${account}` : undefined);
  const candidates = agent.connectors.filter((c) => c.fiscalizeOnCommand && (!name || c.name === name));
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) {
    throw new KktAgentError(
      'CONNECTOR_UNKNOWN',
      name ? `No connector "${name}" takes commands.` : 'No connector takes commands.',
    );
  }
  throw new KktAgentError(
    'CONNECTOR_AMBIGUOUS',
    `Several connectors take commands; name one with --account or --connector.`,
    {
      connectors: candidates.map((c) => c.name),
    },
  );
}

/** The daemon's control methods: what the technician CLI (and MQTT commands) may ask of the agent. */
export function agentControlMethods(agent: Agent, info: AgentInfo): ControlMethods {
  return {
    status: method(z.strictObject({}), async () => ({
      version: info.version,
      pid: process.pid,
      uptimeSeconds: Math.round(process.uptime()),
      ...(await agent.status()),
      ...(await info.extraStatus?.()),
    })),
    fiscalize: method(
      z
        .object({
          account: z.string().optional(),
          connector: z.string().optional(),
          number: z.string().min(1).max(64).optional(),
          billId: z.string().min(1).max(64).optional(),
          payment: z.enum(['card', 'cash']).optional(),
          /** An inline bill (the agent's Bill JSON); validated here, so a bad one is a refused command. */
          bill: billSchema.optional(),
          /** The inline bill's receipt kind (tag 1054, correction or not); a sale by default. */
          kind: z.enum(RECEIPT_KIND_NAMES).optional(),
          ref: z.string().max(128).optional(),
          /** Who asks: a person at the CLI (`command`) or the cloud over MQTT (`mqtt`). */
          via: z.enum(['command', 'mqtt']).default('command'),
        })
        .refine((p) => [p.number, p.billId, p.bill].filter((v) => v !== undefined).length === 1, {
          message: 'give exactly one of number, billId or bill',
        })
        .superRefine((p, ctx) => refuseOffsetElsewhere(p.bill, ctx))
        .superRefine((p, ctx) => refuseForeignSource(p, info.inlineBillSources, ctx))
        .refine((p) => p.kind === undefined || p.bill !== undefined, {
          message: 'kind goes with an inline bill only',
          path: ['kind'],
        }),
      async (params) => {
        // No bill is taken while the registers are read back after a lost store (docs/fiscalization.md §8).
        await agent.serving();
        const trigger = { kind: params.via, ref: params.ref };
        if (params.bill !== undefined) {
          const { job, duplicate } = await agent.intake.submit({
            bill: params.bill,
            trigger,
            ...(params.kind ? { operation: params.kind } : {}),
          });
          return { job: jobSummary(job), duplicate };
        }
        const connector = connectorFor(agent, params.account, params.connector);
        const { job, duplicate } = await connector.fiscalizeOnCommand!({
          number: params.number,
          billId: params.billId,
          payment: params.payment,
          trigger,
        });
        return { job: jobSummary(job), duplicate };
      },
    ),
    refund: method(
      z.object({
        jobId: z.string().min(1).max(64),
        /** 0-based positions of the original, each whole or a part (thousandths). */
        positions: z
          .array(
            z.object({
              index: z.number().int().min(0).max(999),
              quantityMilli: z.number().int().min(1).optional(),
            }),
          )
          .min(1)
          .optional(),
        payment: z.enum(PAYMENT_TYPE_NAMES).optional(),
        emailOrPhone: z.string().min(1).max(64).optional(),
        ref: z.string().max(128).optional(),
        via: z.enum(['command', 'mqtt']).default('command'),
      }),
      async (p) => {
        const original = agent.jobs.require(p.jobId);
        const returnsSoFar = agent.links.to(original.id).filter((l) => l.kind === 'return').length;
        const { bill, kind } = buildReturnBill(original, {
          ...(p.positions ? { positions: p.positions } : {}),
          ...(p.payment ? { payment: p.payment } : {}),
          ...(p.emailOrPhone ? { emailOrPhone: p.emailOrPhone } : {}),
          returnsSoFar,
        });
        const { job, duplicate } = await agent.intake.submit({
          bill,
          operation: kind,
          trigger: { kind: p.via, ref: p.ref },
          onInvalid: 'throw',
        });
        return { job: jobSummary(job), duplicate, returns: original.id };
      },
    ),
    correct: method(
      z
        .object({
          /** The job whose settlement is corrected (FAILED: never receipted; printed: wrong data). */
          jobId: z.string().min(1).max(64).optional(),
          /** Or the right data as an inline bill, with a correction kind. */
          bill: billSchema.optional(),
          kind: z.enum(RECEIPT_KIND_NAMES).optional(),
          /** Tag 1178, the day of the settlement corrected. */
          date: z.string().optional(),
          type: z.enum(['self', 'instruction']).default('self'),
          /** Tag 1179, the tax office's order number. */
          orderNumber: z.string().min(1).max(32).optional(),
          ref: z.string().max(128).optional(),
          via: z.enum(['command', 'mqtt']).default('command'),
        })
        .refine((p) => (p.jobId === undefined) !== (p.bill === undefined), {
          message: 'give exactly one of jobId or bill',
        })
        .superRefine((p, ctx) => refuseOffsetElsewhere(p.bill, ctx))
        .superRefine((p, ctx) => refuseForeignSource(p, info.inlineBillSources, ctx)),
      async (p) => {
        const basis = {
          ...(p.date !== undefined ? { baseDate: p.date } : {}),
          type: p.type,
          ...(p.orderNumber !== undefined ? { baseNumber: p.orderNumber } : {}),
          ...(p.kind ? { kind: p.kind } : {}),
        };
        const trigger = { kind: p.via, ref: p.ref };
        let prepared: ReturnType<typeof buildCorrectionBill>;
        if (p.jobId !== undefined) {
          const related = agent.jobs.require(p.jobId);
          const so = agent.links.to(related.id).filter((l) => l.kind === 'correction').length;
          prepared = buildCorrectionBill(related, basis, so);
        } else {
          prepared = {
            bill: { ...p.bill!, correction: correctionBasis(basis) },
            kind: p.kind ?? 'sellCorrection',
          };
        }
        const { job, duplicate } = await agent.intake.submit({
          bill: prepared.bill,
          operation: prepared.kind,
          trigger,
          onInvalid: 'throw',
        });
        return { job: jobSummary(job), duplicate, ...(p.jobId ? { corrects: p.jobId } : {}) };
      },
    ),
    doctor: method(
      z.object({
        device: z.string().optional(),
        /** Open a closed shift so the probes can run: one fiscal document. */
        openShift: z.boolean().default(false),
        /** A file on this box for a wire trace of the run (the CLI resolves it; MQTT may not set it). */
        traceWire: z.string().min(1).max(4096).refine(isAbsolute, 'must be an absolute path').optional(),
      }),
      async (p) => {
        if (p.traceWire !== undefined && !info.traceWire)
          throw new KktAgentError('WIRE_TRACE_UNAVAILABLE', 'This agent cannot trace the wire.');
        const stop = p.traceWire !== undefined ? info.traceWire!(p.traceWire) : undefined;
        try {
          return { reports: await agent.runDoctor({ device: p.device, openShift: p.openShift }) };
        } finally {
          stop?.();
        }
      },
    ),
    'report.x': method(deviceParam, (p) =>
      agent.deviceOperation(p.device, (d) => d.reportX()).then(() => ({ printed: true })),
    ),
    'shift.open': method(deviceParam, (p) => agent.deviceOperation(p.device, (d) => d.openShift())),
    'shift.close': method(deviceParam, (p) => agent.deviceOperation(p.device, (d) => d.closeShift())),
    'cash.in': method(deviceParam.extend({ amountMinor }), (p) =>
      agent
        .deviceOperation(p.device, (d) => d.cashIn(p.amountMinor))
        .then(() => ({ amountMinor: p.amountMinor })),
    ),
    'cash.out': method(deviceParam.extend({ amountMinor }), (p) =>
      agent
        .deviceOperation(p.device, (d) => d.cashOut(p.amountMinor))
        .then(() => ({ amountMinor: p.amountMinor })),
    ),
    'outbox.list': method(
      z.strictObject({
        sink: z.string().optional(),
        state: z.enum(['pending', 'delivered', 'dead']).optional(),
        limit: z.number().int().min(1).max(10_000).default(100),
      }),
      async (p) => ({
        sinks: agent.outbox.sinkStats(),
        entries: agent.outbox
          .entries({ sink: p.sink, state: p.state, limit: p.limit })
          .map(({ payload: _payload, ...entry }) => entry),
      }),
    ),
    'outbox.retry': method(
      z.strictObject({ sink: z.string().optional(), ids: z.array(z.string()).optional() }),
      async (p) => ({
        moved: await agent.outbox.retry(p),
      }),
    ),
    'jobs.list': method(
      z.strictObject({
        state: z.enum(JOB_STATES).optional(),
        limit: z.number().int().min(1).max(10_000).default(50),
      }),
      async (p) => ({
        jobs: agent.jobs.latest(p.limit, p.state).map(jobSummary),
      }),
    ),
    'jobs.show': method(z.strictObject({ id: z.string().min(1) }), async (p) => {
      const job = agent.jobs.require(p.id);
      return {
        kind: { name: job.operation, title: RECEIPT_KIND_TITLES[job.operation] },
        links: { from: agent.links.from(job.id), to: agent.links.to(job.id) },
        payment: jobPayment(job),
        job,
        outbox: agent.outbox.entries({ jobId: p.id }),
      };
    }),
    'recovery.status': method(z.object({}), async () => agent.recovery.status()),
    'recovery.confirm': method(
      z.object({ device: z.string().min(1), by: z.string().min(1).max(64).default('cli') }),
      async (p) => ({ device: agent.confirmDevice(p.device, p.by) }),
    ),
    'jobs.resolve': method(
      z.strictObject({
        id: z.string().min(1),
        printed: z.boolean(),
        by: z.string().min(1).max(64).default('cli'),
        note: z.string().max(256).optional(),
        /** "Not printed" although the register cannot be searched for the job's marker. */
        force: z.boolean().default(false),
      }),
      async (p) => {
        const job = await agent.resolveJob(p.id, {
          printed: p.printed,
          by: p.by,
          note: p.note,
          force: p.force,
        });
        const forced = job.resolution?.forced;
        return {
          job: jobSummary(job),
          ...(job.resolution?.checked ? { checked: job.resolution.checked } : {}),
          ...(forced
            ? {
                warning: {
                  code: 'RESOLVE_FORCED',
                  message: `taken as not printed without the register's word (${forced}): it prints again`,
                },
              }
            : {}),
        };
      },
    ),
  };
}
