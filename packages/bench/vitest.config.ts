import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One run of the benchmark with tiny sizes: real processes on a shared machine.
    testTimeout: 300_000,
  },
});
