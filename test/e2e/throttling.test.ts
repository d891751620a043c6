import {afterEach, describe, expect, it} from 'vitest'
import {MANAGED_DESCRIPTION} from '../../src/sync/metadata.js'
import {runCli, writeTempConfig} from '../support/cli.js'
import {parseJsonOutput, pipelineConfigText, secretsManagerWrites} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Stories of an operator who shares an AWS account (and a Vault) with other callers: the quota left is below
// what secretsync was told to use, and the run slows down to what is left instead of failing secrets
// (issue 15). Sizes are scaled down from the (500 creates, 300 updates) to keep the suite fast; the
// bench (bench/scenarios/shared-quota.ts) runs the full sizes and measures achieved vs available capacity.
// Outcomes and counts only, never durations.

const A = '111111111111'
const B = '222222222222'
const REGION = 'us-east-1'
const WRITES = ['CreateSecret', 'PutSecretValue', 'UpdateSecret', 'DeleteSecret']

interface Throttling {
  account_id: string
  region: string
  write_rate: {configured: number; final: number; lowest: number}
  calls: number
  throttled: number
  throttled_by_operation: Record<string, number>
}

interface SyncJson {
  summary: Record<string, number>
  targets: Array<{name: string; status: string; error: string | null; changes: Array<{error: string | null}>}>
  throttling: Throttling[]
}

let stack: TestStack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

const secretPath = (i: number): string => `svc-${String(i).padStart(4, '0')}/config`
const valueOf = (i: number, generation: number) => ({user: `u${i}`, password: `pw-${i}-${generation}`})

/** A stack whose Vault holds `count` secrets under secret/base/ (generation 1 values). */
async function start(count: number): Promise<TestStack> {
  const secrets = Object.fromEntries(
    Array.from({length: count}, (_, i) => [`secret/base/${secretPath(i)}`, valueOf(i, 1)]),
  )
  stack = await startTestStack({vault: {secrets}, aws: {buckets: ['merge-store']}})
  // A little latency so calls overlap as they do against AWS.
  stack.controls.setLatency({service: 'secretsmanager', ms: 2})
  return stack
}

/** The usual e2e config with `sync: {<sync>}` and further top-level YAML (`extra`). */
const config = (sync: string, extra = ''): Promise<string> =>
  writeTempConfig(
    pipelineConfigText({
      targets: `  - {name: app, account_id: "${A}", region: ${REGION}, imports: [base], secret_prefix: app/}\n`,
      extra: `sync: {${sync}}\nlogging: {level: warn}\n${extra}`,
    }),
  )

async function pipeline(s: TestStack, file: string) {
  const result = await runCli(['pipeline', '-c', file, '--json'], {env: s.env, timeoutMs: 120_000})
  return {...result, json: parseJsonOutput<SyncJson>(result)}
}

/** Every secret in AWS holds exactly what Vault holds (the oracle), and nothing else is there. */
function expectAwsEqualsVault(s: TestStack, count: number, generation: number, account = A): void {
  const names = s.aws.secretsManager.listNames(account, REGION)
  expect(names).toEqual(Array.from({length: count}, (_, i) => `app/${secretPath(i)}`))
  for (let i = 0; i < count; i++) {
    const stored = s.aws.secretsManager.getSecret(account, REGION, `app/${secretPath(i)}`)?.value
    expect(JSON.parse(stored ?? 'null'), secretPath(i)).toEqual(valueOf(i, generation))
  }
}

/** The writes of the quota group that reached the handler: successful ones are those not throttled. */
const succeededWrites = (s: TestStack): number =>
  secretsManagerWrites(s.controls, A) - s.controls.throttled({service: 'secretsmanager', account: A})

const shareOfQuota = (ratePerSecond: number, otherCallersPerSecond = 0) => ({
  service: 'secretsmanager',
  operations: WRITES,
  ratePerSecond,
  otherCallersPerSecond,
})

describe('throttling is never a failure: the write rate adapts to the quota actually left', () => {
  it('write_rate 100 against a 50/s write quota: every create lands, exit 0, few throttled calls', async () => {
    // Given an account whose combined write quota is 50/s, and a config that asks for 100 writes a second
    const count = 150
    const s = await start(count)
    s.controls.setQuota(shareOfQuota(50))

    // When the first sync creates every secret
    const {code, json, stderr} = await pipeline(s, await config('write_rate: 100'))

    // Then every secret was created with its value, none failed, and the run says how the rate adapted
    expect(code, stderr).toBe(0)
    expect(json.summary).toMatchObject({created: count, failed: 0, failed_targets: 0})
    expectAwsEqualsVault(s, count, 1)
    // (How often it was throttled depends on how fast this machine sends: a bound, never an exact count.)
    const throttled = s.controls.throttled({service: 'secretsmanager', account: A})
    expect(throttled).toBeLessThanOrEqual(0.25 * succeededWrites(s))
    const [report] = json.throttling
    expect(report).toMatchObject({account_id: A, region: REGION, throttled})
    expect(report?.write_rate.configured).toBe(100)
    expect(report?.write_rate.lowest).toBeLessThanOrEqual(100)
    expect(report?.write_rate.final).toBeLessThanOrEqual(100)
    // The rate was cut exactly when something was throttled (how often depends on this machine's speed)
    expect((report?.write_rate.lowest ?? 100) < 100).toBe(throttled > 0)
    expect(report?.throttled_by_operation.CreateSecret).toBe(throttled)
  })

  it('write_rate 48 while another writer uses half the quota (25/s left): every create lands, exit 0', async () => {
    const count = 120
    const s = await start(count)
    s.controls.setQuota(shareOfQuota(50, 25))

    const {code, json, stderr} = await pipeline(s, await config('write_rate: 48'))

    expect(code, stderr).toBe(0)
    expect(json.summary).toMatchObject({created: count, failed: 0, failed_targets: 0})
    expectAwsEqualsVault(s, count, 1)
    const throttled = s.controls.throttled({service: 'secretsmanager', account: A})
    expect(throttled).toBeLessThanOrEqual(0.25 * succeededWrites(s))
    expect(json.throttling[0]?.throttled).toBe(throttled)
    expect(json.throttling[0]?.write_rate.final).toBeLessThanOrEqual(48)
  })

  it('updates at write_rate 48 against 20/s: every value is updated, exit 0', async () => {
    // Given secrets this target owns in AWS with the previous values, and Vault holding new ones
    const count = 80
    const s = await start(count)
    for (let i = 0; i < count; i++)
      s.aws.secretsManager.seedSecret(A, REGION, {
        name: `app/${secretPath(i)}`,
        value: JSON.stringify(valueOf(i, 0)),
        description: MANAGED_DESCRIPTION,
        tags: {'managed-by': 'secretsync', 'secretsync:target': 'app'},
      })
    s.controls.setQuota(shareOfQuota(20))

    const {code, json, stderr} = await pipeline(s, await config('write_rate: 48'))

    expect(code, stderr).toBe(0)
    expect(json.summary).toMatchObject({updated: count, created: 0, failed: 0, failed_targets: 0})
    expectAwsEqualsVault(s, count, 1)
    expect(s.controls.count({service: 'secretsmanager', operation: 'PutSecretValue'})).toBe(
      count + s.controls.throttled({service: 'secretsmanager', operation: 'PutSecretValue'}),
    )
    expect(s.controls.throttled({service: 'secretsmanager', account: A})).toBeLessThanOrEqual(0.25 * succeededWrites(s))
  })

  it('a quota that never leaves room fails its secrets after sync.throttle_deadline, naming the account-region', async () => {
    // Given other callers use the whole write quota
    const s = await start(3)
    s.controls.setQuota({...shareOfQuota(50, 50), burst: 1})

    const {code, json} = await pipeline(s, await config('write_rate: 10, throttle_deadline: 1s'))

    // Then the run is a failure, and each secret says which account-region was throttled and for how long
    expect(code).toBe(1)
    expect(json.summary).toMatchObject({created: 0, failed: 3})
    const errors = json.targets[0]?.changes.map((change) => change.error) ?? []
    expect(errors).toHaveLength(3)
    for (const error of errors)
      expect(error).toMatch(new RegExp(`secretsmanager writes of ${A}/${REGION} was throttled for \\d`))
    // No value reached an error message
    expect(JSON.stringify(json)).not.toContain('pw-')
  })
})

describe('throttling in one account does not slow another', () => {
  it('two accounts, only one of them short of quota: both are synced exactly, and only the short one is slowed', async () => {
    // Given two targets in two accounts, and an account A whose write quota is 20/s while B has room to spare
    const count = 60
    const s = await start(count)
    s.controls.setQuota({...shareOfQuota(20), account: A})
    const file = await writeTempConfig(
      pipelineConfigText({
        targets:
          `  - {name: app, account_id: "${A}", region: ${REGION}, imports: [base], secret_prefix: app/}\n` +
          `  - {name: other, account_id: "${B}", region: ${REGION}, imports: [base], secret_prefix: app/}\n`,
        extra: 'sync: {write_rate: 48, concurrency: 2}\nlogging: {level: warn}\n',
      }),
    )

    // When one run creates every secret in both accounts
    const {code, json, stderr} = await pipeline(s, file)

    // Then both accounts hold exactly what Vault holds
    expect(code, stderr).toBe(0)
    expect(json.summary).toMatchObject({created: 2 * count, failed: 0, failed_targets: 0})
    expectAwsEqualsVault(s, count, 1)
    expectAwsEqualsVault(s, count, 1, B)
    // And only A's rate was cut: B was never throttled and kept the configured rate throughout
    expect(s.controls.throttled({service: 'secretsmanager', account: B})).toBe(0)
    const byAccount = new Map(json.throttling.map((report) => [report.account_id, report]))
    expect(byAccount.get(B)).toMatchObject({throttled: 0, write_rate: {configured: 48, final: 48, lowest: 48}})
    const a = byAccount.get(A)
    expect(a?.throttled).toBe(s.controls.throttled({service: 'secretsmanager', account: A}))
    expect(a?.write_rate.lowest).toBeLessThan(48)
  })
})

describe('the merge store answering SlowDown', () => {
  it('is slowed down for, not failed: snapshots and applied records are written, exit 0', async () => {
    // Given S3 allows one PutObject at once and 10 a second
    const s = await start(5)
    s.controls.setQuota({service: 's3', operation: 'PutObject', ratePerSecond: 10, burst: 1})

    const {code, json, stderr} = await pipeline(
      s,
      await config('write_rate: 40', 'circuit_breaker: {failure_threshold: 2, window: 10s}\n'),
    )

    expect(code, stderr).toBe(0)
    expect(s.controls.throttled({service: 's3', operation: 'PutObject'})).toBeGreaterThan(0)
    expect(json.summary).toMatchObject({created: 5, failed: 0, failed_targets: 0})
    expectAwsEqualsVault(s, 5, 1)
    expect(s.aws.s3.listKeys('merge-store')).toEqual(
      expect.arrayContaining(['app/v1.json', 'app/latest.json', `app/applied/${A}-${REGION}.json`]),
    )
  })
})

describe('a Vault rate-limit quota slows the walk down instead of failing it', () => {
  it('a walk that meets a burst of 429s syncs every secret, and the Vault breaker stays closed', async () => {
    // Given a Vault with a rate-limit quota far below what vault.concurrency would send, answering 429 with
    // Retry-After, and a breaker that would open after 5 failures
    const count = 150
    const s = await start(count)
    s.controls.setQuota({service: 'vault', ratePerSecond: 60, burst: 5, responseHeaders: true})

    const {code, json, stderr} = await pipeline(
      s,
      await config('write_rate: 200', 'circuit_breaker: {failure_threshold: 5, window: 10s}\n'),
    )

    // Then the 429s were waited out: every secret synced with its value
    expect(code, stderr).toBe(0)
    expect(s.controls.throttled({service: 'vault'})).toBeGreaterThan(5)
    expect(json.summary).toMatchObject({created: count, failed: 0, failed_targets: 0})
    expectAwsEqualsVault(s, count, 1)
  })
})
