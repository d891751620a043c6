export interface RateLimiterOptions {
  /** Tokens added per second per key (`sync.write_rate`). */
  ratePerSecond: number
  /** Bucket size: how many calls may go at once after a quiet spell. Default: the rate (at least 1). */
  burst?: number
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

/** Keeps writes per key (an account-region) under a rate; callers wait their turn in arrival order. */
export interface RateLimiter {
  acquire(key: string): Promise<void>
}

interface Bucket {
  tokens: number
  refilledAt: number
  waiting: Array<() => void>
  draining: boolean
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A token bucket per key. Every caller joins its key's queue and one drain loop per key hands out tokens
 * front to back, so a caller that arrives later never overtakes one that waits (fair FIFO), and a busy
 * key never slows another.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  if (!(options.ratePerSecond > 0)) throw new RangeError('ratePerSecond must be above 0')
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? defaultSleep
  const rate = options.ratePerSecond
  // Below one token a bucket could never pay for a call.
  const capacity = Math.max(1, options.burst ?? rate)
  const buckets = new Map<string, Bucket>()

  const refill = (bucket: Bucket): void => {
    const at = now()
    bucket.tokens = Math.min(capacity, bucket.tokens + ((at - bucket.refilledAt) * rate) / 1000)
    bucket.refilledAt = at
  }

  const drain = async (bucket: Bucket): Promise<void> => {
    bucket.draining = true
    try {
      while (bucket.waiting.length > 0) {
        refill(bucket)
        if (bucket.tokens >= 1) {
          bucket.tokens -= 1
          bucket.waiting.shift()?.()
        } else {
          await sleep(Math.ceil(((1 - bucket.tokens) * 1000) / rate))
        }
      }
    } finally {
      bucket.draining = false
    }
  }

  return {
    acquire(key) {
      let bucket = buckets.get(key)
      if (!bucket) {
        bucket = {tokens: capacity, refilledAt: now(), waiting: [], draining: false}
        buckets.set(key, bucket)
      }
      const current = bucket
      const turn = new Promise<void>((resolve) => current.waiting.push(resolve))
      if (!current.draining) void drain(current)
      return turn
    },
  }
}
