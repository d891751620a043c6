import type {AwsCredentialIdentity, AwsCredentialIdentityProvider} from '@smithy/types'
import type {Config} from '../config/schema.js'
import {awsRetryStrategy} from '../resilience/aws-middleware.js'
import type {RetryPolicy} from '../resilience/retry.js'

export interface AwsClientConfigOptions {
  region: string
  endpoint?: string
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider
  timeoutMs: number
  retry: RetryPolicy
  /** The client carries the adaptive-rate plugin (throttlePlugin), which retries throttled calls itself. */
  throttlingByLimiter?: boolean
}

/**
 * The one way AWS SDK clients are configured: region, optional endpoint (LocalStack, the test stack),
 * credentials, the SDK's own retries driven by the run's one policy (full jitter), and timeouts that really fail the call (the SDK's requestTimeout
 * only warns unless throwOnRequestTimeout is set).
 */
export function awsClientConfig(options: AwsClientConfigOptions) {
  return {
    region: options.region,
    ...(options.endpoint ? {endpoint: options.endpoint} : {}),
    ...(options.credentials ? {credentials: options.credentials} : {}),
    maxAttempts: options.retry.maxAttempts,
    // A strategy per client: the SDK's retry quota lives in the instance.
    retryStrategy: awsRetryStrategy(options.retry, Math.random, options.throttlingByLimiter ?? false),
    requestHandler: {
      requestTimeout: options.timeoutMs,
      connectionTimeout: Math.min(options.timeoutMs, 10_000),
      throwOnRequestTimeout: true,
    },
  }
}

/**
 * The region of clients no target names: `aws.region`, else `AWS_REGION` (as the SDK's own chain reads it, when
 * the environment is passed), else us-east-1 (where the global APIs live).
 */
export const defaultRegion = (config: Config, env: Readonly<Record<string, string | undefined>> = {}): string =>
  config.aws.region ?? (env.AWS_REGION?.trim() || 'us-east-1')
