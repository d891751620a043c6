import type {Logger} from '../observability/logger.js'
import type {Metrics} from '../observability/metrics.js'
import type {Breakers} from '../resilience/breakers.js'
import {statusOf as breakerStatusOf} from '../resilience/failure-classification.js'
import type {QuotaGroup, QuotaLimiter} from '../resilience/quota-limiter.js'
import {withRetry, type RetryPolicy} from '../resilience/retry.js'
import {throttledCall} from '../resilience/throttled-call.js'
import {describeVaultFailure, isRetryableVaultError} from './vault-errors.js'

/** Runs one Vault request under the run's breaker and retry policy; failures carry operation, path and duration. */
export type Guarded = <T>(operation: string, path: string, fn: () => Promise<T>) => Promise<T>

/** Vault's rate-limit quota: every request waits for the adaptive rate, and a 429 slows it down. */
export interface VaultQuota {
  limiter: QuotaLimiter
  /** `vault.request_rate` as the ceiling (Infinity when unset). */
  group: QuotaGroup
  deadlineMs: number
  /** The 429's Retry-After in ms, when Vault sent one (enable_rate_limit_response_headers). */
  retryAfterMs: (error: unknown) => number | undefined
  stop?: AbortSignal
}

const VAULT_QUOTA_KEY = 'vault'

const isVaultThrottle = (error: unknown): boolean => describeVaultFailure(error).status === 429

export interface GuardedOptions {
  breakers: Breakers
  retry: RetryPolicy
  quota?: VaultQuota
  metrics?: Metrics
  logger: Logger
  now: () => number
}

export function createGuarded(options: GuardedOptions): Guarded {
  const {breakers, retry, metrics, logger, now, quota} = options
  // Built once, not per request: a walk sends one request per folder and per secret.
  const isRetryable = (error: unknown): boolean =>
    isRetryableVaultError(error) && !(quota && isVaultThrottle(error)) && breakers.state('vault') !== 'open'
  /** One Vault operation (login included) through the vault breaker, retried under the run's one policy. */
  return async <T>(operation: string, path: string, fn: () => Promise<T>): Promise<T> => {
    const started = now()
    const measured = async (): Promise<T> => {
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
    // A 429 is waited out at the adaptive rate (honouring Retry-After) until the throttle deadline; it never spends
    // a retry attempt, and never counts toward the breaker. Retries are for 5xx and network failures.
    const attempt = !quota
      ? measured
      : (): Promise<T> =>
          throttledCall(measured, {
            limiter: quota.limiter,
            key: VAULT_QUOTA_KEY,
            group: quota.group,
            operation,
            where: 'vault requests',
            deadlineMs: quota.deadlineMs,
            isThrottle: isVaultThrottle,
            retryAfterMs: quota.retryAfterMs,
            stop: quota.stop,
            now,
          })
    try {
      // The breaker wraps the whole retried call, and retries stop once other calls have opened it.
      const {value} = await breakers.fire('vault', operation, () =>
        withRetry(attempt, retry, isRetryable, {
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
