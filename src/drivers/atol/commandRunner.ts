import { type CommandSpec, codeHex, decodeAnswer, encodeRequest } from './commands/command.js';
import { findCommand } from './commands/index.js';
import { Register, readRegister, registerValue } from './commands/registers.js';
import { EXTENDED_ERROR_CODE, KktDeviceError } from './protocol/deviceErrors.js';
import { DeferredTaskError, MalformedAnswerError } from './transport/errors.js';
import type { AtolTransport, TaskOutcome } from './transport/transport.js';

export interface CommandEvent {
  name: string;
  durationMs: number;
  errorCode: number;
}

/**
 * Runs command specs over a transport: applies per-command timeouts, turns error bytes into typed
 * `KktDeviceError`s, and fetches the extended code from register 0x37 when the register says `EE`.
 * `run` waits for the command's answer; `post` sends a command whose answer nobody reads (its failure
 * surfaces at the next `run`, docs/protocol/atol-v3.md §3.3).
 */
export class CommandRunner {
  constructor(
    private readonly transport: AtolTransport,
    /** Overrides of the §2.4 timeouts, keyed by command code in hex (`"4A"`, `"A4 30"`). */
    private readonly timeoutsMs: Readonly<Record<string, number>> = {},
    private readonly onCommand?: (event: CommandEvent) => void,
  ) {}

  timeoutFor(spec: CommandSpec<never, unknown>): number {
    return this.timeoutsMs[codeHex(spec.code)] ?? spec.timeoutMs;
  }

  async run<P, R>(spec: CommandSpec<P, R>, params: P): Promise<R> {
    const started = Date.now();
    const outcome = await this.transport
      .execute(encodeRequest(spec, params), this.timeoutFor(spec as CommandSpec<never, unknown>))
      .catch((error: unknown) => this.rethrowDeferred(error));
    return this.interpret(spec, outcome, started);
  }

  /** Adds a command without a kept result and returns once the register took it. */
  async post<P>(spec: CommandSpec<P, unknown>, params: P): Promise<void> {
    const started = Date.now();
    const outcome = await this.transport
      .execute(encodeRequest(spec, params), this.timeoutFor(spec as CommandSpec<never, unknown>), 'post')
      .catch((error: unknown) => this.rethrowDeferred(error));
    if (outcome.answer === undefined || outcome.answer.length === 0) {
      this.onCommand?.({ name: spec.name, durationMs: Date.now() - started, errorCode: 0 });
      return;
    }
    await this.interpret(spec, outcome, started);
  }

  /** Clears the results the register keeps for this operation (one Abort at its end). */
  release(): Promise<void> {
    return this.transport.release();
  }

  private async interpret<P, R>(spec: CommandSpec<P, R>, outcome: TaskOutcome, started: number): Promise<R> {
    if (outcome.answer === undefined) throw new MalformedAnswerError(`${spec.name} answered nothing`, true);
    const decoded = decodeAnswer(spec, outcome.answer);
    this.onCommand?.({ name: spec.name, durationMs: Date.now() - started, errorCode: decoded.errorCode });
    if (decoded.errorCode === 0) return decoded.result as R;
    throw await this.deviceError(spec.name, decoded.errorCode);
  }

  /** A posted command failed earlier: report its own error, decoded with its own spec. */
  private async rethrowDeferred(error: unknown): Promise<never> {
    if (!(error instanceof DeferredTaskError)) throw error;
    const spec = findCommand(error.body);
    if (!spec) throw new MalformedAnswerError(`an unknown command failed (${error.details.command})`, false);
    const decoded = decodeAnswer(spec, error.answer);
    this.onCommand?.({ name: spec.name, durationMs: 0, errorCode: decoded.errorCode });
    throw await this.deviceError(spec.name, decoded.errorCode || 0xff);
  }

  private async deviceError(command: string, errorCode: number): Promise<KktDeviceError> {
    if (errorCode !== EXTENDED_ERROR_CODE) return new KktDeviceError(errorCode, command);
    return new KktDeviceError(errorCode, command, await this.readExtendedError());
  }

  private async readExtendedError(): Promise<number | undefined> {
    try {
      const raw = await this.run(readRegister, { register: Register.ExtendedError, p1: 0, p2: 0 });
      return registerValue.extendedError.decode(raw).errorCode;
    } catch {
      return undefined;
    }
  }
}
