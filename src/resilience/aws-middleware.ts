import {ConfiguredRetryStrategy} from '@smithy/core/retry'
import type {
  FinalizeRequestMiddleware,
  HandlerExecutionContext,
  InitializeMiddleware,
  MetadataBearer,
  MiddlewareStack,
  Pluggable,
} from '@smithy/types'
import type {Metrics} from '../observability/metrics.js'
import type {BreakerScope, Breakers} from './breakers.js'
import {statusOf} from './failure-classification.js'
import {backoffDelay, type RetryPolicy} from './retry.js'

export interface AwsClientWithStack<Input extends object, Output extends MetadataBearer> {
  middlewareStack: MiddlewareStack<Input, Output>
}

export interface WithBreakerOptions {
  metrics?: Pick<Metrics, 'observeAws'>
  now?: () => number
}

/** `GetSecretValueCommand` → `GetSecretValue`: the operation name used in metrics and errors. */
export const operationOf = (context: HandlerExecutionContext): string =>
  (context.commandName ?? 'unknown').replace(/Command$/, '')

export const BREAKER_MIDDLEWARE = 'secretsyncCircuitBreaker'
export const METRICS_MIDDLEWARE = 'secretsyncRequestMetrics'

/**
 * The breaker and metrics middleware as an SDK plugin, for clients built elsewhere: `withBreaker` applies it to
 * a client, and credential providers take it as `clientPlugins` (fromTemporaryCredentials' inner STS client).
 *
 * The breaker sits at the very start of the `initialize` step, outside the SDK's retry middleware
 * (`finalizeRequest`): an operation the SDK retried and then gave up on counts as one failure, one that
 * succeeded on a retry counts as none, and an open breaker refuses before any serialising, signing or sending.
 * The metrics sit at the end of `finalizeRequest`, inside the retry loop, so every attempt is counted with its
 * own status: throttling and 5xx the retries absorbed stay visible. Applying twice replaces (same names).
 */
export function breakerPlugin<Input extends object = object, Output extends MetadataBearer = MetadataBearer>(
  scope: BreakerScope,
  breakers: Breakers,
  options: WithBreakerOptions = {},
): Pluggable<Input, Output> {
  const now = options.now ?? Date.now
  const metrics = options.metrics
  const service = typeof scope === 'string' ? scope : scope.service
  const guarded: InitializeMiddleware<Input, Output> = (next, context) => (args) =>
    breakers.fire(scope, operationOf(context), () => next(args))
  const measured: FinalizeRequestMiddleware<Input, Output> = (next, context) => async (args) => {
    const operation = operationOf(context)
    const started = now()
    try {
      const result = await next(args)
      const status =
        result.output.$metadata.httpStatusCode ?? (result.response as {statusCode?: number} | undefined)?.statusCode
      metrics?.observeAws(service, operation, status ?? 'ok', (now() - started) / 1000)
      return result
    } catch (error) {
      metrics?.observeAws(service, operation, statusOf(error), (now() - started) / 1000)
      throw error
    }
  }
  return {
    applyToStack(stack) {
      stack.add(guarded, {step: 'initialize', priority: 'high', name: BREAKER_MIDDLEWARE, override: true})
      if (metrics)
        stack.add(measured, {step: 'finalizeRequest', priority: 'low', name: METRICS_MIDDLEWARE, override: true})
    },
  }
}

/**
 * Routes every operation of an AWS SDK v3 client through its breaker (the service's, or for Secrets Manager and
 * STS the account-region's) and records each HTTP attempt
 * in `aws_requests_total` / `aws_request_duration_seconds` (see {@link breakerPlugin}). Returns the client.
 */
export function withBreaker<
  Input extends object,
  Output extends MetadataBearer,
  Client extends AwsClientWithStack<Input, Output>,
>(client: Client, scope: BreakerScope, breakers: Breakers, options: WithBreakerOptions = {}): Client {
  client.middlewareStack.use(breakerPlugin<Input, Output>(scope, breakers, options))
  return client
}

/**
 * The SDK's standard retry strategy (which retries throttling, 500/502/503/504, timeouts and connection
 * resets, within its client-side retry quota) with the run's one policy: `retry.max_attempts` attempts in all,
 * full-jitter exponential backoff from `backoffDelay`. One instance per client: the quota is per instance.
 */
export function awsRetryStrategy(policy: RetryPolicy, random: () => number = Math.random): ConfiguredRetryStrategy {
  // The SDK numbers retries from 1; backoffDelay from 0 (the first retry waits up to base_delay).
  return new ConfiguredRetryStrategy(policy.maxAttempts, (retry) => backoffDelay(policy, retry - 1, random))
}
