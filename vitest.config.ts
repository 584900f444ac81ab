import { defineConfig } from 'vitest/config';

/** Tests that start processes, sockets, PTYs or brokers are named `*.e2e.test.ts`; every other test is a unit test. */
const E2E = '**/*.e2e.test.ts';

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // End-to-end tests spawn real processes and bind loopback ports; two cores are plenty for a few forks.
    pool: 'forks',
    maxWorkers: 3,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [E2E],
          // A unit test that opens a socket or starts a process fails, naming the tier it belongs to.
          setupFiles: ['test/support/unitTier.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'e2e', include: [`src/${E2E}`, `test/${E2E}`] },
      },
    ],
  },
});
