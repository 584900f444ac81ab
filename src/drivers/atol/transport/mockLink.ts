import { encodeFrame, type Frame } from './frame.js';
import { FrameDecoder } from './frameDecoder.js';
import { Link } from './link.js';

/** What the scripted register sends back for one packet from the host. */
export type MockReply =
  /** These bytes as the packet's data, framed with the packet's own id. */
  | Buffer
  /** These frames, in order: a reply to another packet id, or several packets. */
  | Frame[]
  /** These bytes as they stand: line noise, a frame with a bad CRC. */
  | { raw: Buffer[] }
  /** No reply at all. */
  | 'silence'
  /** The register goes away: the link closes with an error, as an unplugged USB register does. */
  | 'unplug';

export type MockScript = (frame: Frame) => MockReply;

/**
 * An in-memory link whose register is a script, for tests of everything above the link (transport,
 * command runner, `Kkt`): the script sees each packet the host sends, decoded, and decides the reply,
 * which arrives asynchronously as it would from a port. No PTY, socket or emulator is involved.
 */
export class MockLink extends Link {
  /** Every packet the host sent, decoded, in order. */
  readonly sent: Frame[] = [];
  private opened = false;
  private readonly decoder = new FrameDecoder();

  constructor(
    /** Replaceable between commands: a test can change what the register does next. */
    public script: MockScript = () => 'silence',
    readonly description = 'mock register',
  ) {
    super();
    this.decoder.on('data', (frame: Frame) => {
      this.sent.push(frame);
      this.reply(frame, this.script(frame));
    });
  }

  /** Delivers bytes from the register now, outside any reply: a frame it sends unasked, or a damaged one. */
  inject(bytes: Buffer): void {
    this.received(bytes);
  }

  get isOpen(): boolean {
    return this.opened;
  }

  async open(): Promise<void> {
    this.opened = true;
  }

  async close(): Promise<void> {
    this.opened = false;
    this.emit('close');
  }

  protected async writeBytes(data: Buffer): Promise<void> {
    this.decoder.write(data);
  }

  private reply(frame: Frame, reply: MockReply): void {
    if (reply === 'silence') return;
    setImmediate(() => {
      if (reply === 'unplug') {
        this.opened = false;
        this.emit('close', new Error('unplugged'));
      } else if (Buffer.isBuffer(reply)) {
        this.received(encodeFrame({ id: frame.id, data: reply }));
      } else if (Array.isArray(reply)) {
        for (const next of reply) this.received(encodeFrame(next));
      } else {
        for (const bytes of reply.raw) this.received(bytes);
      }
    });
  }
}
