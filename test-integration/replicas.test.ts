import {DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../test/support/cli.js'
import {awsState, type SecretState} from './support/aws-state.js'
import {itConfigText, startItStack, uniqueName, type ItStack} from './support/harness.js'
import type {SyncJson} from '../src/report/sync-json.js'

// Story: a team keeps its secrets in us-east-1 and wants read-only replicas in eu-west-1, later also in us-west-2,
// then drops eu-west-1; an orphan with replicas is deleted; a replica region that already holds the name fails.
// Each step is one `secretsync pipeline` run of the built CLI; state is checked through the AWS SDK in every region
// (moto counts no calls, so "no write" means the same VersionIds and the same replicas).

const A = '111111111111'
const EU = 'eu-west-1'
const US_WEST = 'us-west-2'

let stack: ItStack
let aws: ReturnType<typeof awsState>
let bucket: string
let root: string
let prefix: string

const vaultPath = (relative: string) => `secret/${root}/${relative}`
const name = (relative: string) => `${prefix}${relative}`

const configWith = (replicas: string) =>
  writeTempConfig(
    itConfigText({
      root,
      bucket,
      targets: `  - {name: team-a, account_id: "${A}", imports: [base], secret_prefix: ${prefix}, replica_regions: [${replicas}]}
`,
      extra: `sync:
  delete_orphans: true
  recovery_window_days: 7
logging: {level: warn}
`,
    }),
  )

const pipeline = async (config: string) => {
  const result = await runCli(['pipeline', '-c', config, '--json'], {env: stack.env})
  let json: SyncJson
  try {
    json = JSON.parse(result.stdout) as SyncJson
  } catch {
    throw new Error(`no JSON on stdout (exit ${result.code}): ${result.stderr}`)
  }
  return {...result, json}
}

const inRegion = async <T>(region: string, run: (sm: SecretsManagerClient) => Promise<T>): Promise<T> => {
  const sm = new SecretsManagerClient(stack.awsConfig({account: A, region}))
  try {
    return await run(sm)
  } finally {
    sm.destroy()
  }
}
const replicasOf = async (secret: string): Promise<string[]> =>
  ((await aws.describe(A, secret)).ReplicationStatus ?? []).map((r) => r.Region ?? '').sort()
const replicaIn = (region: string, secret: string) =>
  inRegion(region, async (sm) => {
    try {
      const described = await sm.send(new DescribeSecretCommand({SecretId: secret}))
      const value = await sm.send(new GetSecretValueCommand({SecretId: secret}))
      return {primaryRegion: described.PrimaryRegion, value: value.SecretString}
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return undefined
      throw error
    }
  })
const versionIds = (secrets: Map<string, SecretState>) =>
  Object.fromEntries([...secrets].map(([n, s]) => [n, s.versionId]))

beforeAll(async () => {
  stack = await startItStack()
  aws = awsState(stack)
  bucket = uniqueName('it-rep')
  root = uniqueName('itr')
  prefix = `${root}/`
  await stack.createBucket(bucket)
  await stack.writeVaultSecret(vaultPath('db'), {user: 'app', password: 'pw-1'})
  await stack.writeVaultSecret(vaultPath('api'), {key: 'k-1'})
})

afterAll(async () => {
  aws.close()
  await stack.close()
})

describe('replica regions', () => {
  it('creates every secret replicated; the replica names its primary and follows it; a re-run changes nothing', async () => {
    const config = await configWith(`{region: ${EU}}`)
    const run = await pipeline(config)
    expect(run.code, run.stderr).toBe(0)
    expect(run.json.summary).toMatchObject({created: 2, replicas_added: 2})
    for (const secret of [name('api'), name('db')]) {
      expect(await replicasOf(secret)).toEqual([EU])
      expect((await replicaIn(EU, secret))?.primaryRegion).toBe('us-east-1')
    }
    const before = versionIds(await aws.secrets(A, prefix))
    const again = await pipeline(config)
    expect(again.code, again.stderr).toBe(0)
    expect(again.json.summary).toMatchObject({unchanged: 2, created: 0, updated: 0})
    expect(again.json.targets[0]?.changes).toEqual([])
    expect(versionIds(await aws.secrets(A, prefix))).toEqual(before)

    await stack.writeVaultSecret(vaultPath('db'), {user: 'app', password: 'pw-2'})
    expect((await pipeline(config)).json.summary).toMatchObject({updated: 1})
    expect(JSON.parse((await replicaIn(EU, name('db')))?.value ?? 'null')).toEqual({user: 'app', password: 'pw-2'})
  })

  it('adds a region, then removes one, per secret', async () => {
    const both = await pipeline(await configWith(`{region: ${EU}}, {region: ${US_WEST}}`))
    expect(both.code, both.stderr).toBe(0)
    expect(both.json.targets[0]?.changes.map((c) => [c.action, c.replicas_added])).toEqual([
      ['update', [US_WEST]],
      ['update', [US_WEST]],
    ])
    expect(await replicasOf(name('db'))).toEqual([EU, US_WEST])

    const west = await pipeline(await configWith(`{region: ${US_WEST}}`))
    expect(west.code, west.stderr).toBe(0)
    expect(west.json.summary).toMatchObject({updated: 2, replicas_removed: 2})
    expect(await replicasOf(name('db'))).toEqual([US_WEST])
    expect(await replicaIn(EU, name('db'))).toBeUndefined()
    expect((await pipeline(await configWith(`{region: ${US_WEST}}`))).json.targets[0]?.changes).toEqual([])
  })

  it('deletes a replicated orphan after removing its replicas', async () => {
    const config = await configWith(`{region: ${US_WEST}}`)
    await stack.deleteVaultSecret(vaultPath('api'))
    const run = await pipeline(config)
    expect(run.code, run.stderr).toBe(0)
    expect(run.json.targets[0]?.changes).toMatchObject([
      {action: 'delete', name: name('api'), replicas_removed: [US_WEST]},
    ])
    expect((await aws.describe(A, name('api'))).DeletedDate).toBeInstanceOf(Date)
    expect(await replicaIn(US_WEST, name('api'))).toBeUndefined()
  })

  it('a replica region that already holds the name fails that secret with the region and AWS’s message (exit 3)', async () => {
    await stack.createSecret(name('taken'), {theirs: true}, {account: A, region: EU})
    await stack.writeVaultSecret(vaultPath('taken'), {ours: true})
    const run = await pipeline(await configWith(`{region: ${US_WEST}}, {region: ${EU}}`))
    expect(run.code, run.stderr).toBe(3)
    const taken = run.json.targets[0]?.changes.find((c) => c.name === name('taken'))
    expect(taken?.error).toContain(`replication to ${EU} failed`)
    expect(JSON.parse((await replicaIn(EU, name('taken')))?.value ?? 'null')).toEqual({theirs: true})
  })
})
