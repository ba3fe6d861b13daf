import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    setupFiles: ['test/setup/fast-check.ts'],
    // Tests assert outcomes, not speed: a CDK synth or a sandbox run on a loaded 2-core CI machine can take
    // many times its usual second, and vitest's 5 s default turned that into a red build. A hang still fails.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    coverage: {
      provider: 'v8',
      include: ['functions/domain/**/*.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { 'functions/domain/**': { lines: 95 } },
    },
  },
});
