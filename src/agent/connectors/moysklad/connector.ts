import { hostname } from 'node:os';
import { parseWithSchema } from '../../../lib/json.js';
import type { HealthRecord } from '../health.js';
import { type CloudNames, ConnectorRuntime } from '../runtime.js';
import { MoyskladAccount } from './account.js';
import { MoyskladClient } from './client.js';
import { type MoyskladAccountConfig, type MoyskladAccountInput, moyskladAccountSchema } from './config.js';
import { isOffline, MoyskladDelivery, needsPerson } from './delivery.js';
import { MoyskladDrafts } from './drafts.js';
import { RateLimiter } from './rateLimiter.js';
import { ShiftRegistry } from './shifts.js';
import { MoyskladSink } from './sink.js';
import { type MoyskladPollResult, MoyskladSource } from './source.js';
import { MoyskladStateReporter } from './stateReporter.js';

/**
 * One MoySklad retail store, composed on the connectors' runtime: what its parts share (account.ts: token,
 * settings, device snapshots), its bills (source.ts), the sink of its shift and receipt reports (sink.ts)
 * and the `/state` reporter (stateReporter.ts).
 */

export const MOYSKLAD_CLOUD: CloudNames = {
  kind: 'moysklad',
  codePrefix: 'MOYSKLAD',
  event: 'moysklad',
  label: 'MoySklad',
};

export interface MoyskladConnectorOptions {
  now?: () => Date;
  /** `environment.software.version` and the driver version in `chequePrinter`. */
  softwareVersion?: string;
  /** `environment.device` when the config names none. */
  hostname?: string;
  /** A limiter shared with other connectors of the same cashier (posap counts per user). */
  limiter?: RateLimiter;
}

export class MoyskladConnector extends ConnectorRuntime<MoyskladPollResult> {
  readonly config: MoyskladAccountConfig;
  readonly limiter: RateLimiter;
  declare readonly sink: MoyskladSink;
  private readonly reporter: MoyskladStateReporter;

  constructor(config: MoyskladAccountInput, options: MoyskladConnectorOptions = {}) {
    const parsed = parseWithSchema(moyskladAccountSchema, config, 'moysklad');
    super(MOYSKLAD_CLOUD, parsed.id, {
      ...(options.now ? { now: options.now } : {}),
      isOffline,
      billRetry: parsed.billRetry,
      needsPerson,
    });
    this.config = parsed;
    this.limiter = options.limiter ?? new RateLimiter(parsed.rateLimit);
    const softwareVersion = options.softwareVersion ?? 'unknown';
    let account: MoyskladAccount | undefined;
    const client = new MoyskladClient({
      account: this.account,
      baseUrl: parsed.baseUrl,
      auth: () => {
        const token = account?.token;
        return token ? { kind: 'token', ...token } : undefined;
      },
      limiter: this.limiter,
      timeoutMs: parsed.timeoutMs,
      retries: parsed.retries,
      retryDelayMs: parsed.retryDelayMs,
      maxRetryDelayMs: parsed.maxRetryDelayMs,
      maxRateLimitWaits: parsed.maxRateLimitWaits,
      maxResponseBytes: parsed.maxResponseBytes,
    });
    account = new MoyskladAccount(this, client, parsed, this.limiter);
    const shifts = new ShiftRegistry(undefined, this.name);
    const source = new MoyskladSource(this, client, account, parsed);
    const reporter = new MoyskladStateReporter(
      this,
      client,
      account,
      parsed,
      parsed.state.deviceName ?? options.hostname ?? hostname(),
      softwareVersion,
    );
    this.reporter = reporter;
    const drafts = new MoyskladDrafts(this, shifts, account, parsed, softwareVersion, {
      operationMetaOf: (billId) => source.operationMetaOf(billId),
      kickState: () => reporter.kick(),
    });
    const delivery = new MoyskladDelivery(this, client, account, shifts, parsed);
    this.compose({
      source,
      sink: new MoyskladSink(this, shifts, drafts, delivery),
      others: [account, reporter],
    });
  }

  /** Sends `/state` now when it changed or the interval passed (`force`: in any case). */
  reportState(force = false): Promise<void> {
    return this.reporter.report(force);
  }

  protected override alertChanged(alert: HealthRecord | undefined, previous: HealthRecord | undefined): void {
    if (alert) {
      this.logger.error(
        { event: 'moysklad.alert', account: this.account, code: alert.code },
        `MoySklad needs a person: ${alert.code}`,
      );
    } else {
      this.logger.info(
        { event: 'moysklad.alert.cleared', account: this.account, code: previous?.code },
        'MoySklad alert cleared',
      );
    }
    this.reporter.kick();
  }
}
