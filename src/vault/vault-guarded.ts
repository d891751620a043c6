import type {Logger} from '../observability/logger.js'
import type {Metrics} from '../observability/metrics.js'
import type {Breakers} from '../resilience/breakers.js'
import {statusOf as breakerStatusOf} from '../resilience/failure-classification.js'
import {withRetry, type RetryPolicy} from '../resilience/retry.js'
import {describeVaultFailure, isRetryableVaultError} from './vault-errors.js'

/** Runs one Vault request under the run's breaker and retry policy; failures carry operation, path and duration. */
export type Guarded = <T>(operation: string, path: string, fn: () => Promise<T>) => Promise<T>

export interface GuardedOptions {
  breakers: Breakers
  retry: RetryPolicy
  metrics?: Metrics
  logger: Logger
  now: () => number
}

export function createGuarded(options: GuardedOptions): Guarded {
  const {breakers, retry, metrics, logger, now} = options
  /** One Vault operation (login included) through the vault breaker, retried under the run's one policy. */
  return async <T>(operation: string, path: string, fn: () => Promise<T>): Promise<T> => {
    const started = now()
    const attempt = async (): Promise<T> => {
      const begun = now()
      try {
        const value = await fn()
        metrics?.observeVault(operation, 200, (now() - begun) / 1000)
        return value
      } catch (error) {
        metrics?.observeVault(operation, breakerStatusOf(error), (now() - begun) / 1000)
        throw error
      }
    }
    try {
      // The breaker wraps the whole retried call, and retries stop once other calls have opened it.
      const {value} = await breakers.fire('vault', operation, () =>
        withRetry(attempt, retry, (error) => isRetryableVaultError(error) && breakers.state('vault') !== 'open', {
          onRetry: (error, attemptNumber, delayMs) =>
            logger.debug('vault request retried', {
              operation,
              path,
              attempt: attemptNumber,
              delay_ms: delayMs,
              cause: describeVaultFailure(error).message,
            }),
        }),
      )
      return value
    } catch (error) {
      Object.assign(error as object, {durationMs: now() - started, operation, path})
      throw error
    }
  }
}
