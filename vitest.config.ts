import { defineConfig } from 'vitest/config';

/** CI runs (`CI=1`, set by .ci/run) never write a snapshot and refuse `.only`. */
const CI = !!process.env['CI'] && !['0', 'false'].includes(process.env['CI']!);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/engines.ts'],
    // Two test files at a time (vitest's default on 2 cores is one): the engine-bound files (Go CLIs, several
    // threads) overlap the CPU-light ones (one Node thread), measured in README.md's Development section.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    allowOnly: !CI,
    ...(CI ? { update: 'none' as const } : {}),
    // "Today" for the repository's own tests (test/helpers.ts TODAY): exceptions in policies.config.ts
    // expiring later must not fail the suite. Tests of the real clock unset it for the process they start.
    env: { KUBEHARDEN_TODAY: '2026-11-26' },
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
});
