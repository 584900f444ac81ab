import { test } from 'vitest';
import type { MoyskladAccountInput } from '../../src/agent/connectors/moysklad/config.js';
import { type MockMoysklad, type MockOptions, startMockMoysklad } from './mockServer.js';
import { type Harness, openHarness, type ShiftRegister, tempDir, testAccount } from './support.js';

/**
 * `it` for the MoySklad end-to-end tests (*.e2e.test.ts): each test gets its own mock MoySklad and temporary
 * directory, and whatever it opens is stopped, closed and removed after it, pass or fail. Vitest-only, so
 * it lives here and not in support.ts, which the benchmarks import outside vitest.
 */
export interface MoyskladE2e {
  /** How `mock` starts; `it.override({ mockOptions })` inside a describe changes it for that describe. */
  mockOptions: MockOptions;
  /** A mock MoySklad on loopback. */
  mock: MockMoysklad;
  /** A fresh temporary directory. */
  dir: string;
  /**
   * Opens a real Agent (data in `dir/data`) with the register and a MoySklad connector configured by
   * `testAccount(mock, credentials, extra)`. The last one opened is stopped after the test.
   */
  open: (
    credentials: string,
    extra?: Partial<MoyskladAccountInput>,
    device?: ShiftRegister,
  ) => Promise<Harness>;
}

export const it = test.extend<MoyskladE2e>({
  mockOptions: {},
  mock: async ({ mockOptions }, use) => {
    const mock = await startMockMoysklad(mockOptions);
    await use(mock);
    await mock.close();
  },
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern.
  dir: async ({}, use) => {
    const dir = await tempDir();
    await use(dir.path);
    await dir.remove();
  },
  open: async ({ mock, dir }, use) => {
    let harness: Harness | undefined;
    await use(async (credentials, extra, device) => {
      harness = await openHarness(`${dir}/data`, testAccount(mock, credentials, extra), device);
      return harness;
    });
    await harness?.stop();
  },
});
