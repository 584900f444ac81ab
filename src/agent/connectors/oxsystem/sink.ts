import { z } from 'zod';
import { DeliveryError } from '../../outbox/deliveryError.js';
import type { AgentEvent, OutboxDraft, OutboxEntry, ReportSink } from '../../outbox/sink.js';
import type { ConnectorRuntime } from '../runtime.js';
import { deliveryErrorOf, isJobOf } from '../sink.js';
import type { OxClient } from './client.js';
import { OX_SELL_KINDS } from './config.js';
import { OxSellStateError } from './errors.js';
import { OX_SOURCE, oxSourceDataSchema, readOxSourceData } from './mapping.js';
import { appendFiscalNote, fiscalNoteOf, formatFiscalNote, parseFiscalNote } from './note.js';
import { OX_CURRENCY, type OxSell } from './wire.js';

/**
 * What the register printed, written back to OX: payment and commit for open and postponed sells, then the
 * fiscal note (note.ts). Every write step reads the sell first, so a retry after a lost answer never pays
 * twice.
 */

export const OX_REPORT_KIND = 'oxsystem.sellReport';

export const oxReportPayloadSchema = z.object({
  account: z.string(),
  sellId: z.string(),
  jobId: z.string(),
  kind: z.enum(OX_SELL_KINDS),
  totalMinor: z.number().int().min(0),
  payment: oxSourceDataSchema.shape.payment,
  /** The formatted fiscal note, fixed when drafted. */
  note: z.string().min(1),
});
export type OxReportPayload = z.infer<typeof oxReportPayloadSchema>;

export class OxSink implements ReportSink {
  readonly name: string;

  constructor(
    private readonly runtime: ConnectorRuntime,
    private readonly client: OxClient,
    private readonly fetchSell: (sellId: string) => Promise<OxSell>,
  ) {
    this.name = runtime.name;
  }

  /** One report per fiscalized sell of this account; its note text is fixed here, once. */
  draft(event: AgentEvent): OutboxDraft[] {
    const { account } = this.runtime;
    if (event.type !== 'job.fiscalized' || !isJobOf(event.job, OX_SOURCE, account)) return [];
    const { job } = event;
    if (job.operation !== 'sell') return [];
    const source = job.bill ? readOxSourceData(job.bill) : undefined;
    if (!job.bill || !source) {
      throw new OxSellStateError(account, job.summary.billId, `job ${job.id} carries no OX sell data`);
    }
    if (!job.fiscal) throw new OxSellStateError(account, source.oxSellId, `job ${job.id} has no fiscal data`);
    const payload: OxReportPayload = {
      account,
      sellId: source.oxSellId,
      jobId: job.id,
      kind: source.kind,
      totalMinor: source.totalMinor,
      note: formatFiscalNote(fiscalNoteOf(job.id, job.fiscal)),
    };
    if (source.payment) payload.payment = source.payment;
    return [{ kind: OX_REPORT_KIND, jobId: job.id, payload }];
  }

  /**
   * Writes the report back, each step only if the sell shows it still has to be done: payment (when the
   * sell's payments are still those seen at fiscalization), commit (when not finished), then the note
   * (when it does not carry this job's note yet).
   */
  async deliver(entry: OutboxEntry): Promise<void> {
    const { account } = this.runtime;
    const parsed = oxReportPayloadSchema.safeParse(entry.payload);
    if (entry.kind !== OX_REPORT_KIND || !parsed.success || parsed.data.account !== account) {
      throw new DeliveryError(
        'OX_REPORT_MALFORMED',
        `OX System ${account}: outbox entry ${entry.id} is not a sell report of this connector.`,
        { permanent: true, details: { account, entryId: entry.id, kind: entry.kind } },
      );
    }
    const report = parsed.data;
    const details = { account, sellId: report.sellId, jobId: report.jobId, entryId: entry.id };
    try {
      const steps = await this.writeBack(report);
      this.runtime.logger.info({ event: 'ox.report.delivered', ...details, steps }, 'sell updated in OX');
    } catch (error) {
      // The sell changed in OX after printing: a person settles it, retrying cannot.
      if (error instanceof OxSellStateError) {
        throw new DeliveryError(error.code, error.message, { permanent: true, details, cause: error });
      }
      throw deliveryErrorOf(error, details, 'OX_DELIVERY_FAILED');
    }
  }

  private async writeBack(report: OxReportPayload): Promise<string[]> {
    const { runtime } = this;
    const { account, signal } = runtime;
    const steps: string[] = [];
    const sell = await this.fetchSell(report.sellId);
    const noted = parseFiscalNote(sell.note);
    if (noted?.job === report.jobId) return ['none: already noted'];
    if (noted) {
      throw new OxSellStateError(
        account,
        report.sellId,
        `it already carries the fiscal note of job ${noted.job} (device ${noted.device}); two receipts may exist for it`,
      );
    }
    const finished = !sell.draft && sell.finishedTime !== null;
    if (report.kind === 'finished' && !finished) {
      throw new OxSellStateError(
        account,
        report.sellId,
        'it was finished when printed but is not finished now',
      );
    }
    if (report.kind !== 'finished' && !finished) {
      const totalNow = sell.total.order[OX_CURRENCY];
      if (totalNow !== report.totalMinor) {
        throw new OxSellStateError(
          account,
          report.sellId,
          `its total changed from ${report.totalMinor} to ${totalNow} UZS after the receipt was printed; settle it by hand`,
        );
      }
      if (report.payment) {
        const paid = (sell.payments ?? [])
          .filter((p) => p.type === 'sell')
          .reduce((sum, p) => sum + p.price.order[OX_CURRENCY], 0);
        const { paidBeforeMinor, priceMinor, paymentMethod } = report.payment;
        if (paid === paidBeforeMinor) {
          await runtime.track(() => this.client.addPayment(report.sellId, paymentMethod, priceMinor, signal));
          steps.push('payment');
        } else if (paid !== paidBeforeMinor + priceMinor) {
          throw new OxSellStateError(
            account,
            report.sellId,
            `its payments add up to ${paid} UZS; expected ${paidBeforeMinor} before the agent's payment of ${priceMinor}`,
          );
        }
      }
      await runtime.track(() => this.client.commit(report.sellId, signal));
      steps.push('commit');
    }
    await runtime.track(() =>
      this.client.patchNote(report.sellId, appendFiscalNote(sell.note, report.note), signal),
    );
    steps.push('note');
    return steps;
  }
}
