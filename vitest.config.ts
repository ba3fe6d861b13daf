import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/fast-check.ts'],
    coverage: {
      provider: 'v8',
      include: ['functions/domain/**/*.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { 'functions/domain/**': { lines: 95 } },
    },
  },
});
