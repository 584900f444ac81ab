import type { Frame } from '../../src/drivers/atol/transport/frame.js';
import { MockLink, type MockReply } from '../../src/drivers/atol/transport/mockLink.js';
import { TaskCommand, TaskState } from '../../src/drivers/atol/transport/taskBuffer.js';

/**
 * The answer a scripted register gives to a command body (code + params, no password), as wire bytes
 * (`55 00 …`), or a list of answers handed out one per call of the same command.
 */
export type ScriptedAnswers = Record<string, Buffer | Buffer[]>;

/**
 * A register that answers from a script of raw bytes (on the transport room's MockLink), so that the
 * driver can be tested against bytes taken from other implementations rather than from our own encoder. Every task completes at once
 * (`A3` + answer; an answer that does not start with `55 00` is reported as `A4`); Abort answers `A3`.
 * Commands are looked up by their hex code, two-byte codes (`a445`) before one-byte ones (`91`), and
 * register reads by `91` + register (`9136`).
 */
export class ScriptedRegister extends MockLink {
  /** Every command body the host sent, in hex. */
  readonly commands: string[] = [];
  private readonly served = new Map<string, number>();

  constructor(
    private readonly answers: ScriptedAnswers,
    /** The answer to commands the script does not name; `55 7A` (not supported) by default. */
    private readonly fallback: Buffer = Buffer.of(0x55, 0x7a),
  ) {
    super(undefined, 'scripted register');
    this.script = (frame) => this.answer(frame);
  }

  private answer(frame: Frame): MockReply {
    if (frame.data[0] !== TaskCommand.Add) return Buffer.of(TaskState.Result);
    const body = frame.data.subarray(5);
    const hex = body.toString('hex');
    this.commands.push(hex);
    const key = [hex.slice(0, 4), hex.slice(0, 2)].find((k) => k in this.answers);
    const scripted = key === undefined ? undefined : this.answers[key];
    let answer: Buffer;
    if (Array.isArray(scripted)) {
      const index = this.served.get(key!) ?? 0;
      this.served.set(key!, index + 1);
      answer = scripted[index] ?? Buffer.of(0x55, 0xda);
    } else {
      answer = scripted ?? this.fallback;
    }
    const ok = answer[0] !== 0x55 || answer[1] === 0;
    return Buffer.concat([Buffer.of(ok ? TaskState.Result : TaskState.Error), answer]);
  }
}
