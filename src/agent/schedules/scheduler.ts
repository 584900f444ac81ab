import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Agent } from '../agent.js';
import { type Alert, deviceAlerts, shiftNeedsClosing } from './checks.js';
import type { SchedulesConfig } from './schema.js';

export interface ScheduleInfo {
  name: string;
  cron: string;
  nextRun?: string;
  lastRun?: string;
  lastError?: string;
}

/**
 * The agent's periodic work, with node-cron in the configured time zone: the daily Z report, closing a
 * shift before its 24 h limit, OFD-backlog and FN-expiry alerts, and store retention. (The state
 * heartbeat is the state reporter's own interval, `state.intervalMs`.) Device work goes through `agent.deviceOperation`, so it never cuts into a receipt.
 */
export class Scheduler {
  private readonly tasks = new Map<string, ScheduledTask>();
  private readonly info = new Map<string, ScheduleInfo>();
  private currentAlerts: Alert[] = [];

  constructor(
    private readonly agent: Agent,
    private readonly config: SchedulesConfig,
    private readonly timeZone: string,
    private readonly logger: Logger,
  ) {}

  get alerts(): readonly Alert[] {
    return this.currentAlerts;
  }

  start(): void {
    this.add('zReport', this.config.zReport, () => this.closeOpenShifts());
    this.add('checks', this.config.checks, () => this.runChecks());
    // Once now as well: alerts (and an expired shift) should not wait for the first tick.
    void this.runChecks().catch((error: Error) =>
      this.logger.warn({ event: 'schedule.failed', schedule: 'checks', reason: error.message }),
    );
    this.add('compaction', this.config.compaction, async () => {
      const result = await this.agent.applyRetention();
      this.logger.info({ event: 'schedule.retention', ...result });
    });
  }

  private add(name: string, expression: string | null, work: () => Promise<void>): void {
    if (expression === null) return;
    const info: ScheduleInfo = { name, cron: expression };
    this.info.set(name, info);
    const task = cron.schedule(
      expression,
      async () => {
        info.lastRun = new Date().toISOString();
        try {
          await work();
          info.lastError = undefined;
        } catch (error) {
          info.lastError = (error as Error).message;
          this.logger.error({ event: 'schedule.failed', schedule: name, reason: info.lastError });
        }
      },
      { name: `kkt-${name}`, timezone: this.timeZone, noOverlap: true },
    );
    this.tasks.set(name, task);
  }

  async stop(): Promise<void> {
    for (const task of this.tasks.values()) await task.destroy();
    this.tasks.clear();
  }

  /** The schedules with their next run, for the state document and `status`. */
  describe(): ScheduleInfo[] {
    return [...this.info.values()].map((info) => ({
      ...info,
      nextRun: this.tasks.get(info.name)?.getNextRun()?.toISOString(),
    }));
  }

  /** The daily Z report: closes the shift on every online device that has one open. */
  private async closeOpenShifts(): Promise<void> {
    for (const device of this.agent.deviceList) {
      const snapshot = await device.snapshot();
      if (!snapshot.online || !snapshot.shift || snapshot.shift.state === 'closed') continue;
      this.logger.info({
        event: 'schedule.z-report',
        device: device.id,
        reason: 'scheduled',
        shift: snapshot.shift.number,
      });
      await this.agent.deviceOperation(device.id, (d) => d.closeShift());
    }
  }

  /** Shift age, OFD backlog and FN validity: closes shifts near their limit, raises alerts. */
  async runChecks(now = Date.now()): Promise<void> {
    const alerts: Alert[] = [];
    for (const device of this.agent.deviceList) {
      const snapshot = await device.snapshot();
      if (shiftNeedsClosing(snapshot, now, this.config.closeBeforeExpiryMinutes)) {
        this.logger.info({
          event: 'schedule.z-report',
          device: device.id,
          reason: 'the shift is near its 24 h limit',
          shift: snapshot.shift?.number,
        });
        await this.agent.deviceOperation(device.id, (d) => d.closeShift());
      }
      alerts.push(...deviceAlerts(snapshot, now, this.config));
    }
    for (const alert of alerts) {
      const known = this.currentAlerts.find((a) => a.code === alert.code && a.device === alert.device);
      if (known) alert.since = known.since;
      else
        this.logger.warn({
          event: 'alert.raised',
          code: alert.code,
          device: alert.device,
          message: alert.message,
        });
    }
    this.currentAlerts = alerts;
  }
}
