import {
  type CommandSpec,
  decodeAnswer,
  encodeRequest,
  Register,
  readRegister,
  registerValue,
} from '../../../drivers/atol/commands/index.js';
import { enterMode, exitMode, Mode } from '../../../drivers/atol/commands/modes.js';
import { EXTENDED_ERROR_CODE } from '../../../drivers/atol/protocol/deviceErrors.js';
import {
  DRIVER_CODE_BY_EXTENDED_CODE,
  DRIVER_CODE_BY_PROTOCOL_CODE,
  DriverError,
  describeDriverError,
} from '../../../drivers/atol/web/driverErrors.js';
import type { DeviceView } from '../deviceView.js';
import type { AtolEmulator } from '../emulator.js';
import type { JournalEntry } from '../journalEntry.js';

/** A task failed: what the web server reports in `results[].error`. */
export class TaskFailure extends Error {
  constructor(
    readonly code: number,
    readonly description: string = describeDriverError(code),
  ) {
    super(`driver error ${code}: ${description}`);
  }
}

const NO_PAPER = 0x67;

/**
 * The web facade's way into the emulated register: commands through the emulator's in-process path
 * (the same codecs, handlers, faults and persistence as a host on the link), refusals turned into
 * driver-10 error codes with the protocol → driver mapping (docs/atol-backends.md, driver errors), and the documents each
 * command made.
 */
export class RegisterPort {
  /** Fiscal documents made since the last `takeDocuments`. */
  private made: JournalEntry[] = [];

  constructor(
    readonly emulator: AtolEmulator,
    private readonly passwords: { operator: number; admin: number },
  ) {}

  get view(): DeviceView {
    return this.emulator.device;
  }

  takeDocuments(): JournalEntry[] {
    const made = this.made;
    this.made = [];
    return made;
  }

  async run<P, R>(spec: CommandSpec<P, R>, params: P): Promise<R> {
    const { answer, documents } = await this.emulator.executeCommand(encodeRequest(spec, params));
    this.made.push(...documents);
    const decoded = decodeAnswer(spec as CommandSpec<unknown, R>, answer);
    if (decoded.errorCode === 0) return decoded.result as R;
    throw await this.failure(decoded.errorCode);
  }

  /** Runs a command and swallows a refusal (cleanup after a failure). */
  async tryRun<P>(spec: CommandSpec<P, unknown>, params: P): Promise<void> {
    try {
      await this.run(spec, params);
    } catch (error) {
      if (!(error instanceof TaskFailure)) throw error;
    }
  }

  private async failure(errorCode: number): Promise<TaskFailure> {
    if (errorCode === EXTENDED_ERROR_CODE) {
      const { answer } = await this.emulator.executeCommand(
        encodeRequest(readRegister, { register: Register.ExtendedError, p1: 0, p2: 0 }),
      );
      const decoded = decodeAnswer(readRegister, answer);
      const extended = decoded.result ? registerValue.extendedError.decode(decoded.result).errorCode : 0;
      const code = DRIVER_CODE_BY_EXTENDED_CODE.get(extended);
      return code === undefined
        ? new TaskFailure(
            DriverError.INVALID_PARAM,
            `Ошибка ККТ 0xEE/0x${extended.toString(16).padStart(4, '0')}`,
          )
        : new TaskFailure(code);
    }
    // The register answers 67 for an open cover too; the driver reads the status and says which.
    if (errorCode === NO_PAPER && this.emulator.activeFaults.coverOpen)
      return new TaskFailure(DriverError.COVER_OPENED);
    const code = DRIVER_CODE_BY_PROTOCOL_CODE.get(errorCode);
    return code === undefined
      ? new TaskFailure(DriverError.INVALID_PARAM, `Ошибка ККТ 0x${errorCode.toString(16).padStart(2, '0')}`)
      : new TaskFailure(code);
  }

  /** Enters a mode, leaving the current one first (the register refuses `56` outside mode 0). */
  async enterMode(mode: number): Promise<void> {
    const current = this.view.mode;
    if (current.mode === mode) return;
    if (current.mode !== Mode.Idle) await this.run(exitMode, undefined);
    const password = mode === Mode.ReportClear ? this.passwords.admin : this.passwords.operator;
    await this.run(enterMode, { mode, password });
  }

  /** Waits while the register walks a report's states (it answers only reads meanwhile). */
  async waitWhileIn(states: ReadonlyArray<readonly [number, number]>, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { mode, submode } = this.view.mode;
      if (!states.some(([m, s]) => m === mode && s === submode)) return;
      if (Date.now() > deadline) throw new TaskFailure(DriverError.BUSY);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
