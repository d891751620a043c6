import {Counter, Gauge, Histogram, Registry} from 'prom-client'

/** What `secretsync_circuit_breaker_state` encodes: 0 closed, 1 half-open, 2 open (docs/design.md §5). */
export type BreakerState = 'closed' | 'half-open' | 'open'

export const BREAKER_STATE_VALUE: Record<BreakerState, number> = {closed: 0, 'half-open': 1, open: 2}

/** Request status as a label: an HTTP status code, or `timeout` / `error` when no response came back. */
export type RequestStatus = number | string

/**
 * The metrics of docs/design.md §5 on one registry per run (never prom-client's global registry, so two runs in
 * one process, or two tests, never share counters). Label values are operation, service and target names,
 * account ids, regions and status codes only.
 */
export interface Metrics {
  readonly registry: Registry
  observeVault(operation: string, status: RequestStatus, seconds: number): void
  observeAws(service: string, operation: string, status: RequestStatus, seconds: number): void
  countSynced(target: string, action: string, count?: number): void
  observePhase(phase: string, seconds: number): void
  /** `where`: the account-region of a per-account breaker (Secrets Manager, STS); omitted for a run-wide one. */
  setBreakerState(service: string, state: BreakerState, where?: {account: string; region: string}): void
  /** A call answered with throttling (it is retried once the adaptive rate admits it again). */
  countThrottled(service: string, operation: string): void
  /** The adaptive Secrets Manager write rate of an account-region, in writes per second. */
  setWriteRate(account: string, region: string, ratePerSecond: number): void
  /** The end of a successful run, in epoch milliseconds. */
  markSuccess(atMs: number): void
}

export const METRIC_PREFIX = 'secretsync_'

// Vault requests gathered before they are handed to prom-client (see observeVault).
const VAULT_BATCH = 256

// Remote calls run from milliseconds up to the 30 s default timeout.
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

// Anything that does not look like a name or a code (a slash, spaces, a long string) is replaced, so a wiring
// mistake cannot turn a secret path into a label value.
const SAFE_LABEL = /^[A-Za-z0-9_.:-]{1,64}$/

/** A label value as given when it is a plain name or code, else `invalid`. */
export const safeLabel = (value: string | number): string => {
  const text = String(value)
  return SAFE_LABEL.test(text) ? text : 'invalid'
}

export function createMetrics(): Metrics {
  const registry = new Registry()
  const registers = [registry]
  const name = (base: string): string => `${METRIC_PREFIX}${base}`

  const vaultRequests = new Counter({
    name: name('vault_requests_total'),
    help: 'Vault HTTP requests by operation and status (HTTP code, timeout or error).',
    labelNames: ['operation', 'status'] as const,
    registers,
    collect: () => flushVault(),
  })
  const vaultDuration = new Histogram({
    name: name('vault_request_duration_seconds'),
    help: 'Duration of Vault HTTP requests.',
    labelNames: ['operation'] as const,
    buckets: REQUEST_BUCKETS,
    registers,
    collect: () => flushVault(),
  })
  const awsRequests = new Counter({
    name: name('aws_requests_total'),
    help: 'AWS HTTP requests (each SDK attempt) by service, operation and status (HTTP code, timeout or error).',
    labelNames: ['service', 'operation', 'status'] as const,
    registers,
  })
  const awsDuration = new Histogram({
    name: name('aws_request_duration_seconds'),
    help: 'Duration of AWS HTTP requests (each SDK attempt).',
    labelNames: ['service', 'operation'] as const,
    buckets: REQUEST_BUCKETS,
    registers,
  })
  const synced = new Counter({
    name: name('secrets_synced_total'),
    help: 'Secrets handled by sync, by target and action.',
    labelNames: ['target', 'action'] as const,
    registers,
  })
  // One value per phase per run: a gauge reads directly on a Pushgateway, where a histogram of one sample would not.
  const phaseDuration = new Gauge({
    name: name('pipeline_duration_seconds'),
    help: 'Duration of each pipeline phase in this run.',
    labelNames: ['phase'] as const,
    registers,
  })
  const breakerState = new Gauge({
    name: name('circuit_breaker_state'),
    help: 'Circuit breaker state per service (and account and region for Secrets Manager and STS): 0 closed, 1 half-open, 2 open.',
    // One series per run-wide service, plus one per account-region a per-account service was called in.
    labelNames: ['service', 'account', 'region'] as const,
    registers,
  })
  const throttled = new Counter({
    name: name('throttled_total'),
    help: 'Calls answered with throttling (ThrottlingException, SlowDown, Vault 429), by service and operation; each is retried.',
    labelNames: ['service', 'operation'] as const,
    registers,
  })
  const writeRate = new Gauge({
    name: name('write_rate'),
    help: 'Adaptive Secrets Manager write rate per account-region (writes per second; at most sync.write_rate).',
    labelNames: ['account', 'region'] as const,
    registers,
  })
  const lastSuccess = new Gauge({
    name: name('last_success_timestamp_seconds'),
    help: 'Unix time of the end of the last successful run.',
    registers,
  })

  // Every Vault request lands here (a walk makes one per folder and per secret), and prom-client checks and hashes
  // the labels on every inc and observe: in a walk that cost more than the rest of a request's bookkeeping. So each
  // operation's and status's series gathers its count and durations here and hands them on every VAULT_BATCH
  // requests and whenever the registry is read (prom-client calls a metric's `collect` before every read), so
  // whatever reads the registry sees every request. The count goes in one inc; each duration is still observed on
  // its own (a histogram takes one value per call).
  interface VaultSeries {
    operation: string
    status: string
    count: number
    durations: number[]
  }
  const vaultSeries = new Map<string, Map<RequestStatus, VaultSeries>>()
  let vaultPending = 0
  const flushVault = (): void => {
    if (vaultPending === 0) return
    for (const byStatus of vaultSeries.values()) {
      for (const series of byStatus.values()) {
        if (series.count === 0) continue
        vaultRequests.inc({operation: series.operation, status: series.status}, series.count)
        const labels = {operation: series.operation}
        for (const seconds of series.durations) vaultDuration.observe(labels, seconds)
        series.count = 0
        series.durations.length = 0
      }
    }
    // Only once all are handed on: had one observe thrown, the rest still count as pending for the next flush.
    vaultPending = 0
  }
  const vaultSeriesOf = (operation: string, status: RequestStatus): VaultSeries => {
    let byStatus = vaultSeries.get(operation)
    if (byStatus === undefined) vaultSeries.set(operation, (byStatus = new Map()))
    let series = byStatus.get(status)
    if (series === undefined) {
      series = {operation: safeLabel(operation), status: safeLabel(status), count: 0, durations: []}
      byStatus.set(status, series)
    }
    return series
  }

  return {
    registry,
    observeVault(operation, status, seconds) {
      const series = vaultSeriesOf(operation, status)
      series.count++
      series.durations.push(seconds)
      if (++vaultPending >= VAULT_BATCH) flushVault()
    },
    observeAws(service, operation, status, seconds) {
      awsRequests.inc({service: safeLabel(service), operation: safeLabel(operation), status: safeLabel(status)})
      awsDuration.observe({service: safeLabel(service), operation: safeLabel(operation)}, seconds)
    },
    countSynced(target, action, count = 1) {
      if (count > 0) synced.inc({target: safeLabel(target), action: safeLabel(action)}, count)
    },
    observePhase(phase, seconds) {
      phaseDuration.set({phase: safeLabel(phase)}, seconds)
    },
    setBreakerState(service, state, where) {
      const labels = where
        ? {service: safeLabel(service), account: safeLabel(where.account), region: safeLabel(where.region)}
        : {service: safeLabel(service)}
      breakerState.set(labels, BREAKER_STATE_VALUE[state])
    },
    countThrottled(service, operation) {
      throttled.inc({service: safeLabel(service), operation: safeLabel(operation)})
    },
    setWriteRate(account, region, ratePerSecond) {
      writeRate.set({account: safeLabel(account), region: safeLabel(region)}, ratePerSecond)
    },
    markSuccess(atMs) {
      lastSuccess.set(atMs / 1000)
    },
  }
}
