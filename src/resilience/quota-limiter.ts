import type {Metrics} from '../observability/metrics.js'
import {createAdaptiveRate, type AdaptiveRate} from './adaptive-rate.js'
import {createRateLimiter, type RateLimiter} from './rate-limiter.js'

/**
 * A group of operations that share one quota (Secrets Manager's writes of an account-region, its ListSecrets,
 * its BatchGetSecretValue; the merge store's S3 writes; Vault's requests) and the most the run may send at.
 */
export interface QuotaGroup {
  service: string
  name: string
  /** Calls per second it starts at and never exceeds; `Infinity`: unpaced until the first throttle. */
  ceiling: number
}

/** The account-region a key stands for, for the report and the write-rate metric. */
export interface QuotaScope {
  account: string
  region: string
}

/** How one (scope, group) fared in a run: the figures `pipeline --output json` reports under `throttling`. */
export interface QuotaUsage {
  key: string
  scope?: QuotaScope
  service: string
  group: string
  configuredRate: number | null
  /** Where the adaptive rate ended (the rate it had recovered to), and the lowest it was cut to. */
  finalRate: number | null
  lowestRate: number | null
  calls: number
  throttled: number
  throttledByOperation: Record<string, number>
}

/**
 * Paces calls per key (an account-region) and quota group at an adaptive rate, and learns from their answers.
 * `acquire(key)` without a group is a Secrets Manager write: the `WriteLimiter` that apply.ts paces writes with.
 */
export interface QuotaLimiter {
  acquire(key: string, group?: QuotaGroup): Promise<void>
  succeeded(key: string, group: QuotaGroup): void
  /**
   * A throttled answer to a call sent (admitted) at `sentAt`; `retryAfterMs` (a server's Retry-After) holds back
   * every call of the key and group.
   */
  throttled(key: string, group: QuotaGroup, operation: string, sentAt: number, retryAfterMs?: number): void
  /** Names the account-region behind a key (for the report and metrics). */
  describe(key: string, scope: QuotaScope): void
  usage(): QuotaUsage[]
}

export interface QuotaLimiterOptions {
  /** The group `acquire(key)` paces: Secrets Manager writes at `sync.write_rate`. */
  writes: QuotaGroup
  metrics?: Pick<Metrics, 'countThrottled' | 'setWriteRate'>
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

interface Entry {
  key: string
  group: QuotaGroup
  adaptive: AdaptiveRate
  calls: number
  throttled: number
  byOperation: Record<string, number>
}

export const accountRegionKey = (account: string, region: string): string => `${account}-${region}`

export function createQuotaLimiter(options: QuotaLimiterOptions): QuotaLimiter {
  const now = options.now ?? Date.now
  // One token bucket per key and group; every bucket's rate is set by its adaptive rate.
  const limiter: RateLimiter = createRateLimiter({ratePerSecond: Infinity, now, sleep: options.sleep})
  const entries = new Map<string, Entry>()
  const scopes = new Map<string, QuotaScope>()
  const id = (key: string, group: QuotaGroup): string => `${group.service}|${group.name}|${key}`

  const publish = (entry: Entry): void => {
    const scope = scopes.get(entry.key)
    if (scope && entry.group === options.writes)
      options.metrics?.setWriteRate(scope.account, scope.region, entry.adaptive.rate())
  }
  const entryOf = (key: string, group: QuotaGroup): Entry => {
    const at = id(key, group)
    let entry = entries.get(at)
    if (!entry) {
      entry = {
        key,
        group,
        adaptive: createAdaptiveRate({ceiling: group.ceiling, now}),
        calls: 0,
        throttled: 0,
        byOperation: {},
      }
      entries.set(at, entry)
      limiter.setRate(at, group.ceiling)
      publish(entry)
    }
    return entry
  }

  return {
    async acquire(key, group = options.writes) {
      const entry = entryOf(key, group)
      await limiter.acquire(id(key, group))
      entry.calls++
      entry.adaptive.sent()
    },
    succeeded(key, group) {
      const entry = entryOf(key, group)
      if (entry.adaptive.succeeded()) {
        limiter.setRate(id(key, group), entry.adaptive.rate())
        publish(entry)
      }
    },
    throttled(key, group, operation, sentAt, retryAfterMs) {
      const entry = entryOf(key, group)
      entry.throttled++
      entry.byOperation[operation] = (entry.byOperation[operation] ?? 0) + 1
      options.metrics?.countThrottled(group.service, operation)
      if (retryAfterMs !== undefined && retryAfterMs > 0) limiter.pauseUntil(id(key, group), now() + retryAfterMs)
      if (entry.adaptive.throttled(sentAt)) {
        limiter.setRate(id(key, group), entry.adaptive.rate(), {emptyBucket: true})
        publish(entry)
      }
    },
    describe(key, scope) {
      scopes.set(key, scope)
      // Every account-region synced is reported with its write rate, written to or not (a new entry publishes itself).
      const known = entries.has(id(key, options.writes))
      const writes = entryOf(key, options.writes)
      if (known) publish(writes)
    },
    usage: () =>
      [...entries.values()].map((entry) => {
        const finite = (rate: number): number | null => (Number.isFinite(rate) ? round(rate) : null)
        const scope = scopes.get(entry.key)
        return {
          key: entry.key,
          ...(scope ? {scope} : {}),
          service: entry.group.service,
          group: entry.group.name,
          configuredRate: finite(entry.group.ceiling),
          finalRate: finite(entry.adaptive.rate()),
          lowestRate: finite(entry.adaptive.lowest()),
          calls: entry.calls,
          throttled: entry.throttled,
          throttledByOperation: {...entry.byOperation},
        }
      }),
  }
}

const round = (rate: number): number => Math.round(rate * 100) / 100
