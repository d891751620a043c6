import {afterEach, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {parseJsonOutput, pipelineConfigText} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// What a first sync costs in ListSecrets: the target's own listing, then one question for every desired name it
// did not return (does a same-named secret exist anyway?). One listing of the prefix answers for all names at once;
// looking names up answers ten a call. Counts come from the test stack's counters, never from timings.

const ACCOUNT = '111111111111'
const SECRETS = 250

interface SyncJson {
  summary: Record<string, number>
  targets: Array<{changes: Array<{action: string; name: string}>}>
}

let stack: TestStack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

const vaultSecrets = (): Record<string, Record<string, unknown>> =>
  Object.fromEntries(Array.from({length: SECRETS}, (_, i) => [`secret/base/s${String(i).padStart(3, '0')}`, {n: i}]))

async function firstSync(awsSecrets: Array<{account: string; name: string; value: Record<string, unknown>}>) {
  stack = await startTestStack({vault: {secrets: vaultSecrets()}, aws: {buckets: ['merge-store'], secrets: awsSecrets}})
  const config = await writeTempConfig(
    pipelineConfigText({
      targets: `  - {name: app, account_id: "${ACCOUNT}", imports: [base], secret_prefix: app/}\n`,
      extra: 'logging: {level: warn}\n',
    }),
  )
  const result = await runCli(['pipeline', '-c', config, '--json', '--dry-run'], {env: stack.env, timeoutMs: 90_000})
  return {
    result,
    json: parseJsonOutput<SyncJson>(result),
    listSecrets: stack.controls.count({service: 'secretsmanager', operation: 'ListSecrets'}),
  }
}

describe('first sync of a target into an account', () => {
  it('Given an empty prefix, then 250 new names cost its own listing + 1 prefix page, not 1 + 25 lookups', async () => {
    const run = await firstSync([{account: ACCOUNT, name: 'app/s007', value: {hand: 'made'}}])
    expect(run.result.code, run.result.stderr).toBe(3)
    // The unowned same-named secret is still found (a conflict), the rest are creates.
    expect(run.json.summary).toMatchObject({created: SECRETS - 1, conflicts: 1})
    expect(run.json.targets[0]?.changes.find((c) => c.name === 'app/s007')?.action).toBe('conflict')
    expect(run.listSecrets).toBe(1 + 1)
  })

  it('Given a prefix crowded with other secrets, then the prefix listing gives up and the names are looked up', async () => {
    // 3,000 unrelated secrets under the same prefix: listing them would take 30 pages, more than 25 lookups.
    const crowd = Array.from({length: 3000}, (_, i) => ({account: ACCOUNT, name: `app/other-${i}`, value: {i}}))
    const run = await firstSync([...crowd, {account: ACCOUNT, name: 'app/s100', value: {hand: 'made'}}])
    expect(run.json.summary).toMatchObject({created: SECRETS - 1, conflicts: 1})
    // 1 own listing + 24 prefix pages given up + 25 lookups: never more than twice the lookups alone.
    expect(run.listSecrets).toBe(1 + 24 + 25)
  })
})
