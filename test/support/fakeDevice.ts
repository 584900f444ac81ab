import { type DeviceSnapshot, FiscalDevice, type ReconcileOutcome } from '../../src/agent/devices/device.js';
import type { FiscalData, Job, ShiftEvent } from '../../src/agent/jobs/job.js';
import type { ReadBack } from '../../src/agent/jobs/receiptHistory.js';

type PrintScript = (job: Job, printed: number) => FiscalData | Error | 'hang' | undefined;

/**
 * A scripted fiscal device for unit tests of the agent core: prints in memory, can refuse, lose
 * outcomes or hang, and reconciles from what it "printed".
 */
export class FakeDevice extends FiscalDevice {
  readonly kind = 'fake';
  readonly currencies = ['RUB', 'BYN', 'UZS'] as const;
  /** Its `printed` list is its own record: a rebuild has nothing to read, and nothing is held. */
  readBack: ReadBack = 'own-records';
  printed: Job[] = [];
  attempts = 0;
  isReady = true;
  reconcileAnswer: ((job: Job) => ReconcileOutcome) | undefined;
  script: PrintScript | undefined;
  private fd = 100;

  constructor(readonly id = 'fake') {
    super();
  }

  get ready(): boolean {
    return this.isReady;
  }

  async start(): Promise<void> {
    this.emit('ready');
  }

  async stop(): Promise<void> {}

  async preparePrint(): Promise<{ lastDocumentNumberBefore: number }> {
    return { lastDocumentNumberBefore: this.fd };
  }

  fiscalFor(job: Job): FiscalData {
    return {
      deviceId: this.id,
      deviceKind: this.kind,
      fiscalDocumentNumber: this.fd,
      fiscalSign: String(1_000_000 + this.fd),
      dateTime: '2026-11-22T10:00:00+03:00',
      dateTimeUtc: '2026-11-22T07:00:00.000Z',
      shiftNumber: 7,
      receiptNumber: String(this.printed.length),
      totalMinor: job.bill?.totalMinor ?? 0,
    };
  }

  async print(job: Job): Promise<FiscalData> {
    this.attempts++;
    const scripted = this.script?.(job, this.printed.length);
    if (scripted === 'hang') return new Promise(() => undefined);
    if (scripted instanceof Error) throw scripted;
    if (scripted) return scripted;
    this.fd++;
    this.printed.push(job);
    return this.fiscalFor(job);
  }

  /** Simulates "printed, but the answer was lost". */
  printSilently(job: Job): void {
    this.fd++;
    this.printed.push(job);
  }

  async reconcile(job: Job): Promise<ReconcileOutcome> {
    if (this.reconcileAnswer) return this.reconcileAnswer(job);
    const mine = this.printed.find((p) => p.id === job.id);
    return mine
      ? { kind: 'fiscalized', fiscal: this.fiscalFor(job) }
      : { kind: 'not-printed', note: 'nothing printed' };
  }

  async snapshot(): Promise<DeviceSnapshot> {
    return { id: this.id, kind: this.kind, online: this.isReady };
  }

  private shiftEvent(): ShiftEvent {
    return {
      shiftNumber: 7,
      fiscalDocumentNumber: ++this.fd,
      dateTime: '2026-11-22T10:00:00+03:00',
      dateTimeUtc: '2026-11-22T07:00:00.000Z',
    };
  }

  async openShift(): Promise<ShiftEvent> {
    const shift = this.shiftEvent();
    this.emit('shift', { type: 'opened', shift });
    return shift;
  }

  async closeShift(): Promise<ShiftEvent> {
    const shift = this.shiftEvent();
    this.emit('shift', { type: 'closed', shift });
    return shift;
  }

  async reportX(): Promise<void> {}
  async cashIn(): Promise<void> {}
  async cashOut(): Promise<void> {}
}
