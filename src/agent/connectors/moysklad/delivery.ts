import type { z } from 'zod';
import { type ErrorCode, errorCode, errorMessage, KktAgentError } from '../../../lib/errors.js';
import { DeliveryError } from '../../outbox/deliveryError.js';
import type { OutboxEntry } from '../../outbox/sink.js';
import type { ConnectorRuntime } from '../runtime.js';
import { deliveryErrorOf } from '../sink.js';
import type { MoyskladAccount } from './account.js';
import type { MoyskladClient } from './client.js';
import type { MoyskladAccountConfig } from './config.js';
import {
  MoyskladApiError,
  MoyskladAuthError,
  MoyskladCredentialsError,
  MoyskladDuplicateError,
  MoyskladRateLimitError,
  MoyskladReportError,
  MoyskladShiftUnknownError,
} from './errors.js';
import {
  type ApproveDraft,
  approveDraftSchema,
  type CloseShiftDraft,
  closeShiftDraftSchema,
  type OpenShiftDraft,
  openShiftDraftSchema,
  REPORT_KINDS,
  type RejectDraft,
  type RenderContext,
  type RetailDemandDraft,
  rejectDraftSchema,
  renderApprove,
  renderCloseShift,
  renderOpenShift,
  renderReject,
  renderRetailDemand,
  retailDemandDraftSchema,
  type ShiftRef,
} from './reports.js';
import type { ShiftCheque, ShiftRecord, ShiftRegistry } from './shifts.js';

/**
 * Sends drafted reports to posap 1.0, in the sink's FIFO order. A replay after a lost answer is recognised
 * (3006 on the same syncId) and counted as delivered; a shift MoySklad does not know (12012) is opened
 * there again and the document sent once more.
 */
export class MoyskladDelivery {
  constructor(
    private readonly runtime: ConnectorRuntime,
    private readonly client: MoyskladClient,
    private readonly store: MoyskladAccount,
    private readonly shifts: ShiftRegistry,
    private readonly config: MoyskladAccountConfig,
  ) {}

  private get renderContext(): RenderContext {
    return { baseUrl: this.config.baseUrl, chequeSumUnit: this.config.chequeSumUnit };
  }

  async deliver(entry: OutboxEntry): Promise<void> {
    const { runtime } = this;
    if (!runtime.running || !runtime.startedContext) {
      throw new DeliveryError(
        'MOYSKLAD_NOT_STARTED',
        `MoySklad ${runtime.account}: the connector is not running.`,
        { permanent: false, retryAfterMs: 500 },
      );
    }
    const details = { account: runtime.account, entryId: entry.id, kind: entry.kind };
    try {
      await this.store.ensureCredentials();
      switch (entry.kind) {
        case REPORT_KINDS.openShift:
          return await this.deliverOpenShift(this.payloadOf(openShiftDraftSchema, entry));
        case REPORT_KINDS.closeShift:
          return await this.deliverCloseShift(this.payloadOf(closeShiftDraftSchema, entry));
        case REPORT_KINDS.retailDemand:
          return await this.deliverRetailDemand(this.payloadOf(retailDemandDraftSchema, entry));
        case REPORT_KINDS.approve:
          return await this.deliverApprove(this.payloadOf(approveDraftSchema, entry));
        case REPORT_KINDS.reject:
          return await this.deliverReject(this.payloadOf(rejectDraftSchema, entry));
        default:
          throw new MoyskladReportError(
            runtime.account,
            `outbox entry ${entry.id} (${entry.kind}) is not a MoySklad report`,
          );
      }
    } catch (error) {
      throw this.toDeliveryError(error, details);
    }
  }

  private payloadOf<S extends z.ZodType<{ account: string }>>(schema: S, entry: OutboxEntry): z.output<S> {
    const parsed = schema.safeParse(entry.payload);
    if (!parsed.success || parsed.data.account !== this.runtime.account) {
      throw new MoyskladReportError(
        this.runtime.account,
        `outbox entry ${entry.id} (${entry.kind}) is not a report of this store`,
      );
    }
    return parsed.data;
  }

  /** Sends a syncId-keyed create or RPC; the same syncId already accepted (3006) counts as delivered. */
  private async sendIdempotent(
    method: 'POST' | 'PUT',
    path: string,
    body: string,
    what: string,
  ): Promise<void> {
    const { runtime } = this;
    try {
      await runtime.track(() => this.client.send(method, path, body, runtime.signal));
    } catch (error) {
      if (error instanceof MoyskladDuplicateError && error.isSyncIdDuplicate) {
        runtime.logger.info(
          { event: 'moysklad.replay.duplicate', account: runtime.account, what },
          'MoySklad already has it; counted as delivered',
        );
        return;
      }
      throw error;
    }
  }

  private async deliverOpenShift(draft: OpenShiftDraft): Promise<void> {
    await this.sendIdempotent(
      'PUT',
      'rpc/openshift/',
      renderOpenShift(draft, this.renderContext),
      'openshift',
    );
    this.runtime.logger.info(
      {
        event: 'moysklad.shift.opened',
        account: this.runtime.account,
        shift: draft.shift.number,
        syncId: draft.shift.syncId,
        adopted: draft.adopted,
      },
      'shift opened in MoySklad',
    );
  }

  private async deliverCloseShift(draft: CloseShiftDraft): Promise<void> {
    const record = draft.shift.syncId
      ? this.shifts.bySyncId(draft.shift.syncId)
      : this.shifts.find({
          deviceId: draft.shift.deviceId,
          number: draft.shift.number,
          fnNumber: draft.shift.fnNumber,
        });
    const syncId = draft.shift.syncId ?? record?.syncId;
    if (syncId === undefined) {
      // Nothing of this shift reached MoySklad (no open, no document): there is nothing to close there.
      this.runtime.logger.warn(
        { event: 'moysklad.shift.close_skipped', account: this.runtime.account, shift: draft.shift.number },
        'closing a shift MoySklad never saw: nothing sent',
      );
      return;
    }
    const body = renderCloseShift(draft, syncId, draft.start ?? record?.start, this.renderContext);
    await this.withShiftHealing(record, () =>
      this.sendIdempotent('PUT', 'rpc/closeshift/', body, 'closeshift'),
    );
    if (record && record.state === 'open') this.shifts.close(record, this.runtime.now().toISOString());
    this.runtime.logger.info(
      { event: 'moysklad.shift.closed', account: this.runtime.account, shift: draft.shift.number, syncId },
      'shift closed in MoySklad',
    );
  }

  private async deliverRetailDemand(draft: RetailDemandDraft): Promise<void> {
    const record = await this.shiftFor(draft.shift, draft.moment);
    const body = renderRetailDemand(draft, record.syncId, this.renderContext);
    await this.withShiftHealing(record, () =>
      this.sendIdempotent('POST', 'entity/retaildemand', body, 'retaildemand'),
    );
    this.runtime.logger.info(
      {
        event: 'moysklad.demand.delivered',
        account: this.runtime.account,
        billId: draft.billId,
        syncId: draft.syncId,
      },
      'retail demand created in MoySklad',
    );
  }

  private async deliverApprove(draft: ApproveDraft): Promise<void> {
    const record = await this.shiftFor(draft.shift, draft.cheque.time);
    const body = renderApprove(draft, record.syncId, this.renderContext);
    await this.withShiftHealing(record, () =>
      this.sendIdempotent('PUT', 'cheque/rpc/master/approve', body, 'approve'),
    );
    this.runtime.logger.info(
      { event: 'moysklad.master.approved', account: this.runtime.account, billId: draft.billId },
      'operation approved in MoySklad',
    );
  }

  private async deliverReject(draft: RejectDraft): Promise<void> {
    await this.sendIdempotent('PUT', 'cheque/rpc/master/reject', renderReject(draft), 'reject');
    this.runtime.logger.info(
      { event: 'moysklad.master.rejected_sent', account: this.runtime.account, billId: draft.billId },
      'operation rejected in MoySklad',
    );
  }

  /**
   * The shift a document goes into: the one drafted with it, else the registry's record of its KKT shift,
   * else a shift opened now (persisted before it is sent, so a retry reuses its syncId). A shift MoySklad
   * was not told of yet is opened there first.
   */
  private async shiftFor(ref: ShiftRef, moment: string): Promise<ShiftRecord> {
    if (ref.syncId) {
      const known = this.shifts.bySyncId(ref.syncId);
      if (known) return this.announced(known);
      // The registry lost it (trimmed): a stand-in that carries the syncId is all a document needs.
      return {
        deviceId: ref.deviceId,
        number: ref.number ?? 0,
        ...(ref.fnNumber ? { fnNumber: ref.fnNumber } : {}),
        syncId: ref.syncId,
        state: 'open',
        openmoment: moment,
        start: { shiftNumber: String(ref.number ?? 0), time: moment },
        receipts: 0,
        adopted: true,
      };
    }
    const found = this.shifts.find({ deviceId: ref.deviceId, number: ref.number, fnNumber: ref.fnNumber });
    if (found) return this.announced(found);
    const start: ShiftCheque = { shiftNumber: String(ref.number ?? 0), time: moment };
    if (ref.fnNumber) start.fnNumber = ref.fnNumber;
    const record = this.shifts.open({
      deviceId: ref.deviceId,
      number: ref.number ?? 0,
      ...(ref.fnNumber ? { fnNumber: ref.fnNumber } : {}),
      openmoment: moment,
      start,
      adopted: true,
      announced: false,
    });
    return this.announced(record);
  }

  /** Opens an adopted shift in MoySklad before its first document (persisted first: a retry reuses its syncId). */
  private async announced(record: ShiftRecord): Promise<ShiftRecord> {
    if (record.announced !== false) return record;
    await this.shifts.flush();
    await this.deliverOpenShift(this.openShiftPayload(record));
    this.shifts.announce(record);
    return record;
  }

  /** 12012 (the shift is unknown there, e.g. its open went to the dead letter): open it again, then retry once. */
  private async withShiftHealing(record: ShiftRecord | undefined, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (!(error instanceof MoyskladShiftUnknownError) || !record) throw error;
      this.runtime.logger.warn(
        {
          event: 'moysklad.shift.heal',
          account: this.runtime.account,
          shift: record.number,
          syncId: record.syncId,
        },
        'MoySklad does not know the shift; opening it again',
      );
      await this.deliverOpenShift(this.openShiftPayload(record));
      await send();
    }
  }

  openShiftPayload(record: ShiftRecord): OpenShiftDraft {
    return {
      account: this.runtime.account,
      shift: {
        deviceId: record.deviceId,
        number: record.number,
        ...(record.fnNumber ? { fnNumber: record.fnNumber } : {}),
        syncId: record.syncId,
      },
      name: String(record.number),
      openmoment: record.openmoment,
      start: record.start,
      adopted: record.adopted,
    };
  }

  private toDeliveryError(error: unknown, details: Record<string, unknown>): DeliveryError {
    const { runtime } = this;
    if (error instanceof DeliveryError) return error;
    if (runtime.signal.aborted || !runtime.running) {
      return new DeliveryError('MOYSKLAD_STOPPED', 'The MoySklad connector stopped during the delivery.', {
        permanent: false,
        retryAfterMs: 500,
        details,
        cause: error,
      });
    }
    if (needsPerson(error)) {
      // Kept pending, not dead: the reports are fine, the token (or the store) is not. Status shows the alert.
      runtime.health.raiseAlert(error);
      return new DeliveryError(errorCode(error), errorMessage(error), {
        permanent: false,
        retryAfterMs: this.config.authRetryMs,
        details,
        cause: error,
      });
    }
    if (error instanceof MoyskladRateLimitError) {
      return new DeliveryError(error.code, error.message, {
        permanent: false,
        retryAfterMs: error.retryAfterMs,
        details,
        cause: error,
      });
    }
    if (error instanceof MoyskladApiError && !isOffline(error)) {
      return new DeliveryError(error.code, error.message, {
        permanent: true,
        details: { ...details, status: error.status, apiCode: error.apiCode },
        cause: error,
      });
    }
    if (error instanceof MoyskladReportError) {
      return new DeliveryError(error.code, error.message, { permanent: true, details, cause: error });
    }
    return deliveryErrorOf(error, details, 'UNEXPECTED');
  }
}

/** Needs a person, not a retry: the token is refused, the credentials file is unusable, the store inactive. */
export function needsPerson(error: unknown): boolean {
  if (error instanceof MoyskladAuthError || error instanceof MoyskladCredentialsError) return true;
  return error instanceof MoyskladApiError && error.hasCode(4000);
}

/** The cloud is unreachable or unwell right now (as opposed to saying no). */
export function isOffline(error: unknown): boolean {
  if (error instanceof MoyskladRateLimitError) return false;
  if (error instanceof MoyskladApiError)
    return error.status >= 500 || error.hasCode(1074) || error.hasCode(1065);
  if (error instanceof KktAgentError) {
    const offline: readonly ErrorCode[] = [
      'MOYSKLAD_UNREACHABLE',
      'MOYSKLAD_TIMEOUT',
      'MOYSKLAD_RESPONSE_TOO_LARGE',
      'MOYSKLAD_MALFORMED_RESPONSE',
    ];
    return offline.includes(error.code);
  }
  return false;
}
