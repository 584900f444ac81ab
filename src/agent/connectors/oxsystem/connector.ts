import { parseWithSchema } from '../../../lib/json.js';
import { isCloudUnavailable } from '../http/errors.js';
import { type CloudNames, ConnectorRuntime } from '../runtime.js';
import { OxCashdeskCache } from './cashdesk.js';
import { OxClient } from './client.js';
import { type OxAccountConfig, type OxAccountInput, oxAccountSchema } from './config.js';
import { OxAuthError } from './errors.js';
import { OxSink } from './sink.js';
import { type OxPollResult, OxSource } from './source.js';

/**
 * One OX System account and cashdesk: its sells as bills (source.ts) and the sink that writes back what
 * the register printed (sink.ts), on the connectors' shared runtime.
 */

export const OX_CLOUD: CloudNames = { kind: 'oxsystem', codePrefix: 'OX', event: 'ox', label: 'OX System' };

export interface OxConnectorOptions {
  /** Milliseconds since the epoch (tests move it to exercise settling and token expiry). */
  now?: () => number;
  /** Overrides the client's first backoff delay. */
  retryDelayMs?: number;
}

/** A refused login or token counts as offline too: nothing can be read until someone fixes it. */
function isTransportError(error: unknown): boolean {
  return isCloudUnavailable(error) || error instanceof OxAuthError;
}

export class OxSystemConnector extends ConnectorRuntime<OxPollResult> {
  readonly config: OxAccountConfig;
  readonly client: OxClient;
  declare readonly sink: OxSink;
  private readonly source: OxSource;

  constructor(config: OxAccountInput, options: OxConnectorOptions = {}) {
    const parsed = parseWithSchema(oxAccountSchema, config, 'oxsystem');
    const now = options.now ?? Date.now;
    super(OX_CLOUD, parsed.id, {
      now: () => new Date(now()),
      isOffline: isTransportError,
      billRetry: parsed.billRetry,
    });
    this.config = parsed;
    this.client = new OxClient({
      account: this.account,
      baseUrl: parsed.baseUrl,
      subdomain: parsed.subdomain,
      username: parsed.username,
      password: parsed.password,
      routes: parsed.routes,
      listQuery: parsed.listQuery,
      timeoutMs: parsed.timeoutMs,
      retries: parsed.retries,
      retryDelayMs: options.retryDelayMs ?? parsed.retryDelayMs,
      maxResponseBytes: parsed.maxResponseBytes,
      token: parsed.token,
      now,
    });
    const cashdesks = new OxCashdeskCache(this, this.client, parsed, now);
    this.source = new OxSource(this, this.client, cashdesks, parsed, now);
    this.compose({
      source: this.source,
      sink: new OxSink(this, this.client, (sellId) => this.source.fetchSell(sellId)),
    });
  }

  /** The `updatedTime[min]` of the next poll (OX local time); known once started. */
  get cursor(): string | undefined {
    return this.source.cursor;
  }
}
