/**
 * The rate a caller may send at against a quota it shares with others (an account-region's Secrets Manager
 * write quota, a Vault rate-limit quota): additive increase while calls succeed, multiplicative decrease when
 * one is throttled (AIMD, as TCP does), never above the configured rate, never below a floor.
 *
 * Why not the AWS SDK's adaptive retry mode (@smithy/util-retry AdaptiveRetryStrategy + DefaultRateLimiter):
 * its limiter lives in one client instance and paces every operation of it with one rate, while the quotas
 * are per account-region and per group of operations (writes, ListSecrets, BatchGetSecretValue) and several
 * targets' clients share one account-region; it has no ceiling (a run must never write faster than
 * `sync.write_rate`); its clock is Date.now, so it cannot be tested on a fake clock; and its retries of a
 * throttled call still spend the standard strategy's attempts and retry quota, which is how throttling became
 * failed secrets. What is taken from it: the cut is from the rate actually measured, not only from the allowed
 * one (an allowed rate far above what was sent says nothing), by the same factor (beta 0.7), with a floor.
 */

export interface AdaptiveRateOptions {
  /** The configured rate: where it starts and the most it recovers to. `Infinity`: unpaced until throttled. */
  ceiling: number
  /** Calls per second it never goes below (default 0.5, the SDK's minimum fill rate). */
  floor?: number
  /** Multiplicative decrease on a throttle (default 0.7). */
  decrease?: number
  /** Additive increase: calls per second gained per second of successful calls (default: ceiling / 20, at least 1). */
  increasePerSecond?: number
  now: () => number
}

export interface AdaptiveRate {
  /** The rate to send at now. */
  rate(): number
  /** A call was sent (feeds the measured rate). */
  sent(): void
  /** A call succeeded. Returns true when the rate changed. */
  succeeded(): boolean
  /**
   * A call sent at `sentAt` was throttled. Returns true when the rate was cut: a call sent before the last cut
   * says nothing of the new rate, so it cuts nothing (else one burst would cut the rate to the floor).
   */
  throttled(sentAt: number): boolean
  /** The lowest rate it was cut to (the ceiling when never throttled). */
  lowest(): number
}

const MEASURE_WINDOW_MS = 1000

export function createAdaptiveRate(options: AdaptiveRateOptions): AdaptiveRate {
  const {now, ceiling} = options
  if (!(ceiling > 0)) throw new RangeError('ceiling must be above 0')
  const floor = Math.min(options.floor ?? 0.5, ceiling)
  const decrease = options.decrease ?? 0.7
  const increasePerSecond =
    options.increasePerSecond ?? (Number.isFinite(ceiling) ? Math.max(1, ceiling / 20) : undefined)
  let rate = ceiling
  let lowest = ceiling
  let lastCutAt: number | undefined
  let increasedAt = now()
  /** Send times within the last MEASURE_WINDOW_MS, oldest first. */
  const sends: number[] = []
  let firstSendAt: number | undefined

  const measured = (): number => {
    const at = now()
    while (sends.length > 0 && (sends[0] as number) <= at - MEASURE_WINDOW_MS) sends.shift()
    // Early in a run the window is not full yet: a second's worth of calls sent in 100 ms is 10 times the rate.
    const span = Math.min(MEASURE_WINDOW_MS, Math.max(1, at - (firstSendAt ?? at)))
    return (sends.length * 1000) / span
  }

  return {
    rate: () => rate,
    lowest: () => lowest,
    sent() {
      const at = now()
      firstSendAt ??= at
      sends.push(at)
    },
    succeeded() {
      const at = now()
      // Recovery counts only time spent succeeding at most a second per success, so a quiet spell is no credit.
      const elapsed = Math.min(1000, at - increasedAt)
      increasedAt = at
      if (rate >= ceiling) return false
      const step = increasePerSecond ?? Math.max(1, rate / 20)
      const next = Math.min(ceiling, rate + (step * elapsed) / 1000)
      if (next === rate) return false
      rate = next
      return true
    },
    throttled(sentAt) {
      const at = now()
      if (lastCutAt !== undefined && sentAt < lastCutAt) return false
      lastCutAt = at
      increasedAt = at
      rate = Math.max(floor, decrease * Math.min(rate, measured()))
      lowest = Math.min(lowest, rate)
      return true
    },
  }
}
