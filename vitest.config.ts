import { defineConfig } from 'vitest/config';

// Two suites: `unit` (pure core and in-process transport, no servers) and
// `integration` (real Kafka, schema registry and ClickHouse started by
// scripts/stack/start.sh). Integration files run one at a time: they share
// one broker and one ClickHouse server on a 2-core machine.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
