import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    // test-integration/ runs here against the in-process fakes; `npm run test:integration` runs it alone (SECRETSYNC_IT=compose for docker-compose).
    include: ['test/**/*.test.ts', 'test-integration/**/*.test.ts'],
    // oclif's runCommand captures stdout itself; vitest must not intercept the console under it.
    disableConsoleIntercept: true,
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: {AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true'},
  },
})
