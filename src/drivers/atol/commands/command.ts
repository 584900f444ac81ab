import { MalformedAnswerError } from '../transport/errors.js';

/**
 * How a command's answer is laid out. Most answers are `55 ERR data…`; `45` and `3F` have an answer
 * code and no error byte; `A5` starts with the error byte and has no `55` (docs/protocol/atol-v3.md §4).
 */
export type AnswerLayout = 'generic' | 'no-error-byte' | 'error-first';

export const ANSWER_CODE = 0x55;

/**
 * One command of protocol 3.1, defined once for both sides: the driver encodes params and decodes the
 * result, the emulator decodes params and encodes the result. Keeping both directions in one place is
 * what keeps driver and emulator agreeing on every byte.
 */
export interface CommandSpec<Params, Result> {
  /** A name for logs and errors, e.g. `openReceipt (92)`. */
  readonly name: string;
  /** The command code: one byte, or two for families such as `A4 30`. */
  readonly code: Buffer;
  /** Default time the command may take on the device (docs/protocol/atol-v3.md §4); overridable per device. */
  readonly timeoutMs: number;
  readonly layout: AnswerLayout;
  /** The answer code byte for `no-error-byte` answers (`55` for `45`, `44` for `3F`). */
  readonly answerCode?: number;
  encodeParams(params: Params): Buffer;
  decodeParams(bytes: Buffer): Params;
  encodeResult(result: Result): Buffer;
  decodeResult(bytes: Buffer): Result;
}

export const codeHex = (code: Buffer): string =>
  code
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?=.)/g, '$1 ');

export function defineCommand<Params, Result>(
  spec: Omit<CommandSpec<Params, Result>, 'name'> & { name: string },
): CommandSpec<Params, Result> {
  return { ...spec, name: `${spec.name} (${codeHex(spec.code)})` };
}

export const noBytes = {
  encode: (): Buffer => Buffer.alloc(0),
  decode: (): undefined => undefined,
};

export function encodeRequest<P>(spec: CommandSpec<P, unknown>, params: P): Buffer {
  return Buffer.concat([spec.code, spec.encodeParams(params)]);
}

export interface DecodedAnswer<R> {
  /** 0 when the device reports success. */
  errorCode: number;
  result?: R;
}

/** Splits an answer into error code and result, rejecting answers too short to be real. */
export function decodeAnswer<R>(spec: CommandSpec<unknown, R>, answer: Buffer): DecodedAnswer<R> {
  const parse = (bytes: Buffer): R => {
    try {
      return spec.decodeResult(bytes);
    } catch (error) {
      throw new MalformedAnswerError(`${spec.name}: ${(error as Error).message}`, false);
    }
  };
  switch (spec.layout) {
    case 'generic': {
      if (answer.length < 2 || answer[0] !== ANSWER_CODE) {
        throw new MalformedAnswerError(`${spec.name} answered ${answer.toString('hex') || 'nothing'}`, false);
      }
      const errorCode = answer[1]!;
      return errorCode === 0 ? { errorCode, result: parse(answer.subarray(2)) } : { errorCode };
    }
    case 'no-error-byte':
      if (answer.length < 1) throw new MalformedAnswerError(`${spec.name} answered nothing`, false);
      return { errorCode: 0, result: parse(answer.subarray(1)) };
    case 'error-first': {
      if (answer.length < 1) throw new MalformedAnswerError(`${spec.name} answered nothing`, false);
      const errorCode = answer[0]!;
      return errorCode === 0 ? { errorCode, result: parse(answer.subarray(1)) } : { errorCode };
    }
  }
}

/** The emulator's side: builds the answer bytes for a result or an error code. */
export function encodeAnswer<R>(
  spec: CommandSpec<unknown, R>,
  outcome: { errorCode: number; result?: R },
): Buffer {
  const data =
    outcome.errorCode === 0 && outcome.result !== undefined
      ? spec.encodeResult(outcome.result)
      : Buffer.alloc(0);
  switch (spec.layout) {
    case 'generic':
      return Buffer.concat([Buffer.of(ANSWER_CODE, outcome.errorCode), data]);
    case 'no-error-byte':
      return Buffer.concat([Buffer.of(spec.answerCode ?? ANSWER_CODE), data]);
    case 'error-first':
      return Buffer.concat([Buffer.of(outcome.errorCode), data]);
  }
}

/** A reader that fails with a clear message instead of reading past the end of an answer. */
export class ByteReader {
  private at = 0;
  constructor(
    private readonly bytes: Buffer,
    private readonly what: string,
  ) {}

  take(length: number): Buffer {
    if (this.at + length > this.bytes.length) {
      throw new RangeError(`${this.what}: needs ${this.at + length} bytes, got ${this.bytes.length}`);
    }
    const slice = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return slice;
  }

  byte(): number {
    return this.take(1)[0]!;
  }

  rest(): Buffer {
    const slice = this.bytes.subarray(this.at);
    this.at = this.bytes.length;
    return slice;
  }

  get remaining(): number {
    return this.bytes.length - this.at;
  }
}
