import {writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {writeTempConfig} from '../support/cli.js'
import {quietPipelineConfigText, runPipelineJson, THREE_SECRETS_STACK} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'
import type {SyncJson} from '../../src/report/sync-json.js'

// Before planning, a target reads the current values (BatchGetSecretValue), resource policies (GetResourcePolicy)
// and replicas (DescribeSecret) of the secrets its listing names: each needs only the listing, so they are sent
// together. Through `secretsync pipeline` against the test stack.

const ACCOUNT = '111111111111'
const REGION = 'us-east-1'
const EU = 'eu-west-1'
const US_WEST = 'us-west-2'

let stack: TestStack
let config: string

const writeConfig = async (replicas: string): Promise<string> => {
  const file = await writeTempConfig(
    quietPipelineConfigText(
      `  - {name: app, account_id: "${ACCOUNT}", imports: [base], resource_policy: policy.json, replica_regions: [${replicas}]}\n`,
      '',
      REGION,
    ),
  )
  const policy = {
    Version: '2012-10-17',
    Statement: [{Effect: 'Allow', Principal: {AWS: ACCOUNT}, Action: ['secretsmanager:GetSecretValue'], Resource: '*'}],
  }
  await writeFile(join(dirname(file), 'policy.json'), JSON.stringify(policy))
  return file
}
const pipeline = () => runPipelineJson<SyncJson>(stack.env, config, [])
const count = (operation: string) => stack.controls.count({service: 'secretsmanager', operation})

beforeEach(async () => {
  stack = await startTestStack(THREE_SECRETS_STACK)
})
afterEach(async () => {
  await stack.close()
})

describe('reading the current state before planning', () => {
  it('values, policies and replicas are read at once, each secret once, and the plan uses all three', async () => {
    // Given three synced secrets with a policy and a replica, then new values in Vault and one more replica region
    config = await writeConfig(`{region: ${EU}}`)
    expect((await pipeline()).code).toBe(0)
    for (const [path, value] of [
      ['base/db', {user: 'app', password: 'pw-2'}],
      ['base/svc/api', {key: 'k-2'}],
      ['base/svc/cfg', {n: 2}],
    ] as const)
      stack.vault.putSecret('secret/', path, value)
    config = await writeConfig(`{region: ${EU}}, {region: ${US_WEST}}`)
    stack.controls.resetCounters()

    // When the next run's value read is held unanswered
    const held = stack.controls.hold({service: 'secretsmanager', operation: 'BatchGetSecretValue'})
    const run = pipeline()

    // Then every policy read and every describe is sent while it is in flight
    await vi.waitFor(
      () => {
        expect(count('BatchGetSecretValue')).toBe(1)
        expect(count('GetResourcePolicy')).toBe(3)
        expect(count('DescribeSecret')).toBe(3)
      },
      {timeout: 30_000, interval: 20},
    )
    held.release()

    // And once answered, the plan is made from all three: values updated, the region added, the policy unchanged
    const done = await run
    expect(done.code, done.stderr).toBe(0)
    expect(done.json.summary).toMatchObject({updated: 3, replicas_added: 3, failed: 0})
    expect(done.json.summary).not.toHaveProperty('policies')
    expect(count('BatchGetSecretValue')).toBe(1)
    expect(count('GetResourcePolicy')).toBe(3)
    expect(count('PutSecretValue')).toBe(3)
    expect(count('ReplicateSecretToRegions')).toBe(3)
    expect(count('PutResourcePolicy')).toBe(0)
  })
})
