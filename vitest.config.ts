import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // End-to-end tests spawn real processes and bind loopback ports; two cores are plenty for a few forks.
    pool: 'forks',
    maxWorkers: 3,
  },
});
