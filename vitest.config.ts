import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
    // Validate the IR after every pass (lang/ir/pipeline.ts): a broken pass fails by name.
    env: { FPLC_DEBUG_PASSES: '1' },
  },
});
