import {
  type CommandSpec,
  decodeAnswer,
  encodeRequest,
  Register,
  readRegister,
  registerValue,
} from '../../src/drivers/atol/commands/index.js';
import type { Link } from '../../src/drivers/atol/transport/link.js';
import { TcpLink } from '../../src/drivers/atol/transport/tcpLink.js';
import { AtolTransport, type AtolTransportOptions } from '../../src/drivers/atol/transport/transport.js';

/** The host side for end-to-end tests: the driver's real transport and the command specs, no Kkt facade. */
export interface TestHost {
  transport: AtolTransport;
  /** Runs a command; resolves with its error code and decoded result (never throws on a device error). */
  run<P, R>(spec: CommandSpec<P, R>, params: P): Promise<{ errorCode: number; result?: R }>;
  /** Runs a command that must succeed and returns its result. */
  ok<P, R>(spec: CommandSpec<P, R>, params: P): Promise<R>;
  /** The extended error code of register 0x37 (after an `EE`). */
  extendedError(): Promise<number>;
  close(): Promise<void>;
}

export const FAST_TRANSPORT: Partial<AtolTransportOptions> = { replyTimeoutMs: 300, pollIntervalMs: 100 };

export async function openHost(
  link: Link,
  options: Partial<AtolTransportOptions> = FAST_TRANSPORT,
): Promise<TestHost> {
  const transport = new AtolTransport(link, options);
  await transport.open();
  const host: TestHost = {
    transport,
    async run(spec, params) {
      const outcome = await transport.execute(encodeRequest(spec, params), 10_000);
      return decodeAnswer(spec, outcome.answer ?? Buffer.alloc(0));
    },
    async ok(spec, params) {
      const { errorCode, result } = await host.run(spec, params);
      if (errorCode !== 0) throw new Error(`${spec.name} failed with 0x${errorCode.toString(16)}`);
      return result as never;
    },
    async extendedError() {
      const raw = await host.ok(readRegister, { register: Register.ExtendedError, p1: 0, p2: 0 });
      return registerValue.extendedError.decode(raw).errorCode;
    },
    close: () => transport.close(),
  };
  return host;
}

export function connectTcp(port: number, options?: Partial<AtolTransportOptions>): Promise<TestHost> {
  return openHost(new TcpLink({ host: '127.0.0.1', port }), options);
}
