import type {AwsCredentialIdentity, AwsCredentialIdentityProvider} from '@smithy/types'
import type {Config} from '../config/schema.js'

export interface AwsClientConfigOptions {
  region: string
  endpoint?: string
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider
  timeoutMs: number
  maxAttempts: number
}

/**
 * The one way AWS SDK clients are configured: region, optional endpoint (LocalStack, the test stack),
 * credentials, the SDK's own retries, and timeouts that really fail the call (the SDK's requestTimeout
 * only warns unless throwOnRequestTimeout is set).
 */
export function awsClientConfig(options: AwsClientConfigOptions) {
  return {
    region: options.region,
    ...(options.endpoint ? {endpoint: options.endpoint} : {}),
    ...(options.credentials ? {credentials: options.credentials} : {}),
    maxAttempts: options.maxAttempts,
    requestHandler: {
      requestTimeout: options.timeoutMs,
      connectionTimeout: Math.min(options.timeoutMs, 10_000),
      throwOnRequestTimeout: true,
    },
  }
}

export const defaultRegion = (config: Config): string => config.aws.region ?? 'us-east-1'
