import { parseWithSchema } from '../../../lib/json.js';
import type { IntakeResult } from '../../jobs/intake.js';
import { isCloudUnavailable } from '../http/errors.js';
import { type CloudNames, ConnectorRuntime } from '../runtime.js';
import { BridgeClient } from './client.js';
import { type BridgeAccountConfig, type BridgeAccountInput, bridgeAccountSchema } from './config.js';
import type { BridgeIdentity } from './event.js';
import { BridgeSink } from './sink.js';
import { type BridgePollResult, BridgeSource, type FiscalizeOptions } from './source.js';

/**
 * One `/api/v2` bridge account: its bills (source.ts) and the sink of their ReceiptCreated events
 * (sink.ts), on the connectors' shared runtime.
 */

export const BRIDGE_CLOUD: CloudNames = {
  kind: 'bridge',
  codePrefix: 'BRIDGE',
  event: 'bridge',
  label: 'Bridge',
};

export interface BridgeConnectorOptions {
  now?: () => Date;
  /** Overrides the client's first backoff delay (tests keep it short). */
  retryDelayMs?: number;
}

export class BridgeConnector extends ConnectorRuntime<BridgePollResult> {
  readonly config: BridgeAccountConfig;
  declare readonly sink: BridgeSink;
  private readonly source: BridgeSource;
  private readonly reports: BridgeSink;

  constructor(config: BridgeAccountInput, options: BridgeConnectorOptions = {}) {
    const parsed = parseWithSchema(bridgeAccountSchema, config, 'bridge');
    super(BRIDGE_CLOUD, parsed.id, {
      isOffline: isCloudUnavailable,
      billRetry: parsed.billRetry,
      ...(options.now ? { now: options.now } : {}),
    });
    this.config = parsed;
    const client = new BridgeClient({
      account: this.account,
      baseUrl: parsed.baseUrl,
      auth: parsed.auth,
      timeoutMs: parsed.timeoutMs,
      retries: parsed.retries,
      retryDelayMs: options.retryDelayMs ?? parsed.retryDelayMs,
      maxResponseBytes: parsed.maxResponseBytes,
    });
    this.source = new BridgeSource(this, client, parsed);
    this.reports = new BridgeSink(this, client, parsed);
    this.compose({ source: this.source, sink: this.reports });
  }

  /** The ids this account's events carry; known once the connector has started. */
  get identity(): BridgeIdentity | undefined {
    return this.reports.identity;
  }

  fiscalizeByNumber(number: string, options?: FiscalizeOptions): Promise<IntakeResult> {
    return this.source.fiscalizeByNumber(number, options);
  }

  fiscalizeById(id: string, options?: FiscalizeOptions): Promise<IntakeResult> {
    return this.source.fiscalizeById(id, options);
  }
}
