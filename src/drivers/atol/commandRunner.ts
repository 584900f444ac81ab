import { type CommandSpec, codeHex, decodeAnswer, encodeRequest } from './commands/command.js';
import { Register, readRegister, registerValue } from './commands/registers.js';
import { EXTENDED_ERROR_CODE, KktDeviceError } from './protocol/deviceErrors.js';
import type { AtolTransport } from './transport/transport.js';

export interface CommandEvent {
  name: string;
  durationMs: number;
  errorCode: number;
}

/**
 * Runs command specs over a transport: applies per-command timeouts, turns error bytes into typed
 * `KktDeviceError`s, and fetches the extended code from register 0x37 when the register says `EE`.
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
    const outcome = await this.transport.execute(
      encodeRequest(spec, params),
      this.timeoutFor(spec as CommandSpec<never, unknown>),
    );
    const decoded = decodeAnswer(spec, outcome.answer);
    this.onCommand?.({ name: spec.name, durationMs: Date.now() - started, errorCode: decoded.errorCode });
    if (decoded.errorCode === 0) return decoded.result as R;
    if (decoded.errorCode === EXTENDED_ERROR_CODE) {
      const extended = await this.readExtendedError();
      throw new KktDeviceError(decoded.errorCode, spec.name, extended);
    }
    throw new KktDeviceError(decoded.errorCode, spec.name);
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
