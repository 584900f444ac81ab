/**
 * Runs `poll` now and then again `nextDelayMs()` after each run ends, never two at once, until stopped.
 * Errors go to `onError` and the loop goes on: a cloud that is down today is polled again tomorrow.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly poll: () => Promise<unknown>,
    private readonly nextDelayMs: () => number,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(firstDelayMs = 0): void {
    this.running = true;
    this.schedule(firstDelayMs);
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.poll()
        .catch(this.onError)
        .finally(() => this.schedule(this.nextDelayMs()));
    }, delayMs);
    // The agent's servers keep the process alive; a pending poll must not.
    this.timer.unref();
  }
}
