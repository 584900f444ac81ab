import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { KktAgentError } from '../../lib/errors.js';
import { crashPoint } from '../crashPoints.js';
import type { FiscalDevice } from '../devices/device.js';
import type { DoctorOptions, DoctorReport } from '../devices/doctorReport.js';
import type { Bill } from '../domain/bill.js';
import { openDurableDb } from '../store/lowdbAdapter.js';

/** A self-test that began and never finished (the process died): kept until the next run on that device. */
export interface InterruptedRun {
  startedAt: string;
  pid: number;
}

interface DoctorDocument {
  /** The last report per device id. */
  reports: Record<string, DoctorReport>;
  /** Self-tests in progress, written before the probe receipt opens. */
  running: Record<string, InterruptedRun>;
}

const EMPTY: DoctorDocument = { reports: {}, running: {} };

/**
 * Runs `kkt-agent doctor` on devices and keeps the last report of each in `doctor.json` (a small lowdb
 * document, written durably). Before a device's probes start, the run is recorded as in progress, so that a
 * crash in the middle is visible after the restart (the open probe receipt itself is cancelled by the next
 * print, which looks at the register first). The intake asks `admission` whether a bill needs something a
 * register refused.
 */
export class Doctor {
  private constructor(
    private readonly db: Awaited<ReturnType<typeof openDurableDb<DoctorDocument>>>,
    private readonly logger: Logger,
    /** Runs that a crash interrupted, as found when the document was opened. */
    readonly interrupted: Readonly<Record<string, InterruptedRun>>,
  ) {}

  /** Opens `dataDir/doctor.json`. A file that cannot be read is set aside: the reports are a diagnosis, not a journal. */
  static async open(dataDir: string, logger: Logger): Promise<Doctor> {
    const path = join(dataDir, 'doctor.json');
    let db: Awaited<ReturnType<typeof openDurableDb<DoctorDocument>>>;
    try {
      db = await openDurableDb<DoctorDocument>(path, structuredClone(EMPTY));
    } catch (error) {
      const aside = `${path}.unreadable-${Date.now()}`;
      await rename(path, aside).catch(() => undefined);
      logger.warn({
        event: 'doctor.document-unreadable',
        path,
        movedTo: aside,
        reason: (error as Error).message,
      });
      db = await openDurableDb<DoctorDocument>(path, structuredClone(EMPTY));
    }
    db.data.reports ??= {};
    db.data.running ??= {};
    const interrupted = { ...db.data.running };
    for (const [device, run] of Object.entries(interrupted)) {
      logger.warn({ event: 'doctor.interrupted', device, startedAt: run.startedAt, pid: run.pid });
    }
    return new Doctor(db, logger, interrupted);
  }

  report(deviceId: string): DoctorReport | undefined {
    return this.db.data.reports[deviceId];
  }

  get reports(): DoctorReport[] {
    return Object.values(this.db.data.reports);
  }

  /**
   * Runs the self-test of each device, one after the other, through `exclusive` (the daemon passes its
   * fiscalizer's lock, so a probe never lands between a receipt's anchor and its print).
   */
  async run(
    devices: readonly FiscalDevice[],
    options: Omit<DoctorOptions, 'onProbe'>,
    exclusive: <T>(device: FiscalDevice, work: () => Promise<T>) => Promise<T> = (_d, work) => work(),
  ): Promise<DoctorReport[]> {
    const reports: DoctorReport[] = [];
    for (const device of devices) {
      reports.push(await exclusive(device, () => this.runOne(device, options)));
    }
    return reports;
  }

  /** A write of the document that failed (a full disk, a data directory of another user): logged, not fatal. */
  private async keep(what: string, change: (data: DoctorDocument) => void): Promise<void> {
    try {
      await this.db.update(change);
    } catch (error) {
      this.logger.warn({ event: 'doctor.not-kept', what, reason: (error as Error).message });
    }
  }

  private async runOne(device: FiscalDevice, options: Omit<DoctorOptions, 'onProbe'>): Promise<DoctorReport> {
    await this.keep('start', (data) => {
      data.running[device.id] = { startedAt: new Date().toISOString(), pid: process.pid };
    });
    let report: DoctorReport;
    try {
      report = await device.doctor({ ...options, onProbe: () => crashPoint('doctor:after-probe') });
    } catch (error) {
      const known = error as Partial<KktAgentError>;
      report = {
        deviceId: device.id,
        kind: device.kind,
        at: new Date().toISOString(),
        probes: 'interrupted',
        reason: { code: known.code ?? 'ERROR', message: (error as Error).message },
        findings: [],
      };
    }
    await this.keep('report', (data) => {
      delete data.running[device.id];
      data.reports[device.id] = report;
    });
    this.logger.info({
      event: 'doctor.done',
      device: device.id,
      probes: report.probes,
      reason: report.reason?.code,
      refused: report.findings.filter((f) => f.verdict === 'refused').map((f) => f.feature),
    });
    return report;
  }

  /** For the intake: the refusal a device's last report gives this bill, or undefined. */
  admission(
    devices: ReadonlyMap<string, FiscalDevice>,
  ): (deviceId: string, bill: Bill) => KktAgentError | undefined {
    return (deviceId, bill) => {
      const report = this.report(deviceId);
      const device = devices.get(deviceId);
      if (!report || !device) return undefined;
      return device.admissionRefusal(bill, report);
    };
  }
}
