/**
 * Test controls shared by the in-process Vault and AWS servers: per-call latency, per-account-region
 * quotas (token buckets), injected faults and call counters. Tests and the benchmark drive these
 * programmatically; the servers consult them on every request.
 */

/** `error`: answer with the service error `code` (e.g. a KMS `EncryptionFailure`), status 400 unless given. */
export type FaultKind = '5xx' | 'hang' | 'reset' | 'error'

export interface CallKey {
  /** `vault`, `secretsmanager`, `sts`, `organizations`, `sso-admin`, `s3`. */
  service: string
  /** The API operation name as the service documents it (`ListSecrets`, `PutObject`, `list`, `read`...). */
  operation: string
  /** The account whose state the call touches (`-` where there is none, e.g. Vault). */
  account: string
  region: string
}

export interface FaultSpec {
  service: string
  /** Operation name, or `*` for every operation of the service. */
  operation?: string
  /** Only calls against this account (any account when unset). */
  account?: string
  kind: FaultKind
  /** How many of the next matching calls fail. */
  count: number
  /** HTTP status for `5xx` faults (default 500) and `error` faults (default 400). */
  status?: number
  /** For `error` faults: the error code (`__type`) and message to answer with. */
  code?: string
  message?: string
  /** Only calls whose resource (S3: `/bucket/key`; Secrets Manager: the SecretId or Name) contains this text. */
  resource?: string
}

export interface QuotaSpec {
  service: string
  /** Only this operation (every operation of the service, each with its own bucket, when unset). */
  operation?: string
  /** These operations combined, sharing one bucket per account-region (AWS's "combined rate of ..." quotas). */
  operations?: string[]
  /** Only calls against this account (every account, each with its own bucket, when unset). */
  account?: string
  /** Sustained calls per second per account-region. */
  ratePerSecond: number
  /** Bucket size (default: ratePerSecond). */
  burst?: number
  /**
   * Other callers in the account (deploy pipelines, rotation lambdas) take this many calls per second of the
   * quota before ours, steadily: what is left for us is `ratePerSecond - otherCallersPerSecond`.
   */
  otherCallersPerSecond?: number
  /**
   * Vault: answer 429s with the rate-limit headers (`sys/quotas/config enable_rate_limit_response_headers`):
   * `Retry-After` and `X-Ratelimit-Reset` in whole seconds until a request is allowed again (Vault truncates,
   * so often `0`), `X-Ratelimit-Limit` and `X-Ratelimit-Remaining`.
   */
  responseHeaders?: boolean
}

export interface LatencySpec {
  service: string
  operation?: string
  ms: number
}

export interface JitterSpec {
  service: string
  operation?: string
  /** Each matching call waits a further 0..maxMs (uniform), drawn from a PRNG seeded with `seed`. */
  maxMs: number
  seed: number
}

/** mulberry32: a small, fast, seedable PRNG, so a jittered run replays from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export type Decision = (
  | {kind: 'pass'; latencyMs: number}
  | {kind: 'throttle'; latencyMs: number; quota: QuotaSpec; retryAfterMs: number}
  | {kind: 'fault'; fault: FaultKind; status: number; latencyMs: number; code?: string; message?: string}
) & {
  /** Set while a `hold` matches the call: it is answered only once this settles. */
  held?: Promise<void>
}

export interface HoldSpec {
  service: string
  operation?: string
}

interface Bucket {
  tokens: number
  updatedAt: number
}

const matches = (
  spec: {service: string; operation?: string; operations?: string[]; account?: string; resource?: string},
  key: CallKey,
  resource?: string,
): boolean =>
  spec.service === key.service &&
  (spec.resource === undefined || (resource ?? '').includes(spec.resource)) &&
  (spec.operation === undefined || spec.operation === '*' || spec.operation === key.operation) &&
  (spec.operations === undefined || spec.operations.includes(key.operation)) &&
  (spec.account === undefined || spec.account === key.account)

export class Controls {
  private readonly faults: Array<FaultSpec & {remaining: number}> = []
  private readonly quotas: QuotaSpec[] = []
  private readonly latencies: LatencySpec[] = []
  private readonly jitters: Array<JitterSpec & {random: () => number}> = []
  private readonly holds: Array<HoldSpec & {released: Promise<void>}> = []
  private readonly buckets = new Map<string, Bucket>()
  private readonly calls = new Map<string, number>()
  private readonly throttles = new Map<string, number>()

  constructor(private readonly now: () => number = Date.now) {}

  injectFault(spec: FaultSpec): void {
    this.faults.push({...spec, remaining: spec.count})
  }

  setQuota(spec: QuotaSpec): void {
    this.quotas.push(spec)
  }

  setLatency(spec: LatencySpec): void {
    this.latencies.push(spec)
  }

  /** Random extra latency per call, reproducible from the seed (the order of calls still varies). */
  setJitter(spec: JitterSpec): void {
    this.jitters.push({...spec, random: seededRandom(spec.seed)})
  }

  /**
   * Matching calls are counted as they arrive, then wait unanswered until `release()` (also for calls that arrive
   * later): a test can see what else a client sends while such a call is in flight, with no clock involved.
   */
  hold(spec: HoldSpec): {release: () => void} {
    let release = (): void => {}
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    const hold = {...spec, released}
    this.holds.push(hold)
    return {
      release: () => {
        this.holds.splice(this.holds.indexOf(hold), 1)
        release()
      },
    }
  }

  /** Removes faults, quotas, latencies and jitter (counters stay; see `resetCounters`). */
  clear(): void {
    this.faults.length = 0
    this.quotas.length = 0
    this.latencies.length = 0
    this.jitters.length = 0
    this.buckets.clear()
  }

  resetCounters(): void {
    this.calls.clear()
    this.throttles.clear()
  }

  /**
   * Records the call and decides its fate. Every request counts, whether it then succeeds, is
   * throttled or fails, since that is what an API quota counts too.
   */
  decide(key: CallKey, resource?: string): Decision {
    const id = `${key.service}|${key.operation}|${key.account}|${key.region}`
    this.calls.set(id, (this.calls.get(id) ?? 0) + 1)
    const latencyMs =
      this.latencies.filter((l) => matches(l, key)).reduce((sum, l) => sum + l.ms, 0) +
      this.jitters.filter((j) => matches(j, key)).reduce((sum, j) => sum + Math.floor(j.random() * (j.maxMs + 1)), 0)

    const held = this.holds.find((h) => matches(h, key))?.released
    const decision = this.fate(id, key, latencyMs, resource)
    return held ? {...decision, held} : decision
  }

  private fate(id: string, key: CallKey, latencyMs: number, resource: string | undefined): Decision {
    const fault = this.faults.find((f) => f.remaining > 0 && matches(f, key, resource))
    if (fault) {
      fault.remaining--
      return {
        kind: 'fault',
        fault: fault.kind,
        status: fault.status ?? (fault.kind === 'error' ? 400 : 500),
        latencyMs,
        code: fault.code,
        message: fault.message,
      }
    }
    for (const [index, quota] of this.quotas.entries()) {
      if (!matches(quota, key)) continue
      // A combined quota is one bucket for all its operations; otherwise each operation has its own.
      const bucketId = quota.operations
        ? `${key.service}|${key.account}|${key.region}|quota${index}`
        : `${id}|${quota.operation ?? '*'}`
      const retryAfterMs = this.take(bucketId, quota)
      if (retryAfterMs !== undefined) {
        this.throttles.set(id, (this.throttles.get(id) ?? 0) + 1)
        return {kind: 'throttle', latencyMs, quota, retryAfterMs}
      }
    }
    return {kind: 'pass', latencyMs}
  }

  /** Number of calls matching every given field (omitted fields match anything). */
  count(filter: Partial<CallKey> = {}): number {
    return this.sum(this.calls, filter)
  }

  /** Number of calls that were answered with a throttling error. */
  throttled(filter: Partial<CallKey> = {}): number {
    return this.sum(this.throttles, filter)
  }

  /** Every counter as `{service: {operation: n}}`, handy in failure messages. */
  snapshot(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {}
    for (const [id, n] of this.calls) {
      const [service = '', operation = ''] = id.split('|')
      const byOp = (out[service] ??= {})
      byOp[operation] = (byOp[operation] ?? 0) + n
    }
    return out
  }

  private sum(map: Map<string, number>, filter: Partial<CallKey>): number {
    let total = 0
    for (const [id, n] of map) {
      const [service, operation, account, region] = id.split('|')
      if (filter.service !== undefined && filter.service !== service) continue
      if (filter.operation !== undefined && filter.operation !== operation) continue
      if (filter.account !== undefined && filter.account !== account) continue
      if (filter.region !== undefined && filter.region !== region) continue
      total += n
    }
    return total
  }

  /** Takes a token; undefined when one was there, else the ms until the bucket holds one again. */
  private take(bucketId: string, quota: QuotaSpec): number | undefined {
    const burst = quota.burst ?? quota.ratePerSecond
    // The other callers are served first: what they take never reaches this bucket.
    const left = Math.max(0, quota.ratePerSecond - (quota.otherCallersPerSecond ?? 0))
    const now = this.now()
    const bucket = this.buckets.get(bucketId) ?? {tokens: burst * (left / quota.ratePerSecond), updatedAt: now}
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * left)
    bucket.updatedAt = now
    this.buckets.set(bucketId, bucket)
    if (bucket.tokens < 1) return left > 0 ? Math.ceil(((1 - bucket.tokens) * 1000) / left) : 60_000
    bucket.tokens -= 1
    return undefined
  }
}
