import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {parseJsonOutput, pipelineConfigText, runPipelineJson, secretsManagerWrites} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Stories of `secretsync pipeline` against the in-process Vault and AWS servers, run as a user runs the CLI.

const ACCOUNT = '111111111111'

let stack: TestStack
let config: string

interface SyncJson {
  dry_run: boolean
  summary: Record<string, number>
  targets: Array<{
    name: string
    status: string
    error: string | null
    snapshot_version: number | null
    changes: Array<{action: string; name: string; drift: boolean; keys_changed: string[]; error: string | null}>
  }>
}

async function writeConfig(
  extra = '',
  target = `  - name: app\n    account_id: "${ACCOUNT}"\n    imports: [base]\n    secret_prefix: app/\n`,
): Promise<string> {
  return writeTempConfig(pipelineConfigText({targets: target, extra: `logging: {level: warn}\n${extra}`}))
}

const pipeline = (...args: string[]) => runPipelineJson<SyncJson>(stack.env, config, args)

const writes = () => secretsManagerWrites(stack.controls)
const secretIn = (name: string) => stack.aws.secretsManager.getSecret(ACCOUNT, 'us-east-1', name)

beforeEach(async () => {
  stack = await startTestStack({
    vault: {
      secrets: {
        'secret/base/db': {user: 'app', password: 'pw-1'},
        'secret/base/api': {key: 'k-1'},
        'secret/base/nested/cfg': {list: [1, 2]},
      },
    },
    aws: {buckets: ['merge-store']},
  })
  config = await writeConfig()
})
afterEach(async () => {
  await stack.close()
})

describe('secretsync pipeline (merge + sync)', () => {
  it('first sync creates every secret with the ownership tags; an immediate re-run is all unchanged at zero writes and zero value reads', async () => {
    const first = await pipeline()
    expect(first.code).toBe(0)
    expect(first.json.summary).toMatchObject({
      targets: 1,
      failed_targets: 0,
      created: 3,
      updated: 0,
      unchanged: 0,
      failed: 0,
    })
    expect(first.json.targets[0]).toMatchObject({name: 'app', status: 'applied', snapshot_version: 1})
    const db = secretIn('app/db')
    expect(db?.tags).toMatchObject({'managed-by': 'secretsync', 'secretsync:target': 'app'})
    expect(JSON.parse(db?.value ?? '{}')).toEqual({user: 'app', password: 'pw-1'})
    expect(db?.description).toBe('Managed by secretsync — changes made here are overwritten')

    stack.controls.resetCounters()
    const second = await pipeline()
    expect(second.code).toBe(0)
    expect(second.json.summary).toMatchObject({created: 0, updated: 0, unchanged: 3})
    expect(second.json.targets[0]?.changes).toEqual([])
    expect(writes()).toBe(0)
    expect(stack.controls.count({service: 'secretsmanager', operation: 'BatchGetSecretValue'})).toBe(0)
    expect(stack.controls.count({service: 'secretsmanager', operation: 'GetSecretValue'})).toBe(0)
    // The applied record already vouches for everything: no lock and no record write either.
    expect(stack.controls.count({service: 's3', operation: 'PutObject'})).toBe(0)
  })

  it('one changed Vault value costs exactly one PutSecretValue', async () => {
    await pipeline()
    stack.vault.putSecret('secret/', 'base/db', {user: 'app', password: 'pw-2'})
    stack.controls.resetCounters()
    const {code, json} = await pipeline()
    expect(code).toBe(0)
    expect(json.targets[0]?.changes).toMatchObject([
      {action: 'update', name: 'app/db', drift: false, keys_changed: ['password']},
    ])
    expect(stack.controls.count({service: 'secretsmanager', operation: 'PutSecretValue'})).toBe(1)
    expect(writes()).toBe(1)
    expect(JSON.parse(secretIn('app/db')?.value ?? '{}')).toEqual({user: 'app', password: 'pw-2'})
  })

  it('an out-of-band edit in AWS is reported as drift, then corrected', async () => {
    await pipeline()
    stack.aws.secretsManager.putValueOutOfBand(ACCOUNT, 'us-east-1', 'app/api', JSON.stringify({key: 'edited by hand'}))
    const plan = await pipeline('--dry-run')
    expect(plan.json.targets[0]?.changes).toMatchObject([
      {action: 'update', name: 'app/api', drift: true, keys_changed: ['key']},
    ])
    expect(plan.json.summary.drifted).toBe(1)
    const applied = await pipeline()
    expect(applied.json.summary).toMatchObject({updated: 1, drifted: 1})
    expect(JSON.parse(secretIn('app/api')?.value ?? '{}')).toEqual({key: 'k-1'})
    const after = await pipeline()
    expect(after.json.summary).toMatchObject({updated: 0, drifted: 0, unchanged: 3})
  })

  it('an untagged same-named secret is a conflict and stays untouched; --adopt takes it over', async () => {
    stack.aws.secretsManager.seedSecret(ACCOUNT, 'us-east-1', {name: 'app/db', value: JSON.stringify({hand: 'made'})})
    const conflicted = await pipeline()
    expect(conflicted.code).toBe(3)
    expect(conflicted.json.targets[0]?.changes.find((c) => c.name === 'app/db')).toMatchObject({action: 'conflict'})
    expect(conflicted.json.summary).toMatchObject({conflicts: 1, created: 2})
    expect(JSON.parse(secretIn('app/db')?.value ?? '{}')).toEqual({hand: 'made'})
    expect(secretIn('app/db')?.tags['managed-by']).toBeUndefined()

    const adopted = await pipeline('--adopt')
    expect(adopted.code).toBe(0)
    expect(adopted.json.summary).toMatchObject({updated: 1, conflicts: 0})
    expect(secretIn('app/db')?.tags).toMatchObject({'managed-by': 'secretsync', 'secretsync:target': 'app'})
    expect(JSON.parse(secretIn('app/db')?.value ?? '{}')).toEqual({user: 'app', password: 'pw-1'})
  })

  it('orphans are deleted only with delete_orphans, with the recovery window, and never over max_deletions (held, exit 3)', async () => {
    await pipeline()
    stack.vault.deleteLatest('secret/', 'base/api')
    stack.vault.deleteLatest('secret/', 'base/nested/cfg')
    expect((await pipeline()).json.summary.deleted).toBe(0)
    const kept = secretIn('app/api')
    expect(kept, 'app/api must still exist').toBeDefined()
    expect(kept?.deletedDate).toBeUndefined()

    config = await writeConfig('sync: {delete_orphans: true, max_deletions: 1, recovery_window_days: 7}\n')
    stack.controls.resetCounters()
    // A real process: exit 3 as the shell sees it.
    const refusedRun = await runCli(['pipeline', '-c', config, '--json'], {env: stack.env, subprocess: true})
    const refused = {...refusedRun, json: parseJsonOutput<SyncJson>(refusedRun)}
    expect(refused.code).toBe(3)
    expect(refused.json.targets[0]?.error).toContain(
      'the run would delete 2 orphaned secrets, more than sync.max_deletions (1)',
    )
    expect(refused.json.targets[0]?.changes).toMatchObject([
      {action: 'delete', name: 'app/api', held: true},
      {action: 'delete', name: 'app/nested/cfg', held: true},
    ])
    expect(refused.json.summary).toMatchObject({deleted: 0, held: 2, failed: 2})
    expect(writes()).toBe(0)

    config = await writeConfig('sync: {delete_orphans: true, max_deletions: 5, recovery_window_days: 7}\n')
    const deleted = await pipeline()
    expect(deleted.code).toBe(0)
    expect(deleted.json.summary.deleted).toBe(2)
    const api = secretIn('app/api')
    expect(api?.deletedDate).toBeDefined()
    expect(((api?.deletionDate ?? 0) - (api?.deletedDate ?? 0)) / 86_400_000).toBe(7)
  })

  it('a desired secret scheduled for deletion is restored', async () => {
    await pipeline()
    const sm = stack.aws.secretsManager
    // Schedule it through the API as an operator would (the console's "delete").
    const {SecretsManagerClient, DeleteSecretCommand} = await import('@aws-sdk/client-secrets-manager')
    const client = new SecretsManagerClient({
      endpoint: stack.aws.url,
      region: 'us-east-1',
      credentials: stack.aws.credentials.issue({
        accountId: ACCOUNT,
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Op/s`,
        userId: 'OP',
      }),
    })
    await client.send(new DeleteSecretCommand({SecretId: 'app/db', RecoveryWindowInDays: 7}))
    expect(sm.getSecret(ACCOUNT, 'us-east-1', 'app/db')?.deletedDate).toBeDefined()
    const {code, json} = await pipeline()
    expect(code).toBe(0)
    expect(json.targets[0]?.changes).toMatchObject([{action: 'restore', name: 'app/db'}])
    expect(json.summary.restored).toBe(1)
    expect(sm.getSecret(ACCOUNT, 'us-east-1', 'app/db')?.deletedDate).toBeUndefined()
  })

  it('a target whose role lands in another account fails before writing anything', async () => {
    config = await writeConfig(
      '',
      `  - name: app\n    account_id: "${ACCOUNT}"\n    role_arn: arn:aws:iam::222222222222:role/SecretSync\n    imports: [base]\n`,
    )
    stack.controls.resetCounters()
    const {code, json} = await pipeline()
    expect(code).toBe(1)
    expect(json.targets[0]).toMatchObject({status: 'failed'})
    expect(json.targets[0]?.error).toContain(
      'expects account 111111111111 but role arn:aws:iam::222222222222:role/SecretSync acts in account 222222222222',
    )
    expect(stack.controls.count({service: 'secretsmanager'})).toBe(0)
  })

  it('--dry-run leaves every write counter of every service at zero', async () => {
    stack.controls.resetCounters()
    const {code, json} = await pipeline('--dry-run')
    expect(code).toBe(0)
    expect(json.dry_run).toBe(true)
    expect(json.summary.created).toBe(3)
    expect(writes()).toBe(0)
    expect(stack.controls.count({service: 's3', operation: 'PutObject'})).toBe(0)
    expect(stack.controls.count({service: 's3', operation: 'DeleteObject'})).toBe(0)
    expect(stack.controls.count({service: 'vault', operation: 'write'})).toBe(0)
  })

  it('API budget: K owned secrets, nothing changed: at most ceil(K/100) ListSecrets and no other Secrets Manager call', async () => {
    const secrets: Record<string, Record<string, unknown>> = {}
    for (let i = 0; i < 250; i++) secrets[`secret/many/s${String(i).padStart(3, '0')}`] = {i}
    for (const [path, data] of Object.entries(secrets))
      stack.vault.putSecret('secret/', path.slice('secret/'.length), data)
    const {readFile} = await import('node:fs/promises')
    // A high write_rate: the story is the API budget, not pacing (250 creates at the default 40/s take 6 s).
    config = await writeTempConfig(
      (await readFile(await writeConfig('sync: {write_rate: 1000}\n'), 'utf8')).replace(
        'mount: secret/base/',
        'mount: secret/many/',
      ),
    )
    expect((await pipeline()).json.summary.created).toBe(250)
    stack.controls.resetCounters()
    const {json} = await pipeline()
    expect(json.summary.unchanged).toBe(250)
    expect(stack.controls.count({service: 'secretsmanager', operation: 'ListSecrets'})).toBeLessThanOrEqual(
      Math.ceil(250 / 100),
    )
    expect(stack.controls.count({service: 'secretsmanager'})).toBe(
      stack.controls.count({service: 'secretsmanager', operation: 'ListSecrets'}),
    )
  })
})
