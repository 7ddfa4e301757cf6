import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The scenario test starts a whole cluster: one file at a time keeps the machine usable.
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
