import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {parseJsonOutput, secretsManagerWrites} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Issue 10 soak: several overlapping sources sharing the Vault limiter, delete_orphans on, Vault unchanged.
// Before the walk fix, runs exited 0 with most secrets unread, wrote wrong merged values and deleted secrets.

const PROD = '111111111111'
const STAGING = '222222222222'
const FOLDERS = 25
const PER_FOLDER = 3
const RUNS = 5

interface SyncJson {
  summary: Record<string, number>
  targets: Array<{name: string; status: string; error: string | null; changes: Array<{action: string; name: string}>}>
}

let stack: TestStack
let config: string

/** The three sources' trees: the same relative paths in each, so every secret of `prod` is a three-way merge. */
function vaultSecrets(): Record<string, Record<string, unknown>> {
  const secrets: Record<string, Record<string, unknown>> = {}
  for (let f = 0; f < FOLDERS; f++) {
    for (let k = 0; k < PER_FOLDER; k++) {
      const path = `svc${f}/key${k}`
      secrets[`secret/base/${path}`] = {
        shared: `base-${f}-${k}`,
        base_only: f * 10 + k,
        nested: {from: 'base', keep: true},
      }
      secrets[`secret/prod/${path}`] = {shared: `prod-${f}-${k}`, nested: {from: 'prod'}}
      if (k === 0) secrets[`teams/platform/kv/app/${path}`] = {team: `team-${f}`, nested: {from: 'team'}}
    }
    secrets[`secret/prod/only-prod/p${f}`] = {p: f}
  }
  return secrets
}

/** The oracle: each target's desired state, merged by hand from the fixture (later import wins, nested objects merge). */
function desired(): {prod: Map<string, unknown>; staging: Map<string, unknown>} {
  const prod = new Map<string, unknown>()
  const staging = new Map<string, unknown>()
  for (let f = 0; f < FOLDERS; f++) {
    for (let k = 0; k < PER_FOLDER; k++) {
      const path = `svc${f}/key${k}`
      const base = {shared: `base-${f}-${k}`, base_only: f * 10 + k, nested: {from: 'base', keep: true}}
      staging.set(`staging/${path}`, {...base, environment: 'staging'})
      const team = k === 0 ? {team: `team-${f}`} : {}
      prod.set(`prod/${path}`, {
        ...base,
        shared: `prod-${f}-${k}`,
        ...team,
        nested: {from: k === 0 ? 'team' : 'prod', keep: true},
        environment: 'production',
      })
    }
    prod.set(`prod/only-prod/p${f}`, {p: f, environment: 'production'})
  }
  return {prod, staging}
}

beforeAll(async () => {
  const owned = (target: string) => ({'managed-by': 'secretsync', 'secretsync:target': target})
  stack = await startTestStack({
    vault: {mounts: ['secret/', 'teams/platform/kv/'], secrets: vaultSecrets()},
    aws: {
      buckets: ['merge-store'],
      secrets: [
        // Left over from an earlier Vault state: owned orphans, deleted by the first run only
        {account: PROD, name: 'prod/retired/old', value: {old: true}, tags: owned('production')},
        {account: STAGING, name: 'staging/retired/old', value: {old: true}, tags: owned('staging')},
        // Not owned: never touched
        {account: PROD, name: 'prod/hand-made', value: {hand: true}},
      ],
    },
  })
  config = await writeTempConfig(`vault:
  address: \${VAULT_ADDR}
  auth: {method: token}
  concurrency: 4
vault_sources:
  - {name: base, mount: secret/base/}
  - {name: prod, mount: secret/prod/}
  - {name: team, mount: teams/platform/kv/app/}
merge_store:
  bucket: merge-store
  endpoint: \${AWS_ENDPOINT_URL}
aws:
  region: us-east-1
  endpoint: \${AWS_ENDPOINT_URL}
  role_pattern: arn:aws:iam::{{account_id}}:role/SecretSync
sync: {delete_orphans: true, max_deletions: 25, recovery_window_days: 7}
targets:
  - name: staging
    account_id: "${STAGING}"
    imports: [base]
    secret_prefix: staging/
    overrides: {environment: staging}
  - name: production
    account_id: "${PROD}"
    imports: [base, prod, team]
    secret_prefix: prod/
    overrides: {environment: production}
logging: {level: warn}
`)
})
afterAll(async () => stack.close())

describe('several overlapping sources with delete_orphans and Vault unchanged', () => {
  it(`${RUNS} consecutive runs: the first converges, the rest write and delete nothing, and AWS holds exactly the desired state`, async () => {
    const oracle = desired()
    const summaries: Array<Record<string, number>> = []
    const writesPerRun: number[] = []
    for (let run = 1; run <= RUNS; run++) {
      stack.controls.resetCounters()
      const result = await runCli(['pipeline', '-c', config, '--json'], {env: stack.env})
      const json = parseJsonOutput<SyncJson>(result)
      expect(result.code, `run ${run}: ${result.stderr} ${result.stdout.slice(0, 2000)}`).toBe(0)
      expect(json.targets.map((t) => [t.name, t.status, t.error])).toEqual([
        ['staging', 'applied', null],
        ['production', 'applied', null],
      ])
      summaries.push(json.summary)
      writesPerRun.push(secretsManagerWrites(stack.controls))
    }
    const total = oracle.prod.size + oracle.staging.size
    expect(summaries[0]).toMatchObject({created: total, updated: 0, deleted: 2, failed: 0, conflicts: 0})
    for (const [i, summary] of summaries.slice(1).entries()) {
      expect(summary, `run ${i + 2}`).toMatchObject({
        created: 0,
        updated: 0,
        restored: 0,
        deleted: 0,
        unchanged: total,
        failed: 0,
      })
    }
    expect(writesPerRun.slice(1)).toEqual(Array.from({length: RUNS - 1}, () => 0))

    // AWS holds exactly the oracle's secrets (values compared), the hand-made one untouched, the orphans scheduled for deletion
    for (const [account, want] of [
      [PROD, oracle.prod],
      [STAGING, oracle.staging],
    ] as const) {
      const names = stack.aws.secretsManager.listNames(account, 'us-east-1').filter((name) => name !== 'prod/hand-made')
      expect(names).toEqual([...want.keys()].sort())
      for (const [name, value] of want)
        expect(
          JSON.parse(stack.aws.secretsManager.getSecret(account, 'us-east-1', name)?.value ?? 'null'),
          name,
        ).toEqual(value)
    }
    expect(
      JSON.parse(stack.aws.secretsManager.getSecret(PROD, 'us-east-1', 'prod/hand-made')?.value ?? 'null'),
    ).toEqual({hand: true})
    expect(stack.aws.secretsManager.listNames(PROD, 'us-east-1', {includePlannedDeletion: true})).toContain(
      'prod/retired/old',
    )
  }, 240_000)
})
