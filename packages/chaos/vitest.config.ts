import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The quick run starts a real cluster: one file at a time keeps the machine usable.
    fileParallelism: false,
    testTimeout: 60_000,
  },
});
