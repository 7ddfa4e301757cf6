import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // End-to-end files start real processes: one file at a time keeps the machine usable.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
