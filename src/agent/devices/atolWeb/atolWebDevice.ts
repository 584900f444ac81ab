import {
  AtolWebKkt,
  type AtolWebKktOptions,
  type FiscalRequestState,
  KktDriverError,
  KktWebError,
} from '../../../drivers/atol/web/index.js';
import type { FiscalData, Job, ShiftEvent } from '../../jobs/job.js';
import {
  AtolDeviceBase,
  type AtolDeviceBaseOptions,
  type RegisterSnapshot,
} from '../atolCommon/atolDeviceBase.js';
import { fiscalDataFromReceipt } from '../atolCommon/fiscalData.js';
import { type FnScan, scanFnAfterAnchor } from '../atolCommon/fnScan.js';
import {
  type DeviceSnapshot,
  PrintOutcomeUnknownError,
  PrintRefusedError,
  type ReconcileOutcome,
} from '../device.js';
import type { DoctorOptions, DoctorReport } from '../doctorReport.js';
import { LocalModuleError } from '../localModule/localModuleError.js';
import type { LocalModulePermits } from '../localModule/permits.js';
import type { LocalModuleDoctor } from '../localModule/probe.js';
import { checkMarkedPositions, MarkingCodeRefusedError } from './markingCheck.js';

export interface AtolWebDeviceOptions extends AtolDeviceBaseOptions {
  /** The web server and how to talk to it. */
  server: Omit<AtolWebKktOptions, 'logger' | 'onExchange'>;
  /** How long a reconcile waits for a request the server is still running; default the task timeout. */
  reconcileWaitMs?: number;
  /** How long the register's check of one marking code waits for ОИСМ (docs/marking.md); default 20 s. */
  markingCheckTimeoutMs?: number;
  /** The shop's local module of Честный ЗНАК, asked for a permit before a marked sale that has none. */
  localModule?: LocalModulePermits;
  /**
   * The module's probe for `kkt-agent doctor` and its last condition for `status`: present whenever the
   * config names a module, even one not `enabled` for sales.
   */
  localModuleDoctor?: LocalModuleDoctor;
}

const DEFAULT_MARKING_CHECK_TIMEOUT_MS = 20_000;

/** A request is still queued or running on the web server: the reconcile waits for it and tries again. */
export class RequestStillRunningError extends PrintOutcomeUnknownError {
  constructor(uuid: string) {
    super(
      'KKT_WEB_REQUEST_PENDING',
      `Request ${uuid} is still queued or running on the ATOL web server; the job waits for its result.`,
      { uuid },
    );
  }
}

/**
 * An ATOL register behind driver 10's web server as a fiscal device (kind `atol-web`). Each job is one
 * request chain on the server whose uuid is the job id, so the server itself refuses a second copy (409)
 * and keeps the result of the first. As a second line of defence the adapter anchors every print on the
 * FN's last document number, like the protocol device, and its reconcile reads the documents after the
 * anchor for its marker (tag 1192) whenever the server cannot say "done".
 */
export class AtolWebDevice extends AtolDeviceBase<AtolWebKkt> {
  readonly kind = 'atol-web';
  /** Per job, request uuids a reconcile proved (on the FN) did nothing: a re-print moves past them. */
  private readonly retired = new Map<string, Set<string>>();

  constructor(private readonly options: AtolWebDeviceOptions) {
    super(
      { ...options, timeZone: options.timeZone ?? options.server.timeZone },
      (noteActivity) =>
        new AtolWebKkt({ ...options.server, logger: options.logger, onExchange: noteActivity }),
      'the web server is unreachable',
    );
  }

  async print(job: Job): Promise<FiscalData> {
    if (job.bill?.internet) {
      // No public source shows how a driver-10 task sets tag 1125 (docs/protocol/atol-v3.md §17): a
      // receipt without it would misstate the settlement, so it is refused before anything is sent.
      throw new PrintRefusedError(
        'DEVICE_RECEIPT_KIND_UNSUPPORTED',
        `The driver-10 backend of ${this.id} cannot mark a settlement on the internet (tag 1125); route internet bills to an "atol" (protocol v3) device.`,
        false,
        { field: 'internet' },
      );
    }
    const request = { requestId: job.id, retired: this.retired.get(job.id) };
    try {
      // Permissive mode: the local module vouches for each code the source did not check (tag 1260).
      const permitted = this.options.localModule ? await this.options.localModule.fill(job) : job;
      // Marked goods: the register checks each code first; a refused code fails the bill before anything prints.
      const receipt = await checkMarkedPositions(this.kkt, this.receiptFor(permitted), {
        timeoutMs: this.options.markingCheckTimeoutMs ?? DEFAULT_MARKING_CHECK_TIMEOUT_MS,
      });
      const result = await this.kkt.receipt(receipt, request);
      this.retired.delete(job.id);
      return fiscalDataFromReceipt(this, result);
    } catch (error) {
      if (error instanceof LocalModuleError) throw error;
      if (error instanceof MarkingCodeRefusedError) {
        this.logger.warn({ event: 'device.marking-refused', device: this.id, job: job.id, ...error.details });
        throw error;
      }
      this.noteError(error);
      if (error instanceof KktDriverError) {
        const found = await this.confirmRefusal(job, error);
        if (found) return found;
      }
      throw this.translate(error);
    }
  }

  /**
   * The driver runs a whole receipt per task, so a refusal could in principle come after the FN closed the
   * document (⚠ unverified on real hardware). The FN is asked: our marker after the anchor means the
   * receipt exists after all. Anything short of finding it leaves the driver's definite refusal standing.
   */
  private async confirmRefusal(job: Job, refusal: KktDriverError): Promise<FiscalData | undefined> {
    let scan: FnScan;
    try {
      scan = await scanFnAfterAnchor(this.kkt, job);
    } catch (error) {
      this.logger.warn({
        event: 'device.refusal-unchecked',
        device: this.id,
        job: job.id,
        code: refusal.code,
        reason: (error as Error).message,
      });
      return undefined;
    }
    if (scan.kind !== 'found') return undefined;
    this.logger.warn({
      event: 'device.refusal-contradicted',
      device: this.id,
      job: job.id,
      code: refusal.code,
    });
    this.retired.delete(job.id);
    return fiscalDataFromReceipt(this, scan.document);
  }

  /** Driver refusals become `PrintRefusedError`; input problems stay final, device states are retryable. */
  private translate(error: unknown): unknown {
    if (error instanceof KktDriverError) {
      // The shift expired, was closed behind the agent's back, or the register is in some other state:
      // look at it again before the next print.
      if (error.kind === 'state') this.shiftKnownOpen = false;
      return new PrintRefusedError(error.code, error.message, error.kind !== 'input', {
        driverCode: error.driverCode,
        deviceCode: error.deviceCode,
        deviceText: error.deviceText,
      });
    }
    if (error instanceof KktWebError)
      return new PrintRefusedError(error.code, error.message, true, error.details);
    return error;
  }

  async reconcile(job: Job): Promise<ReconcileOutcome> {
    const retired = this.retired.get(job.id);
    const state = await this.kkt.findRequest({ requestId: job.id, retired }, this.options.reconcileWaitMs);
    if (state.state === 'done') {
      this.retired.delete(job.id);
      return { kind: 'fiscalized', fiscal: fiscalDataFromReceipt(this, state.result) };
    }
    if (state.state === 'pending') throw new RequestStillRunningError(state.uuid);
    if (job.printing?.lastDocumentNumberBefore === undefined) {
      return {
        kind: 'ambiguous',
        reason: `${describe(state)}, and no FN anchor was recorded before printing`,
      };
    }
    const scan = await scanFnAfterAnchor(this.kkt, job);
    if (scan.kind === 'found') {
      this.retired.delete(job.id);
      return { kind: 'fiscalized', fiscal: fiscalDataFromReceipt(this, scan.document) };
    }
    if (scan.kind === 'ambiguous') return { kind: 'ambiguous', reason: `${describe(state)}; ${scan.reason}` };
    if (state.state === 'uncertain') {
      const set = this.retired.get(job.id) ?? new Set<string>();
      set.add(state.uuid);
      this.retired.set(job.id, set);
    }
    this.shiftKnownOpen = false;
    return {
      kind: 'not-printed',
      note: `${describe(state)}, and the FN holds no receipt after FD ${job.printing.lastDocumentNumberBefore} (last FD ${scan.last})`,
    };
  }

  async closeShift(): Promise<ShiftEvent> {
    return this.shiftChanged('closed', await this.kkt.closeShift(this.receiptDefaults.operator));
  }

  reportX(): Promise<void> {
    return this.kkt.reportX(this.receiptDefaults.operator);
  }

  cashIn(amountMinor: number): Promise<void> {
    return this.kkt.cashIn(amountMinor, this.receiptDefaults.operator);
  }

  cashOut(amountMinor: number): Promise<void> {
    return this.kkt.cashOut(amountMinor, this.receiptDefaults.operator);
  }

  /** The register's self-test, then the local module's when one is configured (docs/marking.md). */
  override async doctor(options: DoctorOptions = {}): Promise<DoctorReport> {
    const report = await super.doctor(options);
    const moduleDoctor = this.options.localModuleDoctor;
    return moduleDoctor ? { ...report, localModule: await moduleDoctor.probe() } : report;
  }

  override async snapshot(): Promise<DeviceSnapshot> {
    const snapshot = await super.snapshot();
    const condition = this.options.localModuleDoctor?.condition;
    return condition ? { ...snapshot, localModule: condition } : snapshot;
  }

  protected override offlineSnapshot(base: DeviceSnapshot): DeviceSnapshot {
    return { ...base, details: { url: this.kkt.url } };
  }

  protected async readRegisterSnapshot(): Promise<RegisterSnapshot> {
    const status = await this.kkt.status();
    const fn = await this.kkt.fnInfo();
    const info = this.kkt.deviceInfoCached;
    this.shiftKnownOpen = status.shift.state === 'open';
    return {
      ...this.registerFields(status, fn),
      details: {
        url: this.kkt.url,
        platform: info?.platform,
        registrationNumber: fn.registrationNumber,
        inn: fn.inn,
        blocked: status.blocked,
      },
    };
  }
}

function describe(state: FiscalRequestState): string {
  switch (state.state) {
    case 'unknown':
      return 'the web server holds no request for the job';
    case 'refused':
      return `request ${state.uuid} was refused (${state.error.code})`;
    case 'uncertain':
      return `request ${state.uuid} ended without a clear result (${state.reason})`;
    default:
      return `request ${state.state}`;
  }
}
