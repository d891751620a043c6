import {describe, expect, it} from 'vitest'
import {createAdaptiveRate} from '../../src/resilience/adaptive-rate.js'
import {createQuotaLimiter, type QuotaGroup} from '../../src/resilience/quota-limiter.js'
import {parseRetryAfter, throttledCall, whileAllowed} from '../../src/resilience/throttled-call.js'

/** A clock the test moves; `sleep` moves it by what was asked, so waits are read in fake milliseconds. */
function fakeClock() {
  const clock = {now: 0, slept: 0}
  return {
    clock,
    now: () => clock.now,
    sleep: (ms: number) => {
      clock.now += ms
      clock.slept += ms
      return Promise.resolve()
    },
  }
}

/** `count` sends spread evenly over the next `ms`, the last one at the end of it. */
function sendOver(rate: ReturnType<typeof createAdaptiveRate>, clock: {now: number}, count: number, ms: number) {
  for (let i = 0; i < count; i++) {
    clock.now += ms / count
    rate.sent()
  }
}

/** A rate whose run has been sending for a while (its measuring window is full, not just started). */
function runningRate(options: Omit<Parameters<typeof createAdaptiveRate>[0], 'now'>) {
  const {clock, now} = fakeClock()
  const rate = createAdaptiveRate({...options, now})
  rate.sent()
  clock.now += 5000
  return {clock, rate}
}

describe('createAdaptiveRate (AIMD on a fake clock)', () => {
  it('starts at the configured rate and stays there while calls succeed: it never goes above it', () => {
    const {clock, now} = fakeClock()
    const rate = createAdaptiveRate({ceiling: 48, now})
    for (let i = 0; i < 100; i++) {
      clock.now += 100
      rate.succeeded()
    }
    expect(rate.rate()).toBe(48)
    expect(rate.lowest()).toBe(48)
  })

  it('cuts to 0.7 × the rate actually sent, not the allowed one, on a throttle', () => {
    // Given a ceiling of 100 but only 20 calls sent in the last second
    const {clock, rate} = runningRate({ceiling: 100})
    sendOver(rate, clock, 20, 1000)

    // When one is throttled, the rate is cut from the 20 measured
    expect(rate.throttled(clock.now)).toBe(true)
    expect(rate.rate()).toBeCloseTo(14, 6)
    expect(rate.lowest()).toBeCloseTo(14, 6)
  })

  it('cuts from the allowed rate when more was measured (a burst at the start of a run)', () => {
    const {clock, now} = fakeClock()
    const rate = createAdaptiveRate({ceiling: 48, now})
    // 30 calls in 100 ms measures as 300/s; the allowed 48 is the lower
    sendOver(rate, clock, 30, 100)
    rate.throttled(clock.now)
    expect(rate.rate()).toBeCloseTo(33.6, 6)
  })

  it('a throttle of a call sent before the last cut cuts nothing; one sent after it cuts again', () => {
    const {clock, rate} = runningRate({ceiling: 50})
    sendOver(rate, clock, 50, 1000)
    const beforeCut = clock.now - 10
    expect(rate.throttled(clock.now)).toBe(true)
    const afterFirstCut = rate.rate()

    // Answers to calls that were already out when the rate was cut
    clock.now += 5
    expect(rate.throttled(beforeCut)).toBe(false)
    expect(rate.rate()).toBe(afterFirstCut)

    // A call sent at the new rate and still throttled: the new rate is too high too
    sendOver(rate, clock, 35, 1000)
    expect(rate.throttled(clock.now - 1)).toBe(true)
    expect(rate.rate()).toBeCloseTo(0.7 * afterFirstCut, 6)
  })

  it('recovers additively, ceiling/20 per second of successes, up to the ceiling and no further', () => {
    const {clock, rate} = runningRate({ceiling: 40})
    sendOver(rate, clock, 40, 1000)
    rate.throttled(clock.now) // 28/s
    expect(rate.rate()).toBeCloseTo(28, 6)

    // 1 s of successes, one every 100 ms: +2/s
    for (let i = 0; i < 10; i++) {
      clock.now += 100
      rate.succeeded()
    }
    expect(rate.rate()).toBeCloseTo(30, 6)

    // 10 more seconds: capped at the ceiling
    for (let i = 0; i < 100; i++) {
      clock.now += 100
      rate.succeeded()
    }
    expect(rate.rate()).toBe(40)
  })

  it('gives no credit for a quiet spell: one success after a minute adds at most one second of recovery', () => {
    const {clock, rate} = runningRate({ceiling: 40})
    sendOver(rate, clock, 40, 1000)
    rate.throttled(clock.now)
    clock.now += 60_000
    rate.succeeded()
    expect(rate.rate()).toBeCloseTo(30, 6)
  })

  it('never goes below its floor however often it is throttled', () => {
    const {clock, now} = fakeClock()
    const rate = createAdaptiveRate({ceiling: 10, floor: 0.5, now})
    for (let i = 0; i < 50; i++) {
      sendOver(rate, clock, 1, 1000)
      rate.throttled(clock.now)
    }
    expect(rate.rate()).toBe(0.5)
  })

  it('without a ceiling is unpaced until the first throttle, then cut from the measured rate', () => {
    const {clock, rate} = runningRate({ceiling: Infinity})
    expect(rate.rate()).toBe(Infinity)
    sendOver(rate, clock, 200, 1000)
    rate.throttled(clock.now)
    expect(rate.rate()).toBeCloseTo(140, 6)
  })
})

const WRITES: QuotaGroup = {service: 'secretsmanager', name: 'writes', ceiling: 10}

describe('createQuotaLimiter', () => {
  it('paces at the adaptive rate: after a throttle the next calls are spaced at the cut rate, no burst', async () => {
    const fake = fakeClock()
    const limiter = createQuotaLimiter({writes: WRITES, now: fake.now, sleep: fake.sleep})
    // 10 writes go at once (a full bucket of 10), then one is throttled: 0.7 × 10 = 7/s, bucket emptied
    for (let i = 0; i < 10; i++) await limiter.acquire('a-us-east-1')
    fake.clock.now += 10
    limiter.throttled('a-us-east-1', WRITES, 'CreateSecret', fake.clock.now)
    const before = fake.clock.slept
    for (let i = 0; i < 7; i++) await limiter.acquire('a-us-east-1')
    // 7 calls at 7/s, each waiting its 1/7 s
    expect(fake.clock.slept - before).toBeGreaterThanOrEqual(7 * 142)
    expect(fake.clock.slept - before).toBeLessThanOrEqual(7 * 143 + 7)
    const [usage] = limiter.usage()
    expect(usage).toMatchObject({service: 'secretsmanager', group: 'writes', configuredRate: 10, finalRate: 7})
    expect(usage).toMatchObject({throttled: 1, throttledByOperation: {CreateSecret: 1}, calls: 17})
  })

  it('holds every call of the key back until a Retry-After has passed', async () => {
    const fake = fakeClock()
    const vault: QuotaGroup = {service: 'vault', name: 'requests', ceiling: Infinity}
    const limiter = createQuotaLimiter({writes: WRITES, now: fake.now, sleep: fake.sleep})
    await limiter.acquire('vault', vault)
    limiter.throttled('vault', vault, 'read', fake.clock.now, 2000)
    await limiter.acquire('vault', vault)
    expect(fake.clock.now).toBeGreaterThanOrEqual(2000)
  })

  it('keeps account-regions apart: a throttle in one never slows another', async () => {
    const fake = fakeClock()
    const limiter = createQuotaLimiter({writes: WRITES, now: fake.now, sleep: fake.sleep})
    for (let i = 0; i < 10; i++) await limiter.acquire('a-us-east-1')
    limiter.throttled('a-us-east-1', WRITES, 'CreateSecret', fake.clock.now)
    for (let i = 0; i < 10; i++) await limiter.acquire('b-us-east-1')
    expect(fake.clock.slept).toBe(0)
  })

  it('publishes the write rate of a described account-region and counts throttles per service and operation', async () => {
    const fake = fakeClock()
    const rates: Array<[string, string, number]> = []
    const throttles: string[] = []
    const limiter = createQuotaLimiter({
      writes: WRITES,
      now: fake.now,
      sleep: fake.sleep,
      metrics: {
        setWriteRate: (account, region, rate) => rates.push([account, region, rate]),
        countThrottled: (service, operation) => throttles.push(`${service}/${operation}`),
      },
    })
    limiter.describe('111111111111-us-east-1', {account: '111111111111', region: 'us-east-1'})
    for (let i = 0; i < 10; i++) await limiter.acquire('111111111111-us-east-1')
    fake.clock.now += 10
    limiter.throttled('111111111111-us-east-1', WRITES, 'PutSecretValue', fake.clock.now)
    expect(rates).toEqual([
      ['111111111111', 'us-east-1', 10],
      ['111111111111', 'us-east-1', 7],
    ])
    expect(throttles).toEqual(['secretsmanager/PutSecretValue'])
  })
})

describe('throttledCall', () => {
  const throttle = Object.assign(new Error('Rate exceeded'), {name: 'ThrottlingException'})
  const options = (fake: ReturnType<typeof fakeClock>, deadlineMs = 60_000) => ({
    limiter: createQuotaLimiter({writes: WRITES, now: fake.now, sleep: fake.sleep}),
    key: '111111111111-us-east-1',
    group: WRITES,
    operation: 'CreateSecret',
    where: 'secretsmanager writes of 111111111111/us-east-1',
    deadlineMs,
    isThrottle: (error: unknown) => (error as Error).name === 'ThrottlingException',
    now: fake.now,
  })

  it('sends a throttled call again once admitted, as often as needed within the deadline', async () => {
    const fake = fakeClock()
    let calls = 0
    const value = await throttledCall(async () => {
      calls++
      fake.clock.now += 10
      if (calls <= 5) throw throttle
      return 'created'
    }, options(fake))
    expect(value).toBe('created')
    expect(calls).toBe(6)
  })

  it('fails with the account-region and how long it was throttled once the deadline has passed', async () => {
    const fake = fakeClock()
    const attempt = () => {
      fake.clock.now += 400
      return Promise.reject(throttle)
    }
    const error = await throttledCall(attempt, options(fake, 5000)).catch((e: unknown) => e)
    expect(error).toMatchObject({code: 'THROTTLED'})
    expect((error as Error).message).toMatch(
      /^secretsmanager writes of 111111111111\/us-east-1 was throttled for [\d.]+(ms|s|m|h) \(\d+ throttled attempts of CreateSecret\)/,
    )
    expect((error as Error).cause).toBe(throttle)
  })

  it('does not send a throttled call again once its gate closed while it waited (the run lock was lost)', async () => {
    // Given a write throttled once, and the target's lock lost while it waits for its next turn
    const fake = fakeClock()
    const lock = new AbortController()
    let calls = 0
    const attempt = () => {
      calls++
      lock.abort(new Error('run lock lost'))
      return Promise.reject(throttle)
    }

    // Then it is not sent again, and says why
    const error = await whileAllowed(lock.signal, () => throttledCall(attempt, options(fake))).catch((e: unknown) => e)
    expect(calls).toBe(1)
    expect((error as Error).message).toBe('not sent again after a throttle: run lock lost')
    expect((error as Error).cause).toBe(throttle)
  })

  it('checks the gate after the wait too: a lock lost while the call waits for its next turn stops it', async () => {
    const fake = fakeClock()
    const lock = new AbortController()
    const opts = options(fake)
    const acquire = opts.limiter.acquire.bind(opts.limiter)
    let turns = 0
    // The lock is lost during the wait for the second turn, after the throttle was already answered
    opts.limiter.acquire = async (key, group) => {
      if (++turns === 2) lock.abort(new Error('run lock lost'))
      return acquire(key, group)
    }
    let calls = 0
    const attempt = () => {
      calls++
      return Promise.reject(throttle)
    }
    const error = await whileAllowed(lock.signal, () => throttledCall(attempt, opts)).catch((e: unknown) => e)
    expect([calls, turns]).toEqual([1, 2])
    expect((error as Error).message).toBe('not sent again after a throttle: run lock lost')
  })

  it('a gate that stays open changes nothing: the call is sent again until it succeeds', async () => {
    const fake = fakeClock()
    let calls = 0
    const value = await whileAllowed(new AbortController().signal, () =>
      throttledCall(() => (++calls < 3 ? Promise.reject(throttle) : Promise.resolve('created')), options(fake)),
    )
    expect([value, calls]).toEqual(['created', 3])
  })

  it('passes other errors through at once', async () => {
    const fake = fakeClock()
    const denied = Object.assign(new Error('denied'), {name: 'AccessDeniedException'})
    await expect(throttledCall(() => Promise.reject(denied), options(fake))).rejects.toBe(denied)
  })
})

describe('parseRetryAfter', () => {
  it.each([
    ['delay-seconds', '3', 0, 3000],
    ['Vault truncates to 0', '0', 0, 0],
    ['an HTTP date', 'Wed, 02 Dec 2026 16:00:05 GMT', Date.parse('2026-12-02T16:00:00Z'), 5000],
    ['a date in the past', 'Wed, 02 Dec 2026 15:00:00 GMT', Date.parse('2026-12-02T16:00:00Z'), 0],
    ['absent', undefined, 0, undefined],
    ['unreadable', 'soon', 0, undefined],
  ])('%s', (_name, value, now, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected)
  })
})
