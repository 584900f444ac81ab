import type { Logger } from 'pino';
import { gs1Parts, markingShortForm, productCodeGs1M } from '../../../lib/markingCode.js';
import type { Position } from '../../domain/bill.js';
import type { MarkingPermit } from '../../domain/marking.js';
import { operationOf } from '../../domain/receiptKind.js';
import type { Job } from '../../jobs/job.js';
import type { LocalModuleCode } from './answers.js';
import type { LocalModuleClient } from './client.js';
import { type LocalModuleWatch, statusFault } from './condition.js';
import type { LocalModuleConfig } from './config.js';
import { LocalModuleError } from './localModuleError.js';

/**
 * The permissive mode's check by the shop's local module (ЛМ ЧЗ) before a marked sale whose source made
 * none (docs/marking.md, "Permissive mode"): each marked position without a permit is asked about, a code
 * the module says may not be sold refuses the bill, and each answer becomes the position's permit (tag
 * 1260). It runs inside the device's print, after the job is journaled PRINTING and before the first byte
 * to the register; it makes no fiscal document, so a crash in it is reconciled as "not printed" and the
 * next attempt asks again.
 */

/** Why the module's answer forbids the sale. */
export type LocalModuleRefusal = 'wrongProduct' | 'blocked' | 'sold' | 'expired';

/** What a cashier does about each refusal; the bill is FAILED with this text. */
const REFUSAL_TEXT: Record<LocalModuleRefusal, string> = {
  wrongProduct: 'the code belongs to another product (its GTIN differs): scan the right pack',
  blocked: 'the sale of this item is blocked by a government authority: do not sell it',
  sold: 'the code is already sold (withdrawn from circulation): do not sell this item',
  expired: 'the item is past its expiry date: do not sell it',
};

/** A code the local module says may not be sold: nothing is printed, the position and reason are named. */
export class LocalModuleRefusedError extends LocalModuleError {
  constructor(position: number, name: string, refusal: LocalModuleRefusal, detail: string) {
    super(
      'MARKING_LM_REFUSED',
      `positions[${position}] "${name}": ${REFUSAL_TEXT[refusal]} (local module of Честный ЗНАК: ${detail})`,
      false,
      { position, refusal, detail },
    );
  }
}

/** The module could not vouch for a code and the offline rule says refuse. */
export class LocalModuleUnavailableError extends LocalModuleError {
  constructor(reason: string) {
    super(
      'MARKING_LM_UNAVAILABLE',
      `The local module of Честный ЗНАК cannot check marking codes now (${reason}); the bill is refused (localModule.whenUnavailable = refuse): check the module, then fiscalize the bill again.`,
      false,
      { reason },
    );
  }
}

/**
 * The module's verdict on one code, or undefined when it allows the sale. An offline answer carries
 * `found`, `valid`, `verified`, `utilised` and `realizable` as false whatever the code (the module knows
 * what forbids a sale, not every code: docs/protocol/chestny-znak-local-module.md §4), so only what it
 * states against the code counts; whether Честный ЗНАК knows the code is the register's online check.
 */
export function refusalOf(
  code: LocalModuleCode,
  scanned: string,
  nowMs: number,
): { refusal: LocalModuleRefusal; detail: string } | undefined {
  const gtin = gs1Parts(scanned)?.gtin;
  if (gtin && code.gtin && code.gtin.replace(/^0+/, '') !== gtin.replace(/^0+/, '')) {
    return { refusal: 'wrongProduct', detail: `gtin ${code.gtin}, the code holds ${gtin}` };
  }
  if (code.isBlocked === true) return { refusal: 'blocked', detail: 'isBlocked = true' };
  if (code.sold === true) return { refusal: 'sold', detail: 'sold = true' };
  if (code.expireDate && Date.parse(code.expireDate) < nowMs) {
    return { refusal: 'expired', detail: `expireDate ${code.expireDate}` };
  }
  return undefined;
}

export interface LocalModulePermitsOptions
  extends Pick<LocalModuleConfig, 'maxSyncAgeHours' | 'whenUnavailable'> {
  client: Pick<LocalModuleClient, 'status' | 'check'>;
  /** Where the module's last condition is kept for `status` (condition.ts). */
  watch?: LocalModuleWatch;
  logger: Logger;
  deviceId: string;
  now?: () => number;
}

export class LocalModulePermits {
  private readonly now: () => number;

  constructor(private readonly options: LocalModulePermitsOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The job with a permit on each marked position of a sale that had none. Throws
   * `LocalModuleRefusedError` for a code the module forbids; when the module cannot vouch, follows
   * `whenUnavailable`.
   */
  async fill(job: Job): Promise<Job> {
    const bill = job.bill;
    if (!bill || operationOf(job.operation) !== 'sell') return job;
    const asked = bill.positions
      .map((position, index) => ({ position, index }))
      .filter(({ position }) => position.marking && !position.marking.permit);
    if (asked.length === 0) return job;

    const notReady = await this.notReady();
    if (notReady) return this.offline(job, notReady, asked.length);

    const positions: Position[] = [...bill.positions];
    for (const { position, index } of asked) {
      const marking = position.marking!;
      const reply = await this.watched(() =>
        this.options.client.check(productCodeGs1M(marking.code) ?? marking.code),
      );
      if (reply.kind === 'unavailable') {
        this.options.watch?.note('unreachable', { reason: reply.reason });
        return this.offline({ ...job, bill: { ...bill, positions } }, reply.reason, asked.length);
      }
      const answer = reply.value;
      if (answer.kind === 'moduleError') {
        const reason = `it answered code ${answer.code}${answer.description ? `: ${answer.description}` : ''}`;
        return this.offline({ ...job, bill: { ...bill, positions } }, reason, asked.length);
      }
      const verdict = refusalOf(answer.code, marking.code, this.now());
      if (verdict) {
        this.options.logger.warn({
          event: 'device.local-module-refused',
          device: this.options.deviceId,
          job: job.id,
          position: index,
          code: markingShortForm(marking.code),
          ...verdict,
        });
        throw new LocalModuleRefusedError(index, position.name, verdict.refusal, verdict.detail);
      }
      const permit: MarkingPermit = {
        uuid: answer.reqId,
        timestampMs: answer.reqTimestamp,
        ...(answer.instance !== undefined && answer.version !== undefined
          ? { instance: answer.instance, version: answer.version }
          : {}),
      };
      positions[index] = { ...position, marking: { ...marking, permit } };
    }
    this.options.logger.info({
      event: 'device.local-module-checked',
      device: this.options.deviceId,
      job: job.id,
      codes: asked.length,
    });
    return { ...job, bill: { ...bill, positions } };
  }

  /** Why the module cannot be relied on now, or undefined when it is ready and fresh. */
  private async notReady(): Promise<string | undefined> {
    const reply = await this.watched(() => this.options.client.status());
    if (reply.kind === 'unavailable') {
      this.options.watch?.note('unreachable', { reason: reply.reason });
      return reply.reason;
    }
    const fault = statusFault(reply.value, this.options.maxSyncAgeHours, this.now());
    this.options.watch?.noteStatus(reply.value, fault, new Date(this.now()));
    return fault?.reason;
  }

  /** A request to the module whose typed failure (credentials, unreadable answer) is also its condition. */
  private async watched<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (error instanceof LocalModuleError) this.options.watch?.noteError(error);
      throw error;
    }
  }

  private offline(job: Job, reason: string, codes: number): Job {
    if (this.options.whenUnavailable === 'refuse') {
      this.options.logger.warn({
        event: 'device.local-module-unavailable',
        device: this.options.deviceId,
        job: job.id,
        reason,
      });
      throw new LocalModuleUnavailableError(reason);
    }
    // The regulation lets the sale go on when no check can be had in time; Честный ЗНАК records it.
    this.options.logger.warn({
      event: 'device.sale-without-permit',
      device: this.options.deviceId,
      job: job.id,
      codes,
      reason,
    });
    return job;
  }
}
