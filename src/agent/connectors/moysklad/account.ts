import { type ErrorCode, errorCode } from '../../../lib/errors.js';
import type { DeviceSnapshot } from '../../devices/device.js';
import type { BillCashier } from '../../domain/bill.js';
import type { ConnectorPart, ConnectorRuntime } from '../runtime.js';
import { cashierByUid, type MoyskladCashier, storeCashiers } from './cashiers.js';
import type { MoyskladClient } from './client.js';
import type { MoyskladAccountConfig } from './config.js';
import { credentialsFingerprint, type LoadedCredentials, readCredentials } from './credentials.js';
import type { RateLimiter } from './rateLimiter.js';
import { isMoyskladTaxSystem, normalizeBaseUrl } from './wire.js';

/**
 * What the source, the sink and the `/state` reporter of one MoySklad store share: the token (read from
 * the credentials file, again after a re-pairing), the store's settings, warnings for a person, and the
 * device snapshots drafts and `/state` describe the register with.
 */

export const REPAIR_REQUIRED = 'MOYSKLAD_REPAIR_REQUIRED' satisfies ErrorCode;

interface Settings {
  /** The store's cashiers, for the receipt's cashier (tags 1021, 1203). */
  cashiers: MoyskladCashier[];
  organizationId?: string;
  fiscalType?: string;
  defaultTaxSystem?: string;
  orderTaxSystem?: string;
  /** `isPhonePriority`: which contact an electronic receipt goes to when an operation names both. */
  phonePriority?: boolean;
  /** `ofdEnabled`: the store sends electronic receipts through the OFD ("Отправлять электронный чек через ОФД"). */
  sendsElectronicReceipts?: boolean;
  storeName: string;
  loadedAt: number;
}

export class MoyskladAccount implements ConnectorPart {
  readonly snapshots = new Map<string, DeviceSnapshot>();
  private credentials: LoadedCredentials | undefined;
  private credentialsLoading: Promise<LoadedCredentials> | undefined;
  private settingsValue: Settings | undefined;
  private snapshotsLoading: Promise<void> | undefined;
  private readonly warnings = new Set<string>();

  constructor(
    private readonly runtime: ConnectorRuntime,
    private readonly client: MoyskladClient,
    private readonly config: MoyskladAccountConfig,
    private readonly limiter: RateLimiter,
  ) {}

  /** The client's auth: the token and cashier of the loaded credentials. */
  get token(): { token: string; cashierUid: string } | undefined {
    const loaded = this.credentials?.credentials;
    return loaded ? { token: loaded.token, cashierUid: loaded.cashierUid } : undefined;
  }

  async start(): Promise<void> {
    this.client.setLogger(this.runtime.logger);
    try {
      await this.ensureCredentials();
    } catch (error) {
      // The agent starts anyway; status shows why this store is idle, and every poll tries the file again.
      this.runtime.logger.error(
        { event: 'moysklad.credentials.unusable', account: this.runtime.account, code: errorCode(error) },
        'MoySklad credentials are not usable; run `kkt-agent moysklad pair`',
      );
    }
    this.refreshSnapshots();
  }

  async stop(): Promise<void> {
    await this.snapshotsLoading;
  }

  status(): Record<string, unknown> {
    const credentials = this.credentials?.credentials;
    return {
      mode: this.config.mode,
      store: credentials ? { id: credentials.retailStore.id, name: credentials.retailStore.name } : undefined,
      cashierUid: credentials?.cashierUid,
      organizationId: this.organizationId(),
      fiscalType: this.settingsValue?.fiscalType,
      alert: this.runtime.health.alert,
      warnings: [...this.warnings],
      rateLimiter: this.limiter.stats,
      requests: this.client.stats,
    };
  }

  /**
   * The token, read from the credentials file at start and again whenever the file changed (a re-pairing)
   * while the token is refused or missing. A changed token lifts the re-pair alert.
   */
  async ensureCredentials(): Promise<LoadedCredentials> {
    const { runtime } = this;
    const current = this.credentials;
    if (current && runtime.health.alert?.code !== REPAIR_REQUIRED) return current;
    if (current) {
      const fingerprint = await credentialsFingerprint(this.config.credentialsFile);
      if (fingerprint === current.fingerprint) return current;
    }
    this.credentialsLoading ??= readCredentials(this.config.credentialsFile).finally(() => {
      this.credentialsLoading = undefined;
    });
    let loaded: LoadedCredentials;
    try {
      loaded = await this.credentialsLoading;
    } catch (error) {
      if (current) return current;
      runtime.health.raiseAlert(error);
      throw error;
    }
    const tooOpen = `${this.config.credentialsFile} is readable by others; chmod 600 it`;
    if (loaded.tooOpen) this.warnings.add(tooOpen);
    else this.warnings.delete(tooOpen);
    for (const warning of this.warnings)
      if (warning.startsWith('the credentials were made for')) this.warnings.delete(warning);
    if (normalizeBaseUrl(loaded.credentials.baseUrl) !== this.client.baseUrl) {
      this.warnings.add(
        `the credentials were made for ${loaded.credentials.baseUrl}, the config says ${this.client.baseUrl}`,
      );
    }
    const changed = current?.credentials.token !== loaded.credentials.token;
    this.credentials = loaded;
    if (changed) {
      if (current) {
        runtime.logger.info(
          {
            event: 'moysklad.credentials.reloaded',
            account: runtime.account,
            store: loaded.credentials.retailStore.id,
          },
          'new MoySklad credentials loaded',
        );
      }
      if (runtime.health.alert) runtime.health.clearAlert();
      this.settingsValue = undefined;
    }
    return loaded;
  }

  /** The store's settings, refreshed every `settingsRefreshMs`; stale ones when MoySklad cannot answer. */
  async settings(): Promise<Settings | undefined> {
    const { runtime } = this;
    const cached = this.settingsValue;
    if (cached && Date.now() - cached.loadedAt < this.config.settingsRefreshMs) return cached;
    await this.ensureCredentials();
    try {
      const store = await runtime.track(() => this.client.settings(runtime.signal));
      const settings: Settings = {
        storeName: store.name,
        loadedAt: Date.now(),
        cashiers: storeCashiers(store),
      };
      if (store.organization?.id) settings.organizationId = store.organization.id;
      if (store.fiscalType) settings.fiscalType = store.fiscalType;
      if (store.defaultTaxSystem) settings.defaultTaxSystem = store.defaultTaxSystem;
      if (store.orderTaxSystem) settings.orderTaxSystem = store.orderTaxSystem;
      if (store.isPhonePriority !== undefined) settings.phonePriority = store.isPhonePriority;
      if (store.ofdEnabled !== undefined) settings.sendsElectronicReceipts = store.ofdEnabled;
      this.settingsValue = settings;
      const warning =
        'the store is not a master cash register (fiscalType is not MASTER): the queue stays empty';
      if (this.config.mode === 'master' && store.fiscalType !== undefined && store.fiscalType !== 'MASTER') {
        if (!this.warnings.has(warning)) {
          runtime.logger.warn(
            { event: 'moysklad.settings.not_master', account: runtime.account, fiscalType: store.fiscalType },
            warning,
          );
        }
        this.warnings.add(warning);
      } else {
        this.warnings.delete(warning);
      }
      return settings;
    } catch (error) {
      // Settings only refine things (tax system, organization); stale ones are better than none.
      if (cached) return cached;
      throw error;
    }
  }

  /** The store's cashiers as the settings last listed them. */
  get cashiers(): MoyskladCashier[] {
    return this.settingsValue?.cashiers ?? [];
  }

  /** The store's `isPhonePriority`, when its settings say. */
  get phonePriority(): boolean | undefined {
    return this.settingsValue?.phonePriority;
  }

  /** The store's `ofdEnabled`, when its settings say: whether a customer order's buyer gets an e-receipt. */
  get sendsElectronicReceipts(): boolean | undefined {
    return this.settingsValue?.sendsElectronicReceipts;
  }

  /** The paired cashier, if the store's list names them. */
  pairedCashier(): BillCashier | undefined {
    return cashierByUid(this.cashiers, this.credentials?.credentials.cashierUid);
  }

  /** Settings were read at least once (possibly stale). */
  get hasSettings(): boolean {
    return this.settingsValue !== undefined;
  }

  organizationId(): string | undefined {
    return this.settingsValue?.organizationId ?? this.credentials?.credentials.organizationId;
  }

  /** The store's tax system as a MoySklad code, if the settings name a valid one. */
  defaultTaxSystem(kind: 'order' | 'master'): string | undefined {
    const settings = this.settingsValue;
    const code =
      kind === 'order'
        ? (settings?.orderTaxSystem ?? settings?.defaultTaxSystem)
        : settings?.defaultTaxSystem;
    return isMoyskladTaxSystem(code) ? code : undefined;
  }

  /** The settings' own default tax system, as MoySklad spelled it (for `/state`). */
  get storeTaxSystem(): string | undefined {
    return this.settingsValue?.defaultTaxSystem;
  }

  /**
   * Device snapshots for `chequePrinter` in approves and sales (drafts are synchronous, so they read this
   * cache). Refreshed at start, at shift events, by the state loop, and when a draft found no model.
   */
  refreshSnapshots(): void {
    const context = this.runtime.startedContext;
    if (!context || !this.runtime.running || this.snapshotsLoading) return;
    this.snapshotsLoading = context
      .devices()
      .then((snapshots) => this.keepSnapshots(snapshots))
      .catch(() => undefined)
      .finally(() => {
        this.snapshotsLoading = undefined;
      });
  }

  keepSnapshots(snapshots: DeviceSnapshot[]): void {
    for (const snapshot of snapshots) this.snapshots.set(snapshot.id, snapshot);
  }
}
