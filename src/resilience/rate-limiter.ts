export interface RateLimiterOptions {
  /** Tokens added per second per key (`sync.write_rate`); `Infinity` admits every call at once until `setRate`. */
  ratePerSecond: number
  /** Bucket size: how many calls may go at once after a quiet spell. Default: the rate (at least 1). */
  burst?: number
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

/** Keeps calls per key (an account-region) under a rate; callers wait their turn in arrival order. */
export interface RateLimiter {
  acquire(key: string): Promise<void>
  /**
   * Changes one key's rate from now on (the adaptive rate, src/resilience/adaptive-rate.ts). `emptyBucket`
   * drops the tokens saved up: after a throttle the quota is spent, and a saved-up burst would only be throttled.
   */
  setRate(key: string, ratePerSecond: number, options?: {emptyBucket?: boolean}): void
  /** Hands out no token for `key` before `until` (ms, the clock's): a server's Retry-After. */
  pauseUntil(key: string, until: number): void
}

interface Bucket {
  /** Set by setRate; the bucket's size follows it unless a burst was configured. */
  rate: number
  tokens: number
  refilledAt: number
  pausedUntil: number
  waiting: Array<() => void>
  draining: boolean
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A token bucket per key. Every caller joins its key's queue and one drain loop per key hands out tokens
 * front to back, so a caller that arrives later never overtakes one that waits (fair FIFO), and a busy
 * key never slows another. Each key's rate can change while callers wait (the adaptive rate sets it).
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  if (!(options.ratePerSecond > 0)) throw new RangeError('ratePerSecond must be above 0')
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? defaultSleep
  // Below one token a bucket could never pay for a call.
  const capacityOf = (bucket: Bucket): number => Math.max(1, options.burst ?? bucket.rate)
  const buckets = new Map<string, Bucket>()

  const refill = (bucket: Bucket): void => {
    const at = now()
    if (bucket.rate === Infinity) bucket.tokens = Infinity
    else bucket.tokens = Math.min(capacityOf(bucket), bucket.tokens + ((at - bucket.refilledAt) * bucket.rate) / 1000)
    bucket.refilledAt = at
  }

  const drain = async (bucket: Bucket): Promise<void> => {
    bucket.draining = true
    try {
      while (bucket.waiting.length > 0) {
        const paused = bucket.pausedUntil - now()
        if (paused > 0) {
          await sleep(paused)
          // Tokens do not pile up during a pause: the server asked for silence, not for a burst after it.
          bucket.refilledAt = Math.max(bucket.refilledAt, bucket.pausedUntil)
          continue
        }
        refill(bucket)
        if (bucket.tokens >= 1) {
          bucket.tokens -= 1
          bucket.waiting.shift()?.()
        } else {
          await sleep(Math.ceil(((1 - bucket.tokens) * 1000) / bucket.rate))
        }
      }
    } finally {
      bucket.draining = false
    }
  }

  const bucketOf = (key: string): Bucket => {
    let bucket = buckets.get(key)
    if (!bucket) {
      bucket = {rate: options.ratePerSecond, tokens: 0, refilledAt: now(), pausedUntil: 0, waiting: [], draining: false}
      bucket.tokens = capacityOf(bucket)
      buckets.set(key, bucket)
    }
    return bucket
  }

  return {
    acquire(key) {
      const bucket = bucketOf(key)
      const turn = new Promise<void>((resolve) => bucket.waiting.push(resolve))
      if (!bucket.draining) void drain(bucket)
      return turn
    },
    setRate(key, ratePerSecond, setOptions = {}) {
      if (!(ratePerSecond > 0)) throw new RangeError('ratePerSecond must be above 0')
      const bucket = bucketOf(key)
      // Tokens earned so far were earned at the old rate.
      refill(bucket)
      bucket.rate = ratePerSecond
      bucket.tokens = setOptions.emptyBucket ? 0 : Math.min(bucket.tokens, capacityOf(bucket))
    },
    pauseUntil(key, until) {
      const bucket = bucketOf(key)
      bucket.pausedUntil = Math.max(bucket.pausedUntil, until)
    },
  }
}
