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

export type CircuitBreakerConfig = Config['circuit_breaker']

export interface BreakersDeps {
  logger: Logger
  metrics?: Pick<Metrics, 'setBreakerState'>
  /** Clock for the failure window and the retry time in errors; opossum's own timers use real time. */
  now?: () => number
}

/** One circuit breaker per service, shared by every call to that service in a run. */
export interface Breakers {
  /** Runs `fn` through the service's breaker; fails fast with {@link CircuitOpenError} while it is open. */
  fire<T>(service: Service, operation: string, fn: () => Promise<T>): Promise<T>
  state(service: Service): BreakerState
  /** Stops opossum's timers; calls after this fail. */
  shutdown(): void
}

/** A call refused because its service's breaker is open (or half-open with its trial calls taken). */
export class CircuitOpenError extends SecretSyncError {
  constructor(
    readonly service: Service,
    readonly operation: string,
    readonly retryAt: Date,
    reason: string,
  ) {
    super(
      'CIRCUIT_OPEN',
      `${service} circuit breaker is ${reason}: ${operation} not attempted; retry after ${retryAt.toISOString()}`,
      ExitCode.failure,
      {
        hint: `${service} kept failing, so secretsync stopped calling it for now. Check that it is reachable and healthy, then run again.`,
      },
    )
  }
}

type Call = () => Promise<unknown>

interface Trial {
  admitted: number
  succeeded: number
}

interface Entry {
  service: Service
  breaker: CircuitBreaker<[Call], unknown>
  /** Times of the failures within the window, oldest first; at most failure_threshold of them. */
  failures: number[]
  openedAt: number
  /** Set while half-open: how many trial calls went through and how many of them succeeded. */
  trial?: Trial
  state: BreakerState
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
 * `enabled: false` builds no breakers: calls pass straight through.
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
  const entries = new Map<Service, Entry>()

  const report = (entry: Entry, state: BreakerState): void => {
    if (entry.state === state) return
    entry.state = state
    metrics?.setBreakerState(entry.service, state)
    if (state === 'open') {
      logger.warn('circuit breaker opened', {
        service: entry.service,
        failure_threshold: config.failure_threshold,
        window: formatDuration(config.window),
        retry_at: new Date(entry.openedAt + config.timeout).toISOString(),
      })
    } else if (state === 'half-open') {
      logger.info('circuit breaker half-open: trying the service again', {
        service: entry.service,
        trial_requests: config.max_requests,
      })
    } else {
      logger.info('circuit breaker closed', {service: entry.service})
    }
  }

  const build = (service: Service): Entry => {
    const breaker = new CircuitBreaker<[Call], unknown>((call: Call) => call(), {
      name: service,
      // Every remote call already has its own timeout (SDK requestTimeout, node-vault timeout); an opossum timeout
      // around a whole operation would cut its retries short.
      timeout: false,
      resetTimeout: config.timeout,
      // Opening is decided by the failure window below; opossum's percentage rule must never fire on its own.
      volumeThreshold: Number.MAX_SAFE_INTEGER,
      rollingCountTimeout: config.window,
      rollingCountBuckets: 10,
      enableSnapshots: false,
      errorFilter: (error: unknown) => !isBreakerFailure(error),
    })
    const entry: Entry = {service, breaker, failures: [], openedAt: 0, state: 'closed'}

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

  if (config.enabled) for (const service of SERVICES) entries.set(service, build(service))
  for (const service of SERVICES) metrics?.setBreakerState(service, 'closed')

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
        new CircuitOpenError(entry.service, operation, new Date(now()), 'half-open and waiting on its trial request(s)')
      : new CircuitOpenError(
          entry.service,
          operation,
          new Date(entry.openedAt + config.timeout),
          `open after ${config.failure_threshold} failures within ${formatDuration(config.window)}`,
        )

  return {
    async fire<T>(service: Service, operation: string, fn: () => Promise<T>): Promise<T> {
      const entry = entries.get(service)
      if (!entry) return fn()
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
    },
    state: (service) => entries.get(service)?.state ?? 'closed',
    shutdown() {
      for (const entry of entries.values()) entry.breaker.shutdown()
    },
  }
}
