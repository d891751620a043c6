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
import {isThrottlingError, statusOf} from './failure-classification.js'
import type {QuotaGroup, QuotaLimiter} from './quota-limiter.js'
import {backoffDelay, type RetryPolicy} from './retry.js'
import {throttledCall} from './throttled-call.js'

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
export const THROTTLE_MIDDLEWARE = 'secretsyncAdaptiveRate'

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

export interface ThrottlePluginOptions {
  limiter: QuotaLimiter
  /** The quota's key: `account-region` for Secrets Manager, the bucket for the merge store. */
  key: string
  /** The quota group an operation draws on. */
  groupOf: (operation: string) => QuotaGroup
  /** Names the quota in errors: `secretsmanager writes of 111111111111/us-east-1`. */
  where: (group: QuotaGroup) => string
  /** Operations whose first attempt the caller has already paced through `limiter` (apply.ts's writes). */
  pacedByCaller?: (operation: string) => boolean
  deadlineMs: number
  stop?: AbortSignal
  now?: () => number
}

/**
 * Paces every operation of a client at its quota group's adaptive rate and retries throttled calls once the rate
 * admits them again, until `deadlineMs` (src/resilience/throttled-call.ts). It sits in `initialize`, inside the
 * breaker (which sees one outcome per operation, and throttling is never a breaker failure) and outside the SDK's
 * retries, which leave throttling to it (see {@link awsRetryStrategy}), so 5xx and timeouts keep their attempts.
 */
export function throttlePlugin<Input extends object = object, Output extends MetadataBearer = MetadataBearer>(
  options: ThrottlePluginOptions,
): Pluggable<Input, Output> {
  const now = options.now ?? Date.now
  const paced: InitializeMiddleware<Input, Output> = (next, context) => (args) => {
    const operation = operationOf(context)
    const group = options.groupOf(operation)
    return throttledCall(() => next(args), {
      limiter: options.limiter,
      key: options.key,
      group,
      operation,
      where: options.where(group),
      deadlineMs: options.deadlineMs,
      isThrottle: isThrottlingError,
      admitted: options.pacedByCaller?.(operation) ?? false,
      stop: options.stop,
      now,
    })
  }
  return {
    applyToStack(stack) {
      // 'normal' runs after the breaker's 'high': the breaker wraps the whole throttled call.
      stack.add(paced, {step: 'initialize', priority: 'normal', name: THROTTLE_MIDDLEWARE, override: true})
    },
  }
}

/** The SDK's standard strategy, except that a throttled attempt is handed back at once to {@link throttlePlugin}. */
class ThrottlingLeftToLimiter extends ConfiguredRetryStrategy {
  override async refreshRetryTokenForRetry(
    ...args: Parameters<ConfiguredRetryStrategy['refreshRetryTokenForRetry']>
  ): ReturnType<ConfiguredRetryStrategy['refreshRetryTokenForRetry']> {
    // Refusing makes the SDK rethrow the throttling error as it is, with no attempt or retry quota spent on it.
    if (args[1].errorType === 'THROTTLING') throw new Error('throttling is retried at the adaptive rate')
    return super.refreshRetryTokenForRetry(...args)
  }
}

/**
 * The SDK's standard retry strategy (which retries throttling, 500/502/503/504, timeouts and connection
 * resets, within its client-side retry quota) with the run's one policy: `retry.max_attempts` attempts in all,
 * full-jitter exponential backoff from `backoffDelay`. One instance per client: the quota is per instance.
 * `throttlingByLimiter`: the client carries {@link throttlePlugin}, which retries throttled calls itself.
 */
export function awsRetryStrategy(
  policy: RetryPolicy,
  random: () => number = Math.random,
  throttlingByLimiter = false,
): ConfiguredRetryStrategy {
  // The SDK numbers retries from 1; backoffDelay from 0 (the first retry waits up to base_delay).
  const backoff = (retry: number): number => backoffDelay(policy, retry - 1, random)
  return throttlingByLimiter
    ? new ThrottlingLeftToLimiter(policy.maxAttempts, backoff)
    : new ConfiguredRetryStrategy(policy.maxAttempts, backoff)
}
