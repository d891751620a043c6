import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../test/support/cli.js'
import {awsState, type SecretState} from './support/aws-state.js'
import {itConfigText, startItStack, uniqueName, type ItStack} from './support/harness.js'

// Story: a platform team keeps two AWS accounts in step with Vault. team-a lives in account A (aws.role_pattern),
// team-b in account B (its own role_arn) and imports team-a; shared runs as the base identity. Each step is one
// `secretsync pipeline` run of the built CLI; state is checked through the AWS SDK (moto counts no calls, so
// "no write" means "nothing changed": the same VersionIds, the same store objects).

const A = '111111111111'
const B = '222222222222'

interface Change {
  action: string
  name: string
  drift: boolean
  keys_changed: string[]
  error: string | null
}
interface SyncJson {
  summary: Record<string, number>
  targets: Array<{
    name: string
    status: string
    error: string | null
    snapshot_version: number | null
    changes: Change[]
  }>
}

let stack: ItStack
let aws: ReturnType<typeof awsState>
let bucket: string
let root: string
let prefix: string
let config: string

const vaultPath = (relative: string) => `secret/${root}/${relative}`

beforeAll(async () => {
  stack = await startItStack()
  aws = awsState(stack)
  bucket = uniqueName('it-sync')
  root = uniqueName('it')
  // One prefix per run keeps a long-lived compose stack's accounts apart between runs.
  prefix = `${root}/`
  await stack.createBucket(bucket)
  await stack.writeVaultSecret(vaultPath('db'), {user: 'app', password: 'pw-1', port: 5432})
  await stack.writeVaultSecret(vaultPath('api'), {key: 'k-1'})
  config = await writeTempConfig(
    itConfigText({
      root,
      bucket,
      targets: `  - {name: team-a, account_id: "${A}", imports: [base], secret_prefix: ${prefix}}
  - {name: team-b, role_arn: "arn:aws:iam::${B}:role/SecretSync", imports: [team-a], overrides: {env: b}, secret_prefix: ${prefix}}
  - {name: shared, imports: [base], secret_prefix: ${prefix}shared/}
`,
      extra: `sync:
  delete_orphans: true
  recovery_window_days: 7
logging: {level: warn}
`,
    }),
  )
})

afterAll(async () => {
  aws.close()
  await stack.close()
})

const pipeline = async (...extra: string[]) => {
  const result = await runCli(['pipeline', '-c', config, '--json', ...extra], {env: stack.env})
  let json: SyncJson
  try {
    json = JSON.parse(result.stdout) as SyncJson
  } catch {
    throw new Error(`no JSON on stdout (exit ${result.code}): ${result.stderr}`)
  }
  return {...result, json}
}
const target = (json: SyncJson, name: string) => json.targets.find((t) => t.name === name)
const versionIds = (secrets: Map<string, SecretState>) =>
  Object.fromEntries([...secrets].map(([name, s]) => [name, s.versionId]))
const inA = () => aws.secrets(A, prefix)
const name = (relative: string) => `${prefix}${relative}`

describe('merge + sync into two accounts', () => {
  it('the first run creates every secret in both accounts with the ownership tags', async () => {
    const run = await pipeline()
    expect(run.code, run.stderr).toBe(0)
    expect(run.json.targets.map((t) => [t.name, t.status, t.snapshot_version])).toEqual([
      ['team-a', 'applied', 1],
      ['shared', 'applied', 1],
      ['team-b', 'applied', 1],
    ])
    expect(run.json.summary).toMatchObject({created: 6, failed: 0, failed_targets: 0})

    // Each account holds its own target's secrets: moto and the fakes map AssumeRole credentials to the role's account
    const a = await inA()
    expect([...a.keys()].sort()).toEqual([name('api'), name('db')])
    expect(a.get(name('db'))?.tags).toMatchObject({'managed-by': 'secretsync', 'secretsync:target': 'team-a'})
    expect(await aws.value(A, name('db'))).toEqual({user: 'app', password: 'pw-1', port: 5432})
    expect(await aws.value(B, name('db'))).toEqual({user: 'app', password: 'pw-1', port: 5432, env: 'b'})
    expect((await aws.secrets(B, prefix)).get(name('api'))?.tags).toMatchObject({'secretsync:target': 'team-b'})
    expect([...(await aws.secrets(undefined, `${prefix}shared/`)).keys()].sort()).toEqual([
      name('shared/api'),
      name('shared/db'),
    ])
  })

  it('lays the merge store out as documented, every object server-side encrypted, no lock left behind', async () => {
    const keys = [...(await aws.objects(bucket, 'merged/')).keys()].sort()
    expect(keys).toEqual(
      [
        `merged/shared/applied/${stack.baseAccountId}-us-east-1.json`,
        'merged/shared/latest.json',
        'merged/shared/v1.json',
        `merged/team-a/applied/${A}-us-east-1.json`,
        'merged/team-a/latest.json',
        'merged/team-a/v1.json',
        `merged/team-b/applied/${B}-us-east-1.json`,
        'merged/team-b/latest.json',
        'merged/team-b/v1.json',
      ].sort(),
    )
    for (const key of keys) expect((await aws.head(bucket, key)).ServerSideEncryption, key).toBe('AES256')
    expect(await aws.json(bucket, 'merged/team-a/latest.json')).toEqual({version: 1})
    const snapshot = (await aws.json(bucket, 'merged/team-b/v1.json')) as {
      format: number
      target: string
      version: number
      secrets: Record<string, unknown>
    }
    expect(snapshot).toMatchObject({
      format: 1,
      target: 'team-b',
      version: 1,
      secrets: {db: {user: 'app', password: 'pw-1', port: 5432, env: 'b'}, api: {key: 'k-1', env: 'b'}},
    })
    const applied = (await aws.json(bucket, `merged/team-a/applied/${A}-us-east-1.json`)) as {
      version: number
      secrets: Record<string, {version_id: string}>
    }
    expect(applied.version).toBe(1)
    expect(applied.secrets[name('db')]?.version_id).toBe((await inA()).get(name('db'))?.versionId)
  })

  it('an unchanged re-run changes nothing anywhere', async () => {
    const [before, objectsBefore] = [versionIds(await inA()), await aws.objects(bucket, 'merged/')]
    const run = await pipeline()
    expect(run.code).toBe(0)
    expect(run.json.summary).toMatchObject({created: 0, updated: 0, deleted: 0, unchanged: 6})
    expect(run.json.targets.flatMap((t) => t.changes)).toEqual([])
    expect(versionIds(await inA())).toEqual(before)
    expect(await aws.objects(bucket, 'merged/')).toEqual(objectsBefore)
  })

  it('one changed Vault value is one new version of that one secret in each account that holds it', async () => {
    const before = versionIds(await inA())
    await stack.writeVaultSecret(vaultPath('db'), {user: 'app', password: 'pw-2', port: 5432})
    const run = await pipeline()
    expect(run.code).toBe(0)
    expect(target(run.json, 'team-a')?.changes).toMatchObject([
      {action: 'update', name: name('db'), drift: false, keys_changed: ['password']},
    ])
    expect(target(run.json, 'team-b')?.changes).toMatchObject([
      {action: 'update', name: name('db'), keys_changed: ['password']},
    ])
    const after = versionIds(await inA())
    expect(after[name('api')]).toBe(before[name('api')])
    expect(after[name('db')]).not.toBe(before[name('db')])
    expect(await aws.value(B, name('db'))).toMatchObject({password: 'pw-2'})
  })

  it('an edit made outside secretsync is reported as drift and corrected', async () => {
    await aws.putOutOfBand(A, name('api'), {key: 'hand-edited'})
    const run = await pipeline()
    expect(run.code).toBe(0)
    expect(target(run.json, 'team-a')?.changes).toMatchObject([{action: 'update', name: name('api'), drift: true}])
    expect(run.json.summary.drifted).toBe(1)
    expect(await aws.value(A, name('api'))).toEqual({key: 'k-1'})
  })

  it('a same-named secret secretsync does not own is a conflict, left alone; --adopt takes it over', async () => {
    await stack.createSecret(name('extra'), {theirs: true}, {account: A})
    await stack.writeVaultSecret(vaultPath('extra'), {ours: true})

    const refused = await pipeline('--targets', 'team-a')
    expect(refused.code).toBe(3)
    expect(target(refused.json, 'team-a')?.changes).toMatchObject([{action: 'conflict', name: name('extra')}])
    expect(target(refused.json, 'team-a')?.changes[0]?.error).toEqual(expect.any(String))
    expect(await aws.value(A, name('extra'))).toEqual({theirs: true})

    const adopted = await pipeline('--targets', 'team-a', '--adopt')
    expect(adopted.code).toBe(0)
    expect(target(adopted.json, 'team-a')?.changes).toMatchObject([{action: 'update', name: name('extra')}])
    expect(await aws.value(A, name('extra'))).toEqual({ours: true})
    expect((await inA()).get(name('extra'))?.tags).toMatchObject({
      'managed-by': 'secretsync',
      'secretsync:target': 'team-a',
    })
  })

  it('an orphan is deleted with the recovery window, and restored when Vault has it again', async () => {
    await stack.deleteVaultSecret(vaultPath('extra'))
    const deleted = await pipeline()
    expect(deleted.code, deleted.stderr).toBe(0)
    expect(target(deleted.json, 'team-a')?.changes).toMatchObject([{action: 'delete', name: name('extra')}])
    // Scheduled, not gone: the recovery window keeps it describable, with a DeletedDate
    const scheduled = await aws.describe(A, name('extra'))
    expect(scheduled.DeletedDate).toBeInstanceOf(Date)
    expect((await inA()).get(name('extra'))?.deleted).toBe(true)

    await stack.writeVaultSecret(vaultPath('extra'), {ours: 'again'})
    const restored = await pipeline()
    expect(restored.code, restored.stderr).toBe(0)
    expect(target(restored.json, 'team-a')?.changes).toMatchObject([{action: 'restore', name: name('extra')}])
    expect((await aws.describe(A, name('extra'))).DeletedDate).toBeUndefined()
    expect(await aws.value(A, name('extra'))).toEqual({ours: 'again'})
  })

  it('a live run lock held by another run fails that target and writes nothing; a stale one is taken over', async () => {
    const lockKey = 'merged/locks/team-a.json'
    const future = new Date(Date.now() + 3_600_000).toISOString()
    await aws.putJson(bucket, lockKey, {owner: 'other-host:1', run_id: 'other-run', expires_at: future})
    await stack.writeVaultSecret(vaultPath('api'), {key: 'k-2'})
    const before = versionIds(await inA())

    const locked = await pipeline('--targets', 'team-a')
    expect(locked.code).not.toBe(0)
    expect(target(locked.json, 'team-a')).toMatchObject({status: 'failed'})
    expect(target(locked.json, 'team-a')?.error).toMatch(/other-host:1/)
    expect(versionIds(await inA())).toEqual(before)

    await aws.putJson(bucket, lockKey, {
      owner: 'other-host:1',
      run_id: 'other-run',
      expires_at: new Date(Date.now() - 60_000).toISOString(),
    })
    const taken = await pipeline('--targets', 'team-a')
    expect(taken.code, taken.stderr).toBe(0)
    expect(target(taken.json, 'team-a')?.changes).toMatchObject([{action: 'update', name: name('api')}])
    expect(await aws.value(A, name('api'))).toEqual({key: 'k-2'})
    expect([...(await aws.objects(bucket, 'merged/locks/')).keys()]).toEqual([])
  })
})

describe('version history', () => {
  const cli = (...args: string[]) => runCli([...args, '-c', config], {env: stack.env})

  it('lists the snapshots, shows one, and rolls a secret back to it', async () => {
    const list = await cli('version', 'list', '--target', 'team-a', '--json')
    expect(list.code, list.stderr).toBe(0)
    const versions = (JSON.parse(list.stdout) as {versions: Array<{version: number; latest: boolean}>}).versions
    expect(versions[0]).toMatchObject({latest: true})
    expect(versions.map((v) => v.version)).toEqual([...versions.map((v) => v.version)].sort((x, y) => y - x))
    expect(versions.at(-1)?.version).toBe(1)

    const shown = await cli('version', 'show', '--target', 'team-a', '--version', '1', '--show-values', '--json')
    expect(shown.code).toBe(0)
    expect(JSON.parse(shown.stdout)).toMatchObject({version: 1, secrets: {db: {password: 'pw-1'}, api: {key: 'k-1'}}})

    const rolled = await cli('version', 'rollback', '--path', 'team-a/db', '--version', '1', '--json')
    expect(rolled.code, rolled.stderr).toBe(0)
    expect(JSON.parse(rolled.stdout)).toMatchObject({snapshot: {status: 'created', from_version: 1}})
    expect(await aws.value(A, name('db'))).toEqual({user: 'app', password: 'pw-1', port: 5432})
    // Only the one secret went back; the rest of the target keeps its latest values
    expect(await aws.value(A, name('api'))).toEqual({key: 'k-2'})
  })
})
