import {afterEach, describe, expect, it, vi} from 'vitest'
import {SecretSyncError} from '../../src/errors.js'
import type {BreakerState} from '../../src/observability/metrics.js'
import {
  CircuitOpenError,
  createBreakers,
  type Breakers,
  type CircuitBreakerConfig,
} from '../../src/resilience/breakers.js'
import {isBreakerFailure, statusOf} from '../../src/resilience/failure-classification.js'
import {recordingRuntime} from '../support/runtime.js'
import {isRetryableVaultError} from '../../src/vault/vault-errors.js'

/**
 * The per-service breakers on plain async functions. The failure window runs on a clock the tests move; the
 * open → half-open wait is opossum's own timer, set to a few milliseconds where a test needs it, and tests wait
 * for the state to change rather than for a time to pass.
 */

const START = Date.parse('2024-05-01T12:00:00.000Z')
const LONG = 60_000

let breakers: Breakers | undefined
afterEach(() => {
  breakers?.shutdown()
  breakers = undefined
})

function setup(overrides: Partial<CircuitBreakerConfig> = {}) {
  const clock = {now: START}
  const runtime = recordingRuntime()
  const states: Array<[string, BreakerState]> = []
  const series: Array<{service: string; state: BreakerState; account?: string; region?: string}> = []
  const config: CircuitBreakerConfig = {
    enabled: true,
    failure_threshold: 3,
    window: 10_000,
    timeout: LONG,
    max_requests: 1,
    ...overrides,
  }
  breakers = createBreakers(config, {
    logger: runtime.logger,
    metrics: {
      setBreakerState: (service, state, where) => {
        states.push([service, state])
        series.push({service, state, ...where})
      },
    },
    now: () => clock.now,
  })
  // The JSON log lines, parsed.
  const lines = () =>
    runtime
      .logs()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  return {breakers, clock, logs: runtime.logs, lines, states, series, config}
}

// The shapes the real clients throw: node-vault puts the response on the error, the AWS SDK v3 its $metadata.
const vaultError = (status: number) => Object.assign(new Error(`Status ${status}`), {response: {statusCode: status}})
const awsError = (name: string, status: number) =>
  Object.assign(new Error(name), {name, $metadata: {httpStatusCode: status}})
const networkError = (code: string) => Object.assign(new Error(`connect ${code}`), {code})

/** An async function that always fails with `error` and counts its calls. */
function failing(error: unknown) {
  const fn = vi.fn(() => Promise.reject(error))
  return fn
}

async function failTimes(b: Breakers, times: number, error: unknown, fn = failing(error)) {
  for (let i = 0; i < times; i++) await expect(b.fire('vault', 'read', fn)).rejects.toBe(error)
  return fn
}

const ok = () => Promise.resolve('ok')

async function openVault(b: Breakers, threshold: number) {
  await failTimes(b, threshold, vaultError(503))
  expect(b.state('vault')).toBe('open')
}

const A = '111111111111'
const B = '222222222222'
const sm = (account: string, region = 'us-east-1') => ({service: 'secretsmanager', account, region}) as const

describe('per account-region breakers (Secrets Manager, STS)', () => {
  it('opens only the failing account-region: the others keep calling, and the refusal names the account and region', async () => {
    // Given breakers that open after 2 failures
    const {breakers, lines} = setup({failure_threshold: 2})
    const outage = awsError('InternalServiceError', 500)

    // When Secrets Manager fails twice in account B
    for (let i = 0; i < 2; i++) await expect(breakers.fire(sm(B), 'ListSecrets', failing(outage))).rejects.toBe(outage)

    // Then B's breaker is open and refuses, naming account and region
    expect(breakers.state(sm(B))).toBe('open')
    const refused = await breakers.fire(sm(B), 'ListSecrets', ok).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(CircuitOpenError)
    expect(refused).toMatchObject({code: 'CIRCUIT_OPEN', service: 'secretsmanager', account: B, region: 'us-east-1'})
    expect((refused as Error).message).toMatch(
      /^secretsmanager \(account 222222222222, us-east-1\) circuit breaker is open after 2 failures within 10s: ListSecrets not attempted/,
    )
    expect((refused as SecretSyncError).hint).toContain('other accounts go on')
    // And account A, the same account in another region, and STS in account B are untouched
    await expect(breakers.fire(sm(A), 'ListSecrets', ok)).resolves.toBe('ok')
    await expect(breakers.fire(sm(B, 'eu-west-1'), 'ListSecrets', ok)).resolves.toBe('ok')
    const sts = {service: 'sts', account: B, region: 'us-east-1'} as const
    await expect(breakers.fire(sts, 'AssumeRole', ok)).resolves.toBe('ok')
    expect([breakers.state(sm(A)), breakers.state(sm(B, 'eu-west-1')), breakers.state(sts)]).toEqual([
      'closed',
      'closed',
      'closed',
    ])
    // And the log line of the opening carries the account and region
    expect(lines().find((line) => line.message === 'circuit breaker opened')).toMatchObject({
      service: 'secretsmanager',
      account: B,
      region: 'us-east-1',
    })
  })

  it('applies circuit_breaker settings to each account-region on its own: failures in two accounts are not pooled', async () => {
    // Given a threshold of 3
    const {breakers} = setup({failure_threshold: 3})
    const outage = awsError('InternalServiceError', 500)

    // When two accounts fail twice each (4 failures in all, more than the threshold together)
    for (const account of [A, B])
      for (let i = 0; i < 2; i++)
        await expect(breakers.fire(sm(account), 'GetSecretValue', failing(outage))).rejects.toBe(outage)

    // Then neither opened; a third failure opens A's alone
    expect([breakers.state(sm(A)), breakers.state(sm(B))]).toEqual(['closed', 'closed'])
    await expect(breakers.fire(sm(A), 'GetSecretValue', failing(outage))).rejects.toBe(outage)
    expect([breakers.state(sm(A)), breakers.state(sm(B))]).toEqual(['open', 'closed'])
  })

  it('half-opens after timeout and closes after max_requests good trial calls, per account-region', async () => {
    const {breakers} = setup({failure_threshold: 1, timeout: 20, max_requests: 2})
    await expect(
      breakers.fire(sm(A), 'ListSecrets', failing(awsError('InternalServiceError', 500))),
    ).rejects.toBeDefined()
    expect(breakers.state(sm(A))).toBe('open')
    await vi.waitFor(() => expect(breakers.state(sm(A))).toBe('half-open'), {timeout: 5000, interval: 5})
    await breakers.fire(sm(A), 'ListSecrets', ok)
    expect(breakers.state(sm(A))).toBe('half-open')
    await breakers.fire(sm(A), 'ListSecrets', ok)
    expect(breakers.state(sm(A))).toBe('closed')
  })

  it('puts one gauge series per account-region actually used on the metrics, run-wide services without account labels', async () => {
    const {breakers, series} = setup({failure_threshold: 1})

    // Before any per-account call only the run-wide services have a series
    expect(series.map((s) => s.service).sort()).toEqual(['organizations', 's3', 'sso-admin', 'vault'])
    expect(series.every((s) => s.account === undefined && s.region === undefined)).toBe(true)

    // When two accounts are called, A many times, and B's breaker opens
    for (let i = 0; i < 10; i++) await breakers.fire(sm(A), 'GetSecretValue', ok)
    await expect(
      breakers.fire(sm(B), 'ListSecrets', failing(awsError('InternalServiceError', 500))),
    ).rejects.toBeDefined()

    // Then each got one series when first used, and B's moved to open
    expect(series.filter((s) => s.service === 'secretsmanager')).toEqual([
      {service: 'secretsmanager', state: 'closed', account: A, region: 'us-east-1'},
      {service: 'secretsmanager', state: 'closed', account: B, region: 'us-east-1'},
      {service: 'secretsmanager', state: 'open', account: B, region: 'us-east-1'},
    ])
  })
})

describe('opening', () => {
  it('opens after failure_threshold failures within the window and then fails fast, naming the service and the retry time', async () => {
    // Given a vault breaker that opens after 3 failures
    const {breakers, clock, logs, states} = setup()
    const outage = vaultError(503)
    const fn = failing(outage)

    // When three calls fail
    await failTimes(breakers, 2, outage, fn)
    expect(breakers.state('vault')).toBe('closed')
    clock.now += 1000
    await failTimes(breakers, 1, outage, fn)

    // Then it is open, and the next call is refused without reaching the service
    expect(breakers.state('vault')).toBe('open')
    const refused = await breakers.fire('vault', 'list', fn).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(CircuitOpenError)
    expect(refused).toMatchObject({code: 'CIRCUIT_OPEN', service: 'vault', operation: 'list'})
    const retryAt = new Date(START + 1000 + LONG).toISOString()
    expect((refused as Error).message).toContain('vault circuit breaker is open')
    expect((refused as Error).message).toContain(`retry after ${retryAt}`)
    expect(fn).toHaveBeenCalledTimes(3)
    // And the change is reported to metrics and the log
    expect(states.filter(([service]) => service === 'vault')).toEqual([
      ['vault', 'closed'],
      ['vault', 'open'],
    ])
    expect(logs()).toContain('circuit breaker opened')
  })

  it('does not open when the same number of failures is spread wider than the window', async () => {
    const {breakers, clock} = setup({failure_threshold: 3, window: 10_000})
    const outage = vaultError(500)

    // Given failures 6 s apart (at 0, 6, 12, 18 and 24 s): never 3 within 10 s
    for (let i = 0; i < 5; i++) {
      if (i > 0) clock.now += 6000
      await failTimes(breakers, 1, outage)
    }
    expect(breakers.state('vault')).toBe('closed')

    // When one more comes right after the last, three (18 s, 24 s, 24.001 s) fall within the window
    clock.now += 1
    await failTimes(breakers, 1, outage)
    expect(breakers.state('vault')).toBe('open')
  })

  it('ignores successes in between: it counts failures, not an error rate', async () => {
    const {breakers} = setup({failure_threshold: 3})
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 20; j++) await breakers.fire('vault', 'read', ok)
      await failTimes(breakers, 1, networkError('ECONNRESET'))
    }
    expect(breakers.state('vault')).toBe('open')
  })

  it('does not count client errors (4xx other than throttling): they are rethrown as they are', async () => {
    const {breakers} = setup({failure_threshold: 2})
    const errors = [
      vaultError(404),
      vaultError(403),
      awsError('ResourceNotFoundException', 400),
      awsError('AccessDeniedException', 403),
    ]
    for (const error of errors) {
      const fn = await failTimes(breakers, 3, error)
      expect(fn).toHaveBeenCalledTimes(3)
    }
    expect(breakers.state('vault')).toBe('closed')
  })

  it('never counts throttling: a shared quota being spent says nothing of the service (it is waited out instead)', async () => {
    const {breakers} = setup({failure_threshold: 2})
    await failTimes(breakers, 3, awsError('ThrottlingException', 400))
    await failTimes(breakers, 3, vaultError(429))
    expect(breakers.state('vault')).toBe('closed')
  })

  it('keeps one breaker per service: an open vault breaker leaves s3 alone', async () => {
    const {breakers} = setup({failure_threshold: 2})
    await openVault(breakers, 2)
    await expect(breakers.fire('s3', 'GetObject', ok)).resolves.toBe('ok')
    expect(breakers.state('s3')).toBe('closed')
  })

  it('passes every call through when disabled', async () => {
    const {breakers} = setup({enabled: false, failure_threshold: 1})
    const scope = {service: 'secretsmanager', account: A, region: 'us-east-1'} as const
    const fn = failing(awsError('InternalServiceError', 500))
    for (let i = 0; i < 3; i++) await expect(breakers.fire(scope, 'ListSecrets', fn)).rejects.toBeDefined()
    expect(fn).toHaveBeenCalledTimes(3)
    expect(breakers.state(scope)).toBe('closed')
  })

  it('passes every call through when disabled (run-wide services)', async () => {
    const {breakers} = setup({enabled: false, failure_threshold: 1})
    const fn = await failTimes(breakers, 5, vaultError(503))
    expect(fn).toHaveBeenCalledTimes(5)
    expect(breakers.state('vault')).toBe('closed')
  })
})

describe('answers', () => {
  it("a closed breaker answers with the call's own value and failure, and a call that throws before returning a promise is a rejection, the breaker on or off", async () => {
    for (const enabled of [true, false]) {
      const {breakers} = setup({enabled})
      const thrown = vaultError(503)
      const throwing = () => {
        throw thrown
      }

      await expect(breakers.fire('vault', 'read', () => Promise.resolve({value: 42}))).resolves.toEqual({value: 42})
      const fired = breakers.fire('vault', 'read', throwing as () => Promise<never>)
      expect(fired).toBeInstanceOf(Promise)
      await expect(fired).rejects.toBe(thrown)
      breakers.shutdown()
    }
  })
})

describe('half-open', () => {
  const waitForState = (b: Breakers, state: BreakerState) =>
    vi.waitFor(() => expect(b.state('vault')).toBe(state), {timeout: 5000, interval: 5})

  it('lets one trial call through after the timeout and closes when it succeeds', async () => {
    const {breakers, states} = setup({failure_threshold: 2, timeout: 20})
    await openVault(breakers, 2)

    await waitForState(breakers, 'half-open')
    await expect(breakers.fire('vault', 'read', ok)).resolves.toBe('ok')

    expect(breakers.state('vault')).toBe('closed')
    expect(states.filter(([service]) => service === 'vault').map(([, state]) => state)).toEqual([
      'closed',
      'open',
      'half-open',
      'closed',
    ])
  })

  it('reopens at once when the trial call fails, without waiting for the threshold', async () => {
    const {breakers} = setup({failure_threshold: 3, timeout: 20})
    await openVault(breakers, 3)
    await waitForState(breakers, 'half-open')

    await failTimes(breakers, 1, vaultError(502))

    expect(breakers.state('vault')).toBe('open')
    await expect(breakers.fire('vault', 'read', ok)).rejects.toMatchObject({code: 'CIRCUIT_OPEN'})
  })

  it('treats a client error on trial as the service answering', async () => {
    const {breakers} = setup({failure_threshold: 2, timeout: 20})
    await openVault(breakers, 2)
    await waitForState(breakers, 'half-open')

    await failTimes(breakers, 1, vaultError(404))

    expect(breakers.state('vault')).toBe('closed')
  })

  it('with max_requests 2 closes only after two good trials and refuses calls beyond them', async () => {
    const {breakers} = setup({failure_threshold: 2, timeout: 20, max_requests: 2})
    await openVault(breakers, 2)
    await waitForState(breakers, 'half-open')

    // Given the first trial call is still out
    let finish: (value: string) => void = () => {}
    const first = breakers.fire('vault', 'read', () => new Promise<string>((resolve) => (finish = resolve)))
    // Then a second call is refused while it is
    const refused = await breakers.fire('vault', 'read', ok).catch((error: unknown) => error)
    expect(refused).toMatchObject({code: 'CIRCUIT_OPEN', service: 'vault'})
    expect((refused as Error).message).toContain('half-open')

    // When the first trial succeeds the breaker is still on trial
    finish('ok')
    await expect(first).resolves.toBe('ok')
    expect(breakers.state('vault')).toBe('half-open')

    // And the second good trial closes it
    await expect(breakers.fire('vault', 'read', ok)).resolves.toBe('ok')
    expect(breakers.state('vault')).toBe('closed')
    await expect(breakers.fire('vault', 'read', ok)).resolves.toBe('ok')
  })

  it('with max_requests 2 reopens when the second trial fails', async () => {
    const {breakers} = setup({failure_threshold: 5, timeout: 20, max_requests: 2})
    await openVault(breakers, 5)
    await waitForState(breakers, 'half-open')

    await breakers.fire('vault', 'read', ok)
    await failTimes(breakers, 1, networkError('ECONNREFUSED'))

    expect(breakers.state('vault')).toBe('open')
  })
})

describe('isBreakerFailure', () => {
  it.each([
    ['Vault 503', vaultError(503), true],
    ['Vault 500', vaultError(500), true],
    ['Vault 429 (rate limit quota)', vaultError(429), false],
    ['Vault 408', vaultError(408), true],
    ['Vault 404', vaultError(404), false],
    ['Vault 403', vaultError(403), false],
    ['Vault 400', vaultError(400), false],
    ['connection reset', networkError('ECONNRESET'), true],
    ['connection refused', networkError('ECONNREFUSED'), true],
    ['node-vault timeout', networkError('ECONNABORTED'), true],
    ['DNS failure', networkError('ENOTFOUND'), true],
    ['DNS temporary failure', networkError('EAI_AGAIN'), true],
    ['invalid URL', networkError('ERR_INVALID_URL'), false],
    ['redirect refused', networkError('ERR_REDIRECT_REFUSED'), false],
    ['AWS ThrottlingException', awsError('ThrottlingException', 400), false],
    ['AWS TooManyRequestsException', awsError('TooManyRequestsException', 429), false],
    ['EC2-style RequestLimitExceeded', awsError('RequestLimitExceeded', 503), false],
    ['S3 SlowDown', awsError('SlowDown', 503), false],
    [
      'our deadline error wrapping a throttle',
      new SecretSyncError('THROTTLED', 'x', 1, {cause: vaultError(429)}),
      false,
    ],
    ['S3 RequestTimeout', awsError('RequestTimeout', 400), true],
    [
      'SDK TimeoutError',
      Object.assign(new Error('Request did not complete within 30000 ms'), {name: 'TimeoutError'}),
      true,
    ],
    ['AWS InternalServiceError', awsError('InternalServiceError', 500), true],
    ['AWS ResourceNotFoundException', awsError('ResourceNotFoundException', 400), false],
    ['AWS AccessDeniedException', awsError('AccessDeniedException', 400), false],
    ['S3 PreconditionFailed', awsError('PreconditionFailed', 412), false],
    ['Secrets Manager quota', awsError('LimitExceededException', 400), false],
    ['fetch failed (cause carries the code)', new TypeError('fetch failed', {cause: networkError('ECONNRESET')}), true],
    ['aborted by us', Object.assign(new Error('aborted'), {name: 'AbortError'}), false],
    ['our own error', new SecretSyncError('CIRCUIT_OPEN', 'sts circuit breaker is open'), false],
    ['our own error wrapping an outage', new SecretSyncError('X', 'wrapped', 1, {cause: vaultError(503)}), true],
    ['an unknown error', new Error('something odd'), true],
  ])('%s → %s', (_name, error, expected) => {
    expect(isBreakerFailure(error)).toBe(expected)
  })
})

describe('isRetryableVaultError: a Vault request is retried when the network failed, not when it could not be sent', () => {
  it.each([
    ['connection reset', networkError('ECONNRESET'), true],
    ['timeout', networkError('ECONNABORTED'), true],
    ['DNS temporary failure', networkError('EAI_AGAIN'), true],
    ['socket error', networkError('ERR_SOCKET_CLOSED'), true],
    ['invalid URL', networkError('ERR_INVALID_URL'), false],
    ['redirect refused', networkError('ERR_REDIRECT_REFUSED'), false],
    ['Vault 503', vaultError(503), true],
    ['Vault 403', vaultError(403), false],
  ])('%s → %s', (_name, error, expected) => {
    expect(isRetryableVaultError(error)).toBe(expected)
  })
})

describe('statusOf', () => {
  it.each([
    [vaultError(503), '503'],
    [awsError('ResourceNotFoundException', 400), '400'],
    [Object.assign(new Error('slow'), {name: 'TimeoutError'}), 'timeout'],
    [networkError('ECONNABORTED'), 'timeout'],
    [networkError('ECONNRESET'), 'error'],
    ['thrown string', 'error'],
  ])('%o → %s', (error, expected) => {
    expect(statusOf(error)).toBe(expected)
  })
})
