export interface RetryPolicy {
  maxAttempts: number
  baseDelayMs: number
  maxDelayMs: number
}

export interface RetryDeps {
  sleep?: (ms: number) => Promise<void>
  random?: () => number
}

export interface RetryOutcome<T> {
  value: T
  retries: number
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Full-jitter exponential backoff: a random delay in [0, min(max, base * 2^attempt)). */
export const backoffDelay = (policy: RetryPolicy, attempt: number, random: () => number = Math.random): number =>
  Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt))

/**
 * Runs `fn` until it succeeds, fails with an error `isRetryable` rejects, or `maxAttempts` is reached.
 * The last error is rethrown as is, annotated with `retries` so callers can report it.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  isRetryable: (error: unknown) => boolean,
  deps: RetryDeps & {onRetry?: (error: unknown, attempt: number, delayMs: number) => void} = {},
): Promise<RetryOutcome<T>> {
  const sleep = deps.sleep ?? defaultSleep
  for (let attempt = 0; ; attempt++) {
    try {
      return {value: await fn(attempt), retries: attempt}
    } catch (error) {
      if (attempt + 1 >= policy.maxAttempts || !isRetryable(error)) {
        if (error && typeof error === 'object') Object.assign(error, {retries: attempt})
        throw error
      }
      const delay = backoffDelay(policy, attempt, deps.random)
      deps.onRetry?.(error, attempt + 1, delay)
      await sleep(delay)
    }
  }
}

export const retriesOf = (error: unknown): number =>
  error && typeof error === 'object' && typeof (error as {retries?: unknown}).retries === 'number'
    ? (error as {retries: number}).retries
    : 0
