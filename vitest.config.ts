import {availableParallelism} from 'node:os'
import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    // test-integration/ runs here against the in-process fakes; `npm run test:integration` runs it alone (SECRETSYNC_IT=compose for docker-compose).
    include: ['test/**/*.test.ts', 'test-integration/**/*.test.ts'],
    // The in-process CLI runner (test/support/cli-in-process.ts) captures stdout itself; vitest must not intercept the console under it.
    disableConsoleIntercept: true,
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Forks, not threads: the in-process CLI runner swaps process.env, the working directory and process.exitCode,
    // which are per process. One file per worker at a time, tests within a file in order.
    pool: 'forks',
    // vitest's default is one worker fewer than the cores (one worker on a 2-core machine); the test files wait on
    // their own in-process servers, so every core gets a worker.
    maxWorkers: Math.max(2, availableParallelism()),
    env: {AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true'},
    // `npm run coverage` (vitest run --coverage) enforces the threshold; `npm test` does not collect coverage. The
    // in-process CLI runs commands/ and src/ through vitest's module graph, so its stories count; what runs only
    // in real subprocesses (dist/) does not.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts', 'commands/**/*.ts'],
      reporter: ['text', 'text-summary', 'html'],
      thresholds: {lines: 80},
    },
  },
})
