import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test-integration/**/*.test.ts'],
    disableConsoleIntercept: true,
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    env: {AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true'},
  },
})
