import CircuitBreaker from 'opossum'
import type {Config} from '../config/schema.js'
import {formatDuration} from '../config/duration.js'
import {ExitCode, SecretSyncError} from '../errors.js'
import type {Logger} from '../observability/logger.js'
import type {BreakerState, Metrics} from '../observability/metrics.js'
import {isBreakerFailure} from './failure-classification.js'

export type {BreakerState}

export const SERVICES = ['vault', 's3', 'secretsmanager', 'organizations', 'sso-admin', 'sts'] as const
export type Service = (typeof SERVICES)[number]

/**
 * Services whose calls act in one account and region: each account-region gets a breaker of its own, so one
 * broken account cannot open the circuit for every other. The others stay one breaker per run: Vault and the
 * merge store's S3 bucket are single endpoints every target shares (their outage is everyone's), and
 * Organizations / SSO Admin are called only by discovery, in the management account.
 */
export const ACCOUNT_SERVICES = ['secretsmanager', 'sts'] as const
export type AccountService = (typeof ACCOUNT_SERVICES)[number]
export type RunService = Exclude<Service, AccountService>

/** The breaker a call goes through: a run-wide service by name, or a per-account service in one account-region. */
export type BreakerScope = RunService | AccountScope
export interface AccountScope {
  service: AccountService
  /** The account id (labels and messages show it; never a secret path). */
  account: string
  region: string
}

const RUN_SERVICES = SERVICES.filter((service): service is RunService => !ACCOUNT_SERVICES.includes(service as never))

const scopeKey = (scope: BreakerScope): string =>
  typeof scope === 'string' ? scope : `${scope.service}|${scope.account}|${scope.region}`

/** How messages and logs name a breaker: `vault`, or `secretsmanager (account 111111111111, us-east-1)`. */
export const describeScope = (scope: BreakerScope): string =>
  typeof scope === 'string' ? scope : `${scope.service} (account ${scope.account}, ${scope.region})`

const serviceOf = (scope: BreakerScope): Service => (typeof scope === 'string' ? scope : scope.service)

export type CircuitBreakerConfig = Config['circuit_breaker']

export interface BreakersDeps {
  logger: Logger
  metrics?: Pick<Metrics, 'setBreakerState'>
  /** Clock for the failure window and the retry time in errors; opossum's own timers use real time. */
  now?: () => number
}

/**
 * The run's circuit breakers: one per run-wide service, one per account-region of each per-account service
 * (built on its first call, so there is one per account-region the run actually uses).
 */
export interface Breakers {
  /** Runs `fn` through the scope's breaker; fails fast with {@link CircuitOpenError} while it is open. */
  fire<T>(scope: BreakerScope, operation: string, fn: () => Promise<T>): Promise<T>
  state(scope: BreakerScope): BreakerState
  /** Stops opossum's timers; calls after this fail. */
  shutdown(): void
}

/** A call refused because its breaker is open (or half-open with its trial calls taken). */
export class CircuitOpenError extends SecretSyncError {
  readonly service: Service
  /** The account and region of a per-account breaker; undefined for a run-wide one. */
  readonly account?: string
  readonly region?: string

  constructor(
    readonly scope: BreakerScope,
    readonly operation: string,
    readonly retryAt: Date,
    reason: string,
  ) {
    const name = describeScope(scope)
    super(
      'CIRCUIT_OPEN',
      `${name} circuit breaker is ${reason}: ${operation} not attempted; retry after ${retryAt.toISOString()}`,
      ExitCode.failure,
      {
        hint:
          typeof scope === 'string'
            ? `${name} kept failing, so secretsync stopped calling it for now. Check that it is reachable and healthy, then run again.`
            : `${scope.service} kept failing in account ${scope.account} (${scope.region}), so secretsync stopped calling it there for now; other accounts go on. Check that account's endpoint, role and quotas, then run again.`,
      },
    )
    this.service = serviceOf(scope)
    if (typeof scope !== 'string') {
      this.account = scope.account
      this.region = scope.region
    }
  }
}

type Call = () => Promise<unknown>

interface Trial {
  admitted: number
  succeeded: number
}

interface Entry {
  scope: BreakerScope
  breaker: CircuitBreaker<[Call], unknown>
  /** Times of the failures within the window, oldest first; at most failure_threshold of them. */
  failures: number[]
  openedAt: number
  /** Set while half-open: how many trial calls went through and how many of them succeeded. */
  trial?: Trial
  state: BreakerState
}

/** `fn()` as a promise, even when it throws before returning one (as when it ran inside an async function). */
const passThrough = <T>(fn: () => Promise<T>): Promise<T> => {
  try {
    return fn()
  } catch (error) {
    return Promise.reject(error as Error)
  }
}

const isOpenRejection = (error: unknown): boolean =>
  error instanceof Error && CircuitBreaker.isOurError(error) && (error as {code?: unknown}).code === 'EOPENBREAKER'

/**
 * Builds the run's breakers from `circuit_breaker:`. opossum supplies the state machine (open → half-open after
 * `timeout`, fail fast while open, one trial call when half-open); two rules it cannot express are kept here:
 * - "open after failure_threshold failures within window": opossum only opens on an error *percentage* (its
 *   volumeThreshold counts calls, successes included), so its own rule is switched off and a sliding window of
 *   failure times, fed by its `failure` event (errors errorFilter lets through), opens it.
 * - max_requests trial calls: opossum admits one and closes on its success; the breaker is reported closed only
 *   after max_requests trial calls succeeded (the first alone, the rest together), and any failing one reopens it.
 * `enabled: false` builds no breakers: calls pass straight through. Each account-region's breaker has the same
 * settings and its own window, state and trial.
 *
 * Why not opossum's window (rollingCountTimeout/rollingCountBuckets, read through `breaker.stats.failures`): it
 * opens on errorThresholdPercentage once volumeThreshold calls (successes included) are in the window, while
 * the contract (docs/design.md, `circuit_breaker.failure_threshold` within `window`) is a count of failures whatever
 * the successes; its stats are bucketed (window/buckets granularity) and are not cleared when the breaker opens
 * or closes (opossum 9 lib/status.js), so a breaker that just closed would reopen on failures from before its
 * trial; and its buckets rotate on a real-time interval, not the injected clock. Which errors count is opossum's
 * own mechanism (errorFilter, fed by failure-classification.ts).
 */
export function createBreakers(config: CircuitBreakerConfig, deps: BreakersDeps): Breakers {
  const now = deps.now ?? Date.now
  const {logger, metrics} = deps
  const entries = new Map<string, Entry>()

  const gauge = (scope: BreakerScope, state: BreakerState): void =>
    typeof scope === 'string'
      ? metrics?.setBreakerState(scope, state)
      : metrics?.setBreakerState(scope.service, state, {account: scope.account, region: scope.region})
  // Log fields: the account and region of a per-account breaker beside its service.
  const fieldsOf = (scope: BreakerScope): Record<string, string> =>
    typeof scope === 'string' ? {service: scope} : {...scope}

  const report = (entry: Entry, state: BreakerState): void => {
    if (entry.state === state) return
    entry.state = state
    gauge(entry.scope, state)
    if (state === 'open') {
      logger.warn('circuit breaker opened', {
        ...fieldsOf(entry.scope),
        failure_threshold: config.failure_threshold,
        window: formatDuration(config.window),
        retry_at: new Date(entry.openedAt + config.timeout).toISOString(),
      })
    } else if (state === 'half-open') {
      logger.info('circuit breaker half-open: trying the service again', {
        ...fieldsOf(entry.scope),
        trial_requests: config.max_requests,
      })
    } else {
      logger.info('circuit breaker closed', fieldsOf(entry.scope))
    }
  }

  const build = (scope: BreakerScope): Entry => {
    const breaker = new CircuitBreaker<[Call], unknown>((call: Call) => call(), {
      name: scopeKey(scope),
      // Every remote call already has its own timeout (SDK requestTimeout, node-vault timeout); an opossum timeout
      // around a whole operation would cut its retries short.
      timeout: false,
      resetTimeout: config.timeout,
      // Opening is decided by the failure window below; opossum's percentage rule must never fire on its own.
      volumeThreshold: Number.MAX_SAFE_INTEGER,
      rollingCountTimeout: config.window,
      rollingCountBuckets: 10,
      enableSnapshots: false,
      // Nothing reads opossum's latency percentiles; recording them keeps an array of every call's latency per bucket.
      rollingPercentilesEnabled: false,
      errorFilter: (error: unknown) => !isBreakerFailure(error),
    })
    const entry: Entry = {scope, breaker, failures: [], openedAt: 0, state: 'closed'}

    breaker.on('failure', () => {
      const at = now()
      entry.failures.push(at)
      while (entry.failures.length > config.failure_threshold) entry.failures.shift()
      while (entry.failures.length > 0 && (entry.failures[0] as number) <= at - config.window) entry.failures.shift()
      if (entry.failures.length >= config.failure_threshold && breaker.closed && !entry.trial) breaker.open()
    })
    breaker.on('open', () => {
      entry.trial = undefined
      entry.failures = []
      entry.openedAt = now()
      report(entry, 'open')
    })
    breaker.on('halfOpen', () => {
      entry.trial = {admitted: 0, succeeded: 0}
      report(entry, 'half-open')
    })
    breaker.on('close', () => {
      entry.failures = []
      // opossum closes after the first good trial; with max_requests > 1 the breaker is still on trial.
      if (!entry.trial) report(entry, 'closed')
    })
    return entry
  }

  if (config.enabled) for (const service of RUN_SERVICES) entries.set(service, build(service))
  for (const service of RUN_SERVICES) gauge(service, 'closed')
  // Per-account breakers (and their gauge series) appear on first use: one per account-region the run touches.
  let shutDown = false
  const entryFor = (scope: BreakerScope): Entry | undefined => {
    if (!config.enabled) return undefined
    const key = scopeKey(scope)
    let entry = entries.get(key)
    if (!entry && typeof scope !== 'string') {
      entry = build({...scope})
      entries.set(key, entry)
      gauge(entry.scope, 'closed')
      // Built after shutdown: it refuses like the others do.
      if (shutDown) entry.breaker.shutdown()
    }
    return entry
  }

  const trialPassed = (entry: Entry, trial: Trial): void => {
    if (entry.trial !== trial) return
    trial.succeeded++
    if (trial.succeeded >= config.max_requests) {
      entry.trial = undefined
      report(entry, 'closed')
    }
  }

  const trialFailed = (entry: Entry, trial: Trial): void => {
    // When the failing call was opossum's own trial, opossum has already reopened and cleared the trial.
    if (entry.trial === trial) entry.breaker.open()
  }

  const refuse = (entry: Entry, operation: string): CircuitOpenError =>
    entry.trial
      ? // No time is known: the breaker closes or reopens as soon as its trial calls answer.
        new CircuitOpenError(entry.scope, operation, new Date(now()), 'half-open and waiting on its trial request(s)')
      : new CircuitOpenError(
          entry.scope,
          operation,
          new Date(entry.openedAt + config.timeout),
          `open after ${config.failure_threshold} failures within ${formatDuration(config.window)}`,
        )

  return {
    fire<T>(scope: BreakerScope, operation: string, fn: () => Promise<T>): Promise<T> {
      const entry = entryFor(scope)
      if (!entry) return passThrough(fn)
      // Closed (nearly every call): opossum runs the call and cannot refuse it, so its own promise is the answer,
      // with no wrapper of ours around it (a Vault walk sends one call per folder and per secret through here).
      if (!entry.trial && entry.breaker.closed) return entry.breaker.fire(fn) as Promise<T>
      return fireGuarded(entry, operation, fn)
    },
    state: (scope) => entries.get(scopeKey(scope))?.state ?? 'closed',
    shutdown() {
      shutDown = true
      for (const entry of entries.values()) entry.breaker.shutdown()
    },
  }

  /** A call while the breaker is open, half-open or on trial: refusals become CircuitOpenError, trial calls count. */
  async function fireGuarded<T>(entry: Entry, operation: string, fn: () => Promise<T>): Promise<T> {
    const trial = entry.trial
    if (trial) {
      // While opossum's own trial call is out it admits nothing else; after it, up to max_requests in total.
      const opossumTrialOut = entry.breaker.halfOpen && !entry.breaker.pendingClose
      if (opossumTrialOut || trial.admitted >= config.max_requests) throw refuse(entry, operation)
      trial.admitted++
    }
    try {
      const value = (await entry.breaker.fire(fn)) as T
      if (trial) trialPassed(entry, trial)
      return value
    } catch (error) {
      if (isOpenRejection(error)) throw refuse(entry, operation)
      // A client error on trial still shows the service answering: it passes the trial.
      if (trial) (isBreakerFailure(error) ? trialFailed : trialPassed)(entry, trial)
      throw error
    }
  }
}
