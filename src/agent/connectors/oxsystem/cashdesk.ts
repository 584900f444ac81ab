import type { PaymentType } from '../../domain/payment.js';
import type { ConnectorRuntime } from '../runtime.js';
import type { OxClient } from './client.js';
import type { OxAccountConfig } from './config.js';
import { OxPaymentMethodError } from './errors.js';
import type { OxAddedPayment } from './mapping.js';
import type { OxCashdesk } from './wire.js';

const CASHDESK_TTL_MS = 5 * 60_000;

/** The account's cashdesk, read at most every five minutes, and what its payment methods mean to the agent. */
export class OxCashdeskCache {
  private cached: { at: number; cashdesk: OxCashdesk } | undefined;

  constructor(
    private readonly runtime: ConnectorRuntime,
    private readonly client: OxClient,
    private readonly config: OxAccountConfig,
    private readonly now: () => number,
  ) {}

  /** `fresh`: ask OX even within the five minutes (a poll checking that OX still answers). */
  async load(options: { fresh?: boolean } = {}): Promise<OxCashdesk> {
    const cached = this.cached;
    if (cached && !options.fresh && this.now() - cached.at < CASHDESK_TTL_MS) return cached.cashdesk;
    const { runtime } = this;
    const cashdesk = await runtime.track(() => this.client.cashdesk(this.config.cashdesk, runtime.signal));
    if (!cached) {
      runtime.logger.info(
        {
          event: 'ox.cashdesk',
          account: runtime.account,
          cashdesk: cashdesk.id,
          paymentMethods: cashdesk.paymentMethods.map((m) => ({
            id: m.id,
            type: this.paymentTypeOf(cashdesk, m.id),
            active: m.active !== false,
          })),
          onlineKKM: cashdesk.onlineKKM,
        },
        'OX cashdesk read',
      );
    }
    this.cached = { at: this.now(), cashdesk };
    return cashdesk;
  }

  /** `cash: true` → cash, any other method → card; `payments.overrides` win. */
  paymentTypeOf(cashdesk: OxCashdesk, methodId: number): PaymentType {
    const override = this.config.payments.overrides[String(methodId)];
    if (override) return override;
    return cashdesk.paymentMethods.find((m) => m.id === methodId)?.cash === true ? 'cash' : 'card';
  }

  /** The method the agent pays an open sell with: the configured one, else the cashdesk's first of its kind. */
  paymentMethodFor(cashdesk: OxCashdesk, type: 'cash' | 'card'): OxAddedPayment {
    const configured =
      type === 'cash' ? this.config.payments.cashMethodId : this.config.payments.cardMethodId;
    if (configured !== undefined) return { type, methodId: configured };
    const method = cashdesk.paymentMethods.find(
      (m) => m.active !== false && m.wallet !== true && this.paymentTypeOf(cashdesk, m.id) === type,
    );
    if (!method) throw new OxPaymentMethodError(this.runtime.account, this.config.cashdesk, type);
    return { type, methodId: method.id };
  }
}
