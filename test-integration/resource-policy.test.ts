import {writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {
  DeleteResourcePolicyCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../test/support/cli.js'
import {awsState, type SecretState} from './support/aws-state.js'
import {itConfigText, startItStack, uniqueName, type ItStack} from './support/harness.js'
import type {SyncJson} from '../src/report/sync-json.js'

// Story: a platform team lets one other account read its secrets through a resource policy secretsync puts on every
// secret of the target. Each step is one `secretsync pipeline` run of the built CLI; state is checked through the
// AWS SDK (on moto: the same VersionIds and the same policy text mean nothing was written).

const A = '111111111111'
const POLICY_TAG = 'secretsync:resource-policy'

const readers = (account: string) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: {AWS: `arn:aws:iam::${account}:root`},
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
    },
  ],
})

let stack: ItStack
let aws: ReturnType<typeof awsState>
let sm: SecretsManagerClient
let root: string
let prefix: string
let bucket: string

const configText = (policy: string) =>
  itConfigText({
    root,
    bucket,
    targets: `  - {name: team-a, account_id: "${A}", imports: [base], secret_prefix: ${prefix}${policy}}
`,
    extra: `logging: {level: warn}
`,
  })
const pipeline = async (policy: string, ...extra: string[]) => {
  const config = await writeTempConfig(configText(policy))
  await writeFile(join(dirname(config), 'readers.json'), JSON.stringify(readers('{{account_id}}')))
  const result = await runCli(['pipeline', '-c', config, '--json', ...extra], {env: stack.env})
  try {
    return {...result, json: JSON.parse(result.stdout) as SyncJson}
  } catch {
    throw new Error(`no JSON on stdout (exit ${result.code}): ${result.stderr}`)
  }
}
const name = (relative: string) => `${prefix}${relative}`
const policyOf = async (secret: string): Promise<unknown> => {
  const text = (await sm.send(new GetResourcePolicyCommand({SecretId: secret}))).ResourcePolicy
  return text === undefined ? undefined : JSON.parse(text)
}
const state = () => aws.secrets(A, prefix)
const snapshot = (secrets: Map<string, SecretState>) =>
  Object.fromEntries([...secrets].map(([key, s]) => [key, [s.versionId, s.tags[POLICY_TAG]]]))

beforeAll(async () => {
  stack = await startItStack()
  aws = awsState(stack)
  sm = new SecretsManagerClient(stack.awsConfig({account: A}))
  root = uniqueName('it-policy')
  prefix = `${root}/`
  bucket = uniqueName('it-policy')
  await stack.createBucket(bucket)
  await stack.writeVaultSecret(`secret/${root}/db`, {user: 'app', password: 'pw-1'})
  await stack.writeVaultSecret(`secret/${root}/api`, {key: 'k-1'})
})
afterAll(async () => {
  sm.destroy()
  aws.close()
  await stack.close()
})

describe('resource_policy against an independent AWS', () => {
  it('a first run puts the policy on every created secret and tags it; a re-run writes nothing', async () => {
    const first = await pipeline(', resource_policy: readers.json')
    expect(first.code, first.stderr).toBe(0)
    expect(first.json.summary).toMatchObject({created: 2, policies: 2, failed: 0})
    expect(await policyOf(name('db'))).toEqual(readers(A))
    const before = await state()
    expect(before.get(name('db'))?.tags[POLICY_TAG]).toMatch(/^[0-9a-f]{64}$/)

    const again = await pipeline(', resource_policy: readers.json')
    expect(again.json.summary).toMatchObject({unchanged: 2, updated: 0})
    expect(again.json.summary).not.toHaveProperty('policies')
    expect(snapshot(await state())).toEqual(snapshot(before))
  })

  it('a policy changed outside secretsync is drift and put back', async () => {
    await sm.send(
      new PutResourcePolicyCommand({SecretId: name('db'), ResourcePolicy: JSON.stringify(readers('999999999999'))}),
    )
    const run = await pipeline(', resource_policy: readers.json')
    expect(run.json.targets[0]?.changes).toEqual([
      expect.objectContaining({action: 'update', name: name('db'), policy: 'updated', drift: true}),
    ])
    expect(await policyOf(name('db'))).toEqual(readers(A))
  })

  it('dropping resource_policy deletes the policies secretsync set; a policy it did not set is left alone', async () => {
    await sm.send(new DeleteResourcePolicyCommand({SecretId: name('api')}))
    await sm.send(
      new PutResourcePolicyCommand({SecretId: name('api'), ResourcePolicy: JSON.stringify(readers('888888888888'))}),
    )
    // api's policy is now someone else's, but it still carries secretsync's tag: edited, so drift; removed below.
    const run = await pipeline('')
    expect(run.code, run.stderr).toBe(0)
    expect(run.json.summary).toMatchObject({policies: 2})
    expect(await policyOf(name('db'))).toBeUndefined()
    expect(await policyOf(name('api'))).toBeUndefined()
    expect((await state()).get(name('db'))?.tags[POLICY_TAG]).toBeUndefined()

    // A policy put on an owned secret by someone else, with the feature off: never read, never touched.
    await sm.send(
      new PutResourcePolicyCommand({SecretId: name('db'), ResourcePolicy: JSON.stringify(readers('777777777777'))}),
    )
    const off = await pipeline('')
    expect(off.json.summary).toMatchObject({unchanged: 2})
    expect(off.json.summary).not.toHaveProperty('policies')
    // Turned on again, that foreign policy is a conflict until --adopt.
    const refused = await pipeline(', resource_policy: readers.json')
    expect(refused.code).toBe(3)
    expect(refused.json.summary).toMatchObject({conflicts: 1})
    expect(await policyOf(name('db'))).toEqual(readers('777777777777'))
    const adopted = await pipeline(', resource_policy: readers.json', '--adopt')
    expect(adopted.code, adopted.stderr).toBe(0)
    expect(await policyOf(name('db'))).toEqual(readers(A))
  })
})
