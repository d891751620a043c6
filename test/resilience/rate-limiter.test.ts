import {describe, expect, it} from 'vitest'
import {createRateLimiter, type RateLimiter} from '../../src/resilience/rate-limiter.js'

/**
 * The write limiter on a fake clock: `sleep` moves the clock by what was asked and records it, so the tests
 * read how long the limiter made callers wait, in fake milliseconds, and never depend on real time.
 */

function fakeClock() {
  const clock = {now: 0, sleeps: [] as number[]}
  return {
    clock,
    now: () => clock.now,
    sleep: (ms: number) => {
      clock.sleeps.push(ms)
      clock.now += ms
      return Promise.resolve()
    },
  }
}

/** Acquires `count` tokens for `key` at once and records the order in which the callers got through. */
async function acquireAll(limiter: RateLimiter, key: string, count: number, order: string[] = []) {
  await Promise.all(Array.from({length: count}, (_, i) => limiter.acquire(key).then(() => order.push(`${key}#${i}`))))
  return order
}

describe('createRateLimiter', () => {
  it('lets a burst of `rate` calls through at once, then one call per 1/rate seconds', async () => {
    const fake = fakeClock()
    const limiter = createRateLimiter({ratePerSecond: 4, now: fake.now, sleep: fake.sleep})

    // Given a full bucket of 4: the first 4 calls do not wait
    await acquireAll(limiter, '111111111111-us-east-1', 4)
    expect(fake.clock.sleeps).toEqual([])

    // When 4 more come, each waits for the next token (250 ms at 4 per second)
    await acquireAll(limiter, '111111111111-us-east-1', 4)
    expect(fake.clock.sleeps).toEqual([250, 250, 250, 250])
    expect(fake.clock.now).toBe(1000)
  })

  it('serves waiting callers in the order they came (fair FIFO)', async () => {
    const fake = fakeClock()
    const limiter = createRateLimiter({ratePerSecond: 2, now: fake.now, sleep: fake.sleep})

    const order = await acquireAll(limiter, 'a', 10)

    expect(order).toEqual(Array.from({length: 10}, (_, i) => `a#${i}`))
    // 2 from the burst, 8 more at 2 per second
    expect(fake.clock.now).toBe(4000)
  })

  it('never lets a newcomer overtake a waiting caller, even when a token is free the moment it arrives', async () => {
    // Given a sleep the test ends by hand, so a caller can arrive while another one waits
    const clock = {now: 0}
    const pending: Array<() => void> = []
    const limiter = createRateLimiter({
      ratePerSecond: 1,
      now: () => clock.now,
      sleep: () => new Promise<void>((resolve) => pending.push(resolve)),
    })
    const order: string[] = []
    const enter = (name: string) => limiter.acquire('k').then(() => order.push(name))

    const first = enter('first')
    const second = enter('second')
    await first
    expect(pending).toHaveLength(1)

    // When a token has refilled but the waiting caller has not woken yet, a third arrives
    clock.now += 1000
    const third = enter('third')
    await Promise.resolve()
    expect(order).toEqual(['first'])

    // Then the waiting caller goes first and the newcomer waits for the next token
    pending.shift()?.()
    await second
    expect(order).toEqual(['first', 'second'])
    clock.now += 1000
    pending.shift()?.()
    await third
    expect(order).toEqual(['first', 'second', 'third'])
  })

  it('keeps keys apart: a busy account-region does not slow another', async () => {
    const fake = fakeClock()
    const limiter = createRateLimiter({ratePerSecond: 1, now: fake.now, sleep: fake.sleep})
    await limiter.acquire('busy')

    const waitedBefore = fake.clock.sleeps.length
    await limiter.acquire('quiet')

    expect(fake.clock.sleeps.length).toBe(waitedBefore)
    expect(fake.clock.now).toBe(0)
  })

  it('refills while idle, never beyond the burst', async () => {
    const fake = fakeClock()
    const limiter = createRateLimiter({ratePerSecond: 2, now: fake.now, sleep: fake.sleep})
    await acquireAll(limiter, 'k', 2)

    // A long quiet spell refills the bucket to 2, not to 20
    fake.clock.now += 10_000
    await acquireAll(limiter, 'k', 3)

    expect(fake.clock.sleeps).toEqual([500])
  })

  it('still admits calls when the rate is below one per second', async () => {
    const fake = fakeClock()
    const limiter = createRateLimiter({ratePerSecond: 0.5, now: fake.now, sleep: fake.sleep})

    await acquireAll(limiter, 'slow', 2)

    expect(fake.clock.sleeps).toEqual([2000])
  })

  it('refuses a rate that is not above zero', () => {
    expect(() => createRateLimiter({ratePerSecond: 0})).toThrow(RangeError)
  })
})
