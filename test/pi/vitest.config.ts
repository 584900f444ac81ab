import { defineConfig } from 'vitest/config';

// npm run test:pi (scripts/test-pi.sh): the release package under qemu. Not part of `npm test`, whose
// include pattern (*.test.ts) does not match these files.
export default defineConfig({
  test: {
    include: ['test/pi/**/*.pi.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
