import { EventEmitter } from 'node:events';
import { encodeAnswer, findCommand } from '../../drivers/atol/commands/index.js';
import type { TaxType } from '../../drivers/atol/taxBytes.js';
import { errorMessage, KktAgentError } from '../../lib/errors.js';
import { type Clock, systemClock } from './clock.js';
import { AtolDevice, type CommandRecord, type Execution, type Printout, SLOW_COMMANDS } from './device.js';
import { DeviceView } from './deviceView.js';
import { EmulatorConfigError } from './errors.js';
import { FAULT_DEFAULTS, type FaultName, type FaultSettings, NO_FAULTS, parseCommandCode } from './faults.js';
import type { JournalEntry } from './journalEntry.js';
import { type EmulatedModel, resolveModel } from './models.js';
import { DeviceStore } from './persistence.js';
import { type ConnectionInfo, type DisconnectInfo, LinkServer, type LinkServerStats } from './server.js';
import { identitySchema, type RegisterIdentity } from './state.js';
import { TaskBufferServer, type TaskRun, type TaskRunner } from './taskBufferServer.js';
import { EmulatorVatTable } from './vat.js';

/** Register data that may be set at first start (a saved state keeps its own). */
export type IdentityOptions = Partial<
  Pick<
    RegisterIdentity,
    | 'ffdVersion'
    | 'serial'
    | 'fnSerial'
    | 'registrationNumber'
    | 'inn'
    | 'taxationSystems'
    | 'organizationName'
    | 'address'
    | 'firmware'
  >
>;

export interface AtolEmulatorOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** TCP port; default 5555 (ATOL's); 0 picks a free one (see `port` on the result). */
  port?: number;
  /** Where the register keeps its state across restarts; without it, it forgets on close. */
  stateFile?: string;
  /** JSONL journal of fiscal documents, one line each. */
  journalFile?: string;
  /** Model code (61), name ("30F", "АТОЛ 22Ф") or a full description; default АТОЛ 30Ф. Used at first start. */
  model?: number | string | EmulatedModel;
  identity?: IdentityOptions;
  /** IANA zone of the register's wall clock; default the process's zone. */
  timeZone?: string;
  /** The source of "now"; tests inject one. */
  clock?: Clock;
  /** Work time of quick commands before their answer (A3/A4); default 0. */
  latencyMs?: number;
  /** Work time of slow commands (4A, 5A, 67, A4 45) before their F0 packet; default 30. */
  asyncLatencyMs?: number;
  /** Time the Z report spends in each of 3.2 and 7.1; default 600. */
  zReportStepMs?: number;
  /** Time the X report spends printing (2.2); default 500. */
  xReportMs?: number;
  /** Documents count as sent to the OFD this long after they are made; default never (see `drainOfd`). */
  ofdAutoDrainMs?: number;
  /** False keeps the state in memory only (benchmarks); default true. */
  persist?: boolean;
  faults?: Partial<FaultSettings>;
  /** Printouts kept in `device.printouts`; default 50. */
  printoutHistory?: number;
  /**
   * The firmware's `EB` tax bytes per rate, over the emulator's defaults (`EMULATOR_TAX_BYTES`); 0 makes
   * a rate unknown to the firmware.
   */
  taxBytes?: Partial<Record<TaxType, number>>;
  /** FFD version code the register works to at first start: 2 = 1.05, 4 = 1.2 (default). */
  ffdVersion?: 2 | 4;
}

export interface CommandEvent extends CommandRecord {}

export interface FaultEvent {
  name: FaultName;
  detail: string;
}

export interface AtolEmulatorEvents {
  /** A command was answered (sync reply or F0 packet written). */
  command: [event: CommandEvent];
  /** A fiscal document was made (before its command is answered). */
  document: [entry: JournalEntry];
  printed: [printout: Printout];
  connection: [info: ConnectionInfo];
  disconnect: [info: DisconnectInfo];
  /** A one-shot link fault fired. */
  fault: [event: FaultEvent];
  /** Something went wrong inside the emulator (a state write failed, a handler bug); it kept running. */
  warning: [error: Error];
}

export const DEFAULT_EMULATOR_PORT = 5555;

interface EmulatorRun extends TaskRun {
  execution: Execution;
}

const DAY_MS = 24 * 3600 * 1000;

const startsWith = (body: Buffer, code: string) => {
  const bytes = parseCommandCode(code);
  return body.length >= bytes.length && body.subarray(0, bytes.length).equals(bytes);
};

function defaultIdentity(model: EmulatedModel, clock: Clock, options: IdentityOptions): RegisterIdentity {
  // Registered a month ago; an FN is valid for three years from then.
  const registeredAtMs = clock.now() - 30 * DAY_MS;
  const registeredAt = new Date(registeredAtMs);
  return {
    modelCode: model.code,
    modelName: model.name,
    lineWidth: model.lineWidth,
    serial: options.serial ?? `00${String(model.code).padStart(3, '0')}000000001`,
    fnSerial: options.fnSerial ?? '7281440500001234',
    registrationNumber: options.registrationNumber ?? '0001234567012345',
    inn: options.inn ?? '500100732259',
    taxationSystems: options.taxationSystems ?? 0x03,
    firmware: options.firmware ?? { major: 5, minor: 8, build: 1234 },
    fnVersion: 'fn v.2.13 emul',
    organizationName: options.organizationName ?? 'ООО "ЭМУЛЯТОР"',
    address: options.address ?? 'г. Москва, ул. Тестовая, д. 1',
    registeredAtMs,
    fnValidUntil: {
      year: registeredAt.getUTCFullYear() + 3,
      month: registeredAt.getUTCMonth() + 1,
      day: Math.min(registeredAt.getUTCDate(), 28),
    },
    ffdVersion: options.ffdVersion ?? 4,
  };
}

function checkedIdentity(identity: RegisterIdentity): RegisterIdentity {
  const parsed = identitySchema.safeParse(identity);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new EmulatorConfigError(`identity.${issue.path.join('.')}`, issue.message);
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const chosen = value ?? fallback;
  if (!Number.isFinite(chosen) || chosen < 0)
    throw new EmulatorConfigError(name, `must be a non-negative number, got ${value}`);
  return chosen;
}

/**
 * A faithful ATOL register (platform 2.5, protocol v3) on a TCP port: the same framing, task buffer,
 * command codecs and error codes as a real one, with a fiscal storage that signs documents
 * deterministically, a printer that renders text, faults on demand and state that survives restarts.
 */
export class AtolEmulator extends EventEmitter<AtolEmulatorEvents> {
  readonly device: DeviceView;
  readonly host: string;
  port = 0;
  private readonly faults: FaultSettings;
  private readonly latencyMs: number;
  private readonly asyncLatencyMs: number;
  private readonly buffer: TaskBufferServer<EmulatorRun>;
  private readonly server: LinkServer<EmulatorRun>;
  private closed = false;

  private constructor(
    private readonly core: AtolDevice,
    private readonly store: DeviceStore,
    options: AtolEmulatorOptions,
  ) {
    super();
    this.device = new DeviceView(core);
    this.host = options.host ?? '127.0.0.1';
    this.latencyMs = nonNegative('latencyMs', options.latencyMs, 0);
    this.asyncLatencyMs = nonNegative('asyncLatencyMs', options.asyncLatencyMs, 30);
    this.faults = { ...NO_FAULTS };
    this.buffer = new TaskBufferServer(this.runner());
    this.server = new LinkServer(
      this.buffer,
      () => this.takeFault('corruptNextFrame', 'corrupted an outgoing frame'),
      () => this.faults.silent,
    );
    this.server.on('connection', (info) => this.emit('connection', info));
    this.server.on('disconnect', (info) => this.emit('disconnect', info));
    core.on('document', (entry) => this.emit('document', entry));
    core.on('printed', (printout) => this.emit('printed', printout));
    core.on('changed', () => {
      this.store
        .saveState(() => JSON.stringify(core.state))
        .catch((error: Error) => this.emit('warning', error));
    });
  }

  static async start(options: AtolEmulatorOptions = {}): Promise<AtolEmulator> {
    const clock = options.clock ?? systemClock;
    const model = resolveModel(options.model);
    const persist = options.persist ?? true;
    const { store, loaded } = await DeviceStore.open({
      stateFile: options.stateFile,
      journalFile: options.journalFile,
      persist,
    });
    let emulator: AtolEmulator | undefined;
    try {
      const core = new AtolDevice({
        identity:
          loaded.state?.identity ??
          checkedIdentity(
            defaultIdentity(model, clock, { ffdVersion: options.ffdVersion, ...options.identity }),
          ),
        state: loaded.state,
        documents: loaded.documents,
        clock,
        timeZone: options.timeZone,
        zReportStepMs: nonNegative('zReportStepMs', options.zReportStepMs, 600),
        xReportMs: nonNegative('xReportMs', options.xReportMs, 500),
        ofdAutoDrainMs: options.ofdAutoDrainMs,
        printoutHistory: nonNegative('printoutHistory', options.printoutHistory, 50),
        vat: new EmulatorVatTable(options.taxBytes),
      });
      emulator = new AtolEmulator(core, store, options);
      // A fresh register writes its identity at once, so that a restart finds the same one.
      if (!loaded.state) await store.saveState(() => JSON.stringify(core.state));
      for (const [name, value] of Object.entries(options.faults ?? {}) as Array<
        [FaultName, FaultSettings[FaultName]]
      >) {
        emulator.setFault(name, value);
      }
      emulator.port = await emulator.server.listen(emulator.host, options.port ?? DEFAULT_EMULATOR_PORT);
      return emulator;
    } catch (error) {
      if (emulator) await emulator.close().catch(() => undefined);
      else await store.close().catch(() => undefined);
      throw error;
    }
  }

  /** Current fault settings (one-shot faults read back as cleared once they fired). */
  get activeFaults(): FaultSettings {
    return { ...this.faults };
  }

  get stats(): LinkServerStats {
    return { ...this.server.stats };
  }

  get connected(): boolean {
    return this.server.connected;
  }

  /** Sets a fault; without a value, its default (on, 1000 ms, command 4A, after 1 command). */
  setFault<K extends FaultName>(name: K, value?: FaultSettings[K]): void {
    if (!(name in FAULT_DEFAULTS)) throw new EmulatorConfigError('fault', `unknown fault "${String(name)}"`);
    const chosen = (value ?? FAULT_DEFAULTS[name]) as FaultSettings[K];
    if ((name === 'dropOnCommand' || name === 'executeThenDrop' || name === 'executeThenFail') && chosen)
      parseCommandCode(chosen as string);
    if (name === 'shiftExpired') {
      if (chosen) this.core.expireShift();
      return;
    }
    if (name === 'deafConnection') {
      if (chosen && this.server.deafenCurrent())
        this.emit('fault', { name, detail: 'the connection stopped answering and stays open' });
      return;
    }
    this.faults[name] = chosen;
    this.syncDeviceFaults();
  }

  clearFaults(): void {
    Object.assign(this.faults, NO_FAULTS);
    this.syncDeviceFaults();
  }

  /** Moves the register's clock (and only its clock) forward: shift and OFD deadlines follow. */
  advanceClock(ms: number): void {
    this.core.advanceClock(ms);
  }

  /** The OFD has received every document: the unsent count drops to 0. */
  drainOfd(): void {
    this.core.drainOfd();
  }

  /**
   * Runs one command body (code and params, no access password) in this process, as a host on the link
   * would: for hosts that live inside the emulator, such as the driver-10 web facade (`web/`). The
   * register's work time and the `slowMs` fault apply; link faults do not, as there is no link.
   */
  async executeCommand(body: Buffer): Promise<{ answer: Buffer; documents: JournalEntry[] }> {
    if (this.closed) throw new KktAgentError('EMULATOR_CLOSED', 'The ATOL emulator is closed.');
    const execution = this.core.execute(body);
    if (execution.internalError) this.emit('warning', execution.internalError);
    try {
      await this.store.commit(execution.documents, execution.stateJson);
    } catch (error) {
      this.emit('warning', error instanceof Error ? error : new Error(errorMessage(error)));
    }
    const delayMs = (execution.slow ? this.asyncLatencyMs : this.latencyMs) + this.faults.slowMs;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    this.emit('command', { ...execution.record });
    return { answer: execution.answer, documents: execution.documents.map((made) => made.journal) };
  }

  /** Drops the host's connection now, as an unplugged cable would. */
  dropConnection(): void {
    this.server.drop('dropped by the emulator');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.core.stop();
    this.buffer.close();
    await this.server.close();
    await this.store.close();
  }

  private syncDeviceFaults(): void {
    const { noPaper, coverOpen, fnFull, ofdBacklog, refuseTaxCode } = this.faults;
    Object.assign(this.core.faults, { noPaper, coverOpen, fnFull, ofdBacklog, refuseTaxCode });
  }

  /** Fires a one-shot boolean fault: true once, and the fault is cleared. */
  private takeFault(name: 'corruptNextFrame', detail: string): boolean {
    if (!this.faults[name]) return false;
    this.faults[name] = false;
    this.emit('fault', { name, detail });
    return true;
  }

  private runner(): TaskRunner<EmulatorRun> {
    return {
      admit: (body) => {
        const code = this.faults.dropOnCommand;
        if (!code || !startsWith(body, code)) return 'run';
        this.faults.dropOnCommand = '';
        this.emit('fault', {
          name: 'dropOnCommand',
          detail: `dropped the connection on ${code} without running it`,
        });
        return 'drop';
      },
      isSlow: (body) => {
        const spec = findCommand(body);
        return spec !== undefined && SLOW_COMMANDS.has(spec.code.toString('hex'));
      },
      run: async (body) => {
        const execution = this.core.execute(body);
        if (execution.internalError) this.emit('warning', execution.internalError);
        try {
          await this.store.commit(execution.documents, execution.stateJson);
        } catch (error) {
          this.emit('warning', error instanceof Error ? error : new Error(errorMessage(error)));
        }
        const run: EmulatorRun = {
          answer: execution.answer,
          failed: execution.failed,
          slow: execution.slow,
          execution,
        };
        const failing = this.faults.executeThenFail;
        if (failing && startsWith(body, failing)) {
          this.faults.executeThenFail = '';
          const spec = findCommand(body);
          if (spec) {
            run.answer = encodeAnswer(spec, { errorCode: NO_PAPER });
            run.failed = true;
          }
          this.emit('fault', {
            name: 'executeThenFail',
            detail: `ran ${failing}, then answered 67 (no paper)`,
          });
        }
        const code = this.faults.executeThenDrop;
        if (code && startsWith(body, code)) {
          this.faults.executeThenDrop = '';
          run.dropInsteadOfAnswer = true;
          this.emit('fault', {
            name: 'executeThenDrop',
            detail: `ran ${code}, then dropped the connection before answering`,
          });
        }
        return run;
      },
      answerDelayMs: (run) => (run.slow ? this.asyncLatencyMs : this.latencyMs) + this.faults.slowMs,
      answered: (run) => {
        this.emit('command', { ...run.execution.record });
        if (this.faults.dropAfterCommands > 0 && --this.faults.dropAfterCommands === 0) {
          this.emit('fault', {
            name: 'dropAfterCommands',
            detail: `dropped the connection after ${run.execution.record.code}`,
          });
          this.server.hangUp('fault: drop after N commands');
        }
      },
    };
  }
}

/** The error `executeThenFail` answers: the paper ran out while the document printed. */
const NO_PAPER = 0x67;

export function startAtolEmulator(options: AtolEmulatorOptions = {}): Promise<AtolEmulator> {
  return AtolEmulator.start(options);
}
