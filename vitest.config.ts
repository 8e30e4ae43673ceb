import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/sim/**/*.test.ts'],
          // Vitest leaves a core to its main process (one worker on a 2-core CI machine), but the
          // main process idles here: a file's start-up (module import, transform) is most of the
          // project's time, and two workers took it from 121 s to 65-88 s on the shared machine.
          maxWorkers: availableParallelism(),
        },
      },
      {
        // Real etcd and MariaDB processes: one file at a time so labs never compete for the machine.
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/support/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
