/** A condition to wait for: falsy while not yet, the value to return once it holds. */
export type Probe<T> = () => T | undefined | false | Promise<T | undefined | false>;

/**
 * Waits for a condition with a deadline (never asserts on timing itself): asks `probe` again and again and
 * returns its first truthy answer, or throws `timed out waiting for <what>` after `timeoutMs`.
 */
export type Until = <T>(probe: Probe<T>, what: string, timeoutMs?: number) => Promise<T>;

/** An `until` with its own default deadline, asking every `intervalMs`. */
export function untilWith(defaults: { timeoutMs: number; intervalMs: number }): Until {
  return async (probe, what, timeoutMs = defaults.timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, defaults.intervalMs));
    }
  };
}

/** Up to 5 s by default, asking every 5 ms. */
export const until: Until = untilWith({ timeoutMs: 5000, intervalMs: 5 });
