import {afterEach, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {parseJsonOutput, pipelineConfigText, secretsManagerWrites} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Stories of many accounts in one run: a broken account stays that account's problem (its own Secrets Manager
// breaker), and a re-run over many accounts costs one AssumeRole per account and one ListSecrets page per
// account-region, with no writes. Counts come from the test stack's counters, never from timings.

interface SyncJson {
  summary: Record<string, number>
  targets: Array<{name: string; account_id: string | null; region: string; status: string; error: string | null}>
}

let stack: TestStack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

const accountId = (i: number): string => String(100000000000 + i)

async function pipeline(s: TestStack, config: string, ...args: string[]) {
  const result = await runCli(['pipeline', '-c', config, '--json', ...args], {env: s.env, timeoutMs: 90_000})
  return {...result, json: parseJsonOutput<SyncJson>(result)}
}

describe('one failing account among several', () => {
  const SECRETS = {
    'secret/base/db': {user: 'app', password: 'pw-1'},
    'secret/base/api': {key: 'k-1'},
    'secret/base/mq': {url: 'amqp://mq'},
  }
  const BROKEN = accountId(2)
  const HEALTHY = [1, 3, 4, 5, 6].map(accountId)
  const THRESHOLD = 2
  const ATTEMPTS = 2

  // The broken account's three targets come first, so at concurrency 1 its breaker opens before any healthy
  // account is synced: one breaker for every account would then refuse them all.
  const targets = [
    ...['b1', 'b2', 'b3'].map((name) => ({name, account: BROKEN})),
    ...HEALTHY.map((account, i) => ({name: `h${i + 1}`, account})),
  ]
  const config = (concurrency: number) =>
    writeTempConfig(
      pipelineConfigText({
        targets: targets
          .map(
            ({name, account}) =>
              `  - {name: ${name}, account_id: "${account}", imports: [base], secret_prefix: ${name}/}\n`,
          )
          .join(''),
        extra:
          `logging: {level: warn}\nsync: {concurrency: ${concurrency}}\n` +
          `retry: {max_attempts: ${ATTEMPTS}, base_delay: 10ms}\n` +
          `circuit_breaker: {failure_threshold: ${THRESHOLD}, window: 60s, timeout: 60s}\n`,
      }),
    )

  for (const concurrency of [1, 32]) {
    it(`at sync.concurrency ${concurrency}: every other account is applied, the broken account's targets fail, exit 3`, async () => {
      // Given Secrets Manager in one account answering 500 to everything
      const s = (stack = await startTestStack({vault: {secrets: SECRETS}, aws: {buckets: ['merge-store']}}))
      s.controls.injectFault({service: 'secretsmanager', account: BROKEN, kind: '5xx', count: 100_000})

      // When the pipeline syncs all accounts
      const {code, json, stderr} = await pipeline(s, await config(concurrency), '--log-format', 'json')

      // Then every healthy account is applied with all its secrets, and only the broken account's targets failed
      expect(code, stderr).toBe(3)
      for (const [i, account] of HEALTHY.entries()) {
        const name = `h${i + 1}`
        expect(json.targets.find((t) => t.name === name)).toMatchObject({status: 'applied', error: null})
        expect(s.aws.secretsManager.listNames(account, 'us-east-1')).toEqual([
          `${name}/api`,
          `${name}/db`,
          `${name}/mq`,
        ])
      }
      const broken = json.targets.filter((t) => t.account_id === BROKEN)
      expect(broken.map((t) => t.status)).toEqual(['failed', 'failed', 'failed'])
      expect(json.summary).toMatchObject({targets: 8, failed_targets: 3, created: 3 * HEALTHY.length})
      expect(secretsManagerWrites(s.controls, BROKEN)).toBe(0)
      // And no healthy target's error mentions a breaker: nothing was refused outside the broken account
      expect(
        json.targets.filter((t) => /circuit breaker/.test(t.error ?? '')).every((t) => t.account_id === BROKEN),
      ).toBe(true)

      if (concurrency === 1) {
        // And circuit_breaker applies per account-region: b1 and b2 each failed one operation (ListSecrets, after
        // max_attempts calls), which opened the broken account's breaker, so b3 was refused before any request,
        // with an error naming the account and region
        expect(s.controls.count({service: 'secretsmanager', account: BROKEN})).toBe(THRESHOLD * ATTEMPTS)
        expect(broken.map((t) => t.error)).toEqual([
          expect.stringMatching(/InternalServiceError|500/),
          expect.stringMatching(/InternalServiceError|500/),
          expect.stringMatching(
            /secretsmanager \(account 100000000002, us-east-1\) circuit breaker is open after 2 failures within 1m: ListSecrets not attempted/,
          ),
        ])
        const opened = stderr
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>)
          .filter((line) => line.message === 'circuit breaker opened')
        expect(opened).toEqual([
          expect.objectContaining({service: 'secretsmanager', account: BROKEN, region: 'us-east-1'}),
        ])
      }
    })
  }
})

describe('many accounts, nothing changed', () => {
  it('a no-change re-run over 50 accounts: exactly one AssumeRole per account, one ListSecrets page per account-region, no writes', async () => {
    // Given 50 accounts with one target each, the first two also with a target in a second region, and 20 secrets
    const ACCOUNTS = Array.from({length: 50}, (_, i) => accountId(i + 1))
    const K = 20
    const secrets = Object.fromEntries(
      Array.from({length: K}, (_, i) => [`secret/base/s${String(i).padStart(2, '0')}`, {n: i}]),
    )
    const s = (stack = await startTestStack({vault: {secrets}, aws: {buckets: ['merge-store']}}))
    const targets = ACCOUNTS.map(
      (account, i) => `  - {name: t${i}, account_id: "${account}", imports: [base], secret_prefix: app/}\n`,
    ).join('')
    const secondRegion = ACCOUNTS.slice(0, 2)
      .map(
        (account, i) =>
          `  - {name: eu${i}, account_id: "${account}", region: eu-west-1, imports: [base], secret_prefix: app/}\n`,
      )
      .join('')
    const config = await writeTempConfig(
      pipelineConfigText({targets: targets + secondRegion, extra: 'logging: {level: warn}\nsync: {concurrency: 16}\n'}),
    )
    const first = await pipeline(s, config)
    expect(first.code, first.stderr).toBe(0)
    expect(first.json.summary).toMatchObject({created: K * 52, failed_targets: 0})

    // When the pipeline runs again with nothing changed
    s.controls.resetCounters()
    const assumedBefore = s.aws.sts.assumeRoleCalls().length
    const rerun = await pipeline(s, config)

    // Then every target is applied and unchanged, and nothing was written anywhere
    expect(rerun.code, rerun.stderr).toBe(0)
    expect(rerun.json.summary).toMatchObject({targets: 52, failed_targets: 0, unchanged: K * 52})
    expect(secretsManagerWrites(s.controls)).toBe(0)
    // And each account's role was assumed exactly once, for both of its regions
    const assumed = s.aws.sts.assumeRoleCalls().slice(assumedBefore)
    const perAccount = new Map<string, number>()
    for (const call of assumed) {
      const account = /^arn:aws:iam::(\d{12}):/.exec(call.roleArn)?.[1] ?? call.roleArn
      perAccount.set(account, (perAccount.get(account) ?? 0) + 1)
    }
    expect(Object.fromEntries(perAccount)).toEqual(Object.fromEntries(ACCOUNTS.map((account) => [account, 1])))
    expect(s.controls.count({service: 'sts', operation: 'AssumeRole'})).toBe(ACCOUNTS.length)
    // And each account-region was listed with ⌈K/100⌉ ListSecrets pages
    for (const account of ACCOUNTS) {
      expect(
        s.controls.count({service: 'secretsmanager', operation: 'ListSecrets', account, region: 'us-east-1'}),
        account,
      ).toBe(Math.ceil(K / 100))
    }
    for (const account of ACCOUNTS.slice(0, 2))
      expect(
        s.controls.count({service: 'secretsmanager', operation: 'ListSecrets', account, region: 'eu-west-1'}),
      ).toBe(1)
  })
})
