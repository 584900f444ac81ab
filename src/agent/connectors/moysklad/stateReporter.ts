import { release, type } from 'node:os';
import { errorCode, errorMessage } from '../../../lib/errors.js';
import type { HealthRecord } from '../health.js';
import type { ConnectorPart, ConnectorRuntime } from '../runtime.js';
import type { MoyskladAccount } from './account.js';
import type { MoyskladClient } from './client.js';
import type { MoyskladAccountConfig } from './config.js';
import { buildStateBody, stateFingerprint } from './state.js';

/**
 * `POST /state`: the register's health on MoySklad's store page (state.ts builds the body). Sent on its own
 * schedule when something changed or the interval passed; latest wins, a failure is remembered, never
 * queued.
 */
export class MoyskladStateReporter implements ConnectorPart {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private sent: { at: number; fingerprint: string } | undefined;
  private lastError: HealthRecord | undefined;

  constructor(
    private readonly runtime: ConnectorRuntime,
    private readonly client: MoyskladClient,
    private readonly store: MoyskladAccount,
    private readonly config: MoyskladAccountConfig,
    private readonly deviceName: string,
    private readonly softwareVersion: string,
  ) {}

  start(): void {
    if (this.config.state.enabled) this.schedule(0);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  status(): Record<string, unknown> {
    return {
      state: {
        lastSentAt: this.sent ? new Date(this.sent.at).toISOString() : undefined,
        lastError: this.lastError,
      },
    };
  }

  /** Something visible changed (an alert, a shift): look again soon rather than at the next tick. */
  kick(): void {
    if (this.runtime.running && this.config.state.enabled && !this.running) this.schedule(50);
  }

  /**
   * Sends the state when it changed or the interval passed. Latest wins: a check while one is running is
   * skipped (the next tick reads fresher snapshots); a failure is remembered, never queued.
   */
  report(force = false): Promise<void> {
    if (this.running) return this.running;
    this.running = this.send(force).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (!this.runtime.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.report().finally(() => this.schedule(this.config.state.checkIntervalMs));
    }, delayMs);
  }

  private async send(force: boolean): Promise<void> {
    const { runtime } = this;
    const context = runtime.startedContext;
    if (!context || !runtime.running) return;
    try {
      const snapshots = await context.devices();
      this.store.keepSnapshots(snapshots);
      const snapshot =
        this.config.device !== undefined ? this.store.snapshots.get(this.config.device) : snapshots[0];
      // The store's tax system goes into chequePrinter.taxSystem; read the settings first if need be.
      if (!this.store.hasSettings) await this.store.settings().catch(() => undefined);
      const taxSystem = this.store.storeTaxSystem;
      const body = buildStateBody(
        snapshot,
        {
          deviceName: this.deviceName,
          os: `${type()} ${release()}`,
          softwareVersion: this.softwareVersion,
          timeZone: this.config.timeZone,
          ...(taxSystem ? { taxSystem } : {}),
        },
        {
          message: this.syncMessage(),
          lastAttemptAt: runtime.health.lastSuccessAt ?? runtime.now().toISOString(),
        },
      );
      const fingerprint = stateFingerprint(body);
      const sent = this.sent;
      const due =
        force ||
        !sent ||
        sent.fingerprint !== fingerprint ||
        Date.now() - sent.at >= this.config.state.intervalMs;
      if (!due) return;
      await this.store.ensureCredentials();
      await runtime.track(() => this.client.send('POST', 'state', JSON.stringify(body), runtime.signal));
      this.sent = { at: Date.now(), fingerprint };
      this.lastError = undefined;
    } catch (error) {
      if (runtime.signal.aborted) return;
      this.lastError = {
        code: errorCode(error),
        message: errorMessage(error),
        at: runtime.now().toISOString(),
      };
      runtime.logger.warn(
        { event: 'moysklad.state.failed', account: runtime.account, code: errorCode(error) },
        'MoySklad /state not sent',
      );
    }
  }

  /**
   * `state.sync.message`. A state only arrives when MoySklad answered it, so "offline" would always be stale
   * there: only what needs a person is said.
   */
  private syncMessage(): string {
    const alert = this.runtime.health.alert;
    if (alert) return `Ошибка синхронизации (${alert.code}): требуется действие`.slice(0, 255);
    return 'OK';
  }
}
