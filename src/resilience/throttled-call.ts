import {AsyncLocalStorage} from 'node:async_hooks'
import {formatDuration} from '../config/duration.js'
import {ExitCode, SecretSyncError} from '../errors.js'
import type {QuotaGroup, QuotaLimiter} from './quota-limiter.js'

/** A call that stayed throttled for `sync.throttle_deadline`: the only way throttling fails a secret. */
export class ThrottledTooLongError extends SecretSyncError {
  constructor(
    readonly service: string,
    readonly operation: string,
    where: string,
    throttledForMs: number,
    attempts: number,
    cause: unknown,
  ) {
    super(
      'THROTTLED',
      `${where} was throttled for ${formatDuration(throttledForMs)} (${attempts} throttled attempts of ${operation}); ` +
        'sync.throttle_deadline passed, not attempted again',
      ExitCode.failure,
      {
        cause,
        hint: 'Other callers use most of this quota. Run again later, lower sync.write_rate, or raise sync.throttle_deadline.',
      },
    )
  }
}

/**
 * Whether the calls started inside {@link whileAllowed} may still be sent: aborted when the target's run lock is lost.
 * The throttle loop sits in SDK middleware, which has no per-call argument for it; an `abortSignal` given to `send`
 * would reach the HTTP handler too and cut writes already in flight, which must finish.
 */
const sendGates = new AsyncLocalStorage<AbortSignal>()

/** Runs `fn` so that no call it makes is sent again after a throttle once `signal` is aborted. */
export const whileAllowed = <T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> =>
  signal ? sendGates.run(signal, fn) : fn()

/** A throttled call whose stop or gate closed while it waited for its next turn: it was not sent again. */
const notSentAgain = (signal: AbortSignal, throttle: unknown): Error =>
  new Error(`not sent again after a throttle: ${(signal.reason as Error | undefined)?.message ?? 'stopped'}`, {
    cause: throttle,
  })

export interface ThrottledCallOptions {
  limiter: QuotaLimiter
  key: string
  group: QuotaGroup
  operation: string
  /** Names the quota in the deadline error: `secretsmanager writes of 111111111111/us-east-1`. */
  where: string
  /** How long one call may keep being throttled (`sync.throttle_deadline`). */
  deadlineMs: number
  isThrottle: (error: unknown) => boolean
  /** The server's Retry-After, when it sent one. */
  retryAfterMs?: (error: unknown) => number | undefined
  /** The caller already waited for this call's first turn (apply.ts paces its writes itself). */
  admitted?: boolean
  /** A stop asked for (SIGTERM/SIGINT): a throttled call is not sent again. */
  stop?: AbortSignal
  now: () => number
}

/**
 * Sends `attempt` when the limiter admits it; a throttled answer cuts the rate and the call waits for its next
 * turn, as often as needed within `deadlineMs` from its first throttle. Throttling is not a failure: it never
 * spends retry attempts, and only the deadline makes it one. Other errors are thrown as they are.
 */
export async function throttledCall<T>(attempt: () => Promise<T>, options: ThrottledCallOptions): Promise<T> {
  const {limiter, key, group, now} = options
  let firstThrottleAt: number | undefined
  let throttles = 0
  let lastThrottle: unknown
  const closed = (): AbortSignal | undefined => [options.stop, sendGates.getStore()].find((signal) => signal?.aborted)
  for (let tries = 0; ; tries++) {
    if (tries > 0 || !options.admitted) await limiter.acquire(key, group)
    // Checked after the wait, right before sending again: the lock may have been lost while this call waited.
    const stopped = tries > 0 ? closed() : undefined
    if (stopped) throw notSentAgain(stopped, lastThrottle)
    const sentAt = now()
    try {
      const value = await attempt()
      limiter.succeeded(key, group)
      return value
    } catch (error) {
      if (!options.isThrottle(error)) throw error
      throttles++
      lastThrottle = error
      firstThrottleAt ??= now()
      limiter.throttled(key, group, options.operation, sentAt, options.retryAfterMs?.(error))
      const throttledFor = now() - firstThrottleAt
      if (throttledFor >= options.deadlineMs)
        throw new ThrottledTooLongError(group.service, options.operation, options.where, throttledFor, throttles, error)
      const stopped = closed()
      if (stopped) throw notSentAgain(stopped, error)
    }
  }
}

/**
 * A `Retry-After` value in ms from now: delay-seconds (Vault sends whole seconds, "0" included) or an HTTP date
 * (older Vaults send the quota's reset time). Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}
