import { describe, expect, it } from 'vitest';
import { Link, LinkClosedError } from './link.js';

/** A link whose writes never complete, as serialport leaves a write issued on a port that just closed. */
class StuckLink extends Link {
  readonly description = 'stuck://test';
  open = async () => undefined;
  close = async () => {
    this.emit('close');
  };
  get isOpen(): boolean {
    return true;
  }
  protected writeBytes(): Promise<void> {
    return new Promise(() => undefined);
  }
}

describe('Link.write', () => {
  it('settles when the link closes under a write that would never complete (issue 18.13)', async () => {
    const link = new StuckLink();
    const written = link.write(Buffer.of(1, 2, 3));
    await link.close();
    await expect(written).rejects.toBeInstanceOf(LinkClosedError);
    expect(link.listenerCount('close')).toBe(0);
  });
});
