import {defineConfig} from 'vitest/config'

// `npm run test:integration` (SECRETSYNC_IT=fakes|moto|compose); `npm run test:moto` also runs the AWS conformance
// tests that take an endpoint (test/conformance/endpoint.ts) against moto (SECRETSYNC_CONFORMANCE=moto).
const conformanceOnMoto = process.env.SECRETSYNC_CONFORMANCE === 'moto'
const onEitherEndpoint = [
  'aws-secrets-manager',
  'aws-secrets-manager-policies',
  'aws-s3',
  'aws-sts',
  'aws-identity-store',
  'aws-discovery-apis',
].map((name) => `test/conformance/${name}.test.ts`)

export default defineConfig({
  test: {
    include: ['test-integration/**/*.test.ts', ...(conformanceOnMoto ? onEitherEndpoint : [])],
    disableConsoleIntercept: true,
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    env: {AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true'},
  },
})
