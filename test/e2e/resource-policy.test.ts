import {writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {pipelineConfigText, runPipelineJson, secretsManagerWrites, THREE_SECRETS_STACK} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'
import type {SyncJson} from '../../src/report/sync-json.js'

// Issue 16 item 5 stories of `secretsync pipeline`: `resource_policy` put on every secret of the target with
// BlockPublicPolicy, compared by meaning, drift put back, foreign policies left alone unless --adopt, removed when
// the config drops it — through the CLI against the test stack.

const ACCOUNT = '111111111111'
const REGION = 'us-east-1'
const POLICY_TAG = 'secretsync:resource-policy'

const readerPolicy = (principal: string) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'ReadFromTheAppAccount',
      Effect: 'Allow',
      Principal: {AWS: principal},
      Action: ['secretsmanager:GetSecretValue'],
      Resource: '*',
    },
  ],
})

let stack: TestStack
let config: string

const writeConfig = async (policy: string | undefined, settings = ''): Promise<string> => {
  const app = `  - {name: app, account_id: "${ACCOUNT}", imports: [base]${policy === undefined ? '' : `, resource_policy: ${policy}`}}\n`
  // A second target without a policy, in the same account: it must read no policy at all.
  const other = `  - {name: other, account_id: "${ACCOUNT}", imports: [base], secret_prefix: other/}\n`
  const file = await writeTempConfig(
    pipelineConfigText({
      region: REGION,
      targets: app + other,
      extra: `logging: {level: warn}\nretry: {max_attempts: 2, base_delay: 10ms, max_delay: 20ms}\n${settings}`,
    }),
  )
  // The policy file sits beside the config, named relative to it.
  await writeFile(join(dirname(file), 'policy.json'), JSON.stringify(readerPolicy('{{account_id}}')))
  return file
}
const pipeline = (...args: string[]) => runPipelineJson<SyncJson>(stack.env, config, args)
const app = (json: SyncJson) => json.targets.find((t) => t.name === 'app')
const secret = (name: string) => stack.aws.secretsManager.getSecret(ACCOUNT, REGION, name)
const policyOf = (name: string): unknown => {
  const text = secret(name)?.resourcePolicy
  return text === undefined ? undefined : JSON.parse(text)
}
const count = (operation: string) => stack.controls.count({service: 'secretsmanager', operation})
const APP_SECRETS = ['db', 'svc/api', 'svc/cfg']

beforeEach(async () => {
  stack = await startTestStack(THREE_SECRETS_STACK)
})
afterEach(async () => {
  await stack.close()
})

describe('resource_policy', () => {
  it('is put on every created secret; a re-run compares by meaning and costs one GetResourcePolicy per secret of that target only', async () => {
    config = await writeConfig('policy.json')
    const dry = await pipeline('--dry-run')
    expect(dry.json.summary).toMatchObject({created: 6, policies: 3})
    expect(count('PutResourcePolicy')).toBe(0)

    const first = await pipeline()
    expect(first.code, first.stderr).toBe(0)
    expect(first.json.summary).toMatchObject({created: 6, policies: 3, failed: 0})
    expect(app(first.json)?.changes.map((c) => [c.name, c.action, c.policy])).toEqual(
      APP_SECRETS.map((name) => [name, 'create', 'set']),
    )
    for (const name of APP_SECRETS) {
      // The server keeps its own form (root ARN for the account id, its own whitespace), as AWS does.
      expect(policyOf(name)).toEqual(readerPolicy(`arn:aws:iam::${ACCOUNT}:root`))
      expect(secret(name)?.tags[POLICY_TAG]).toMatch(/^[0-9a-f]{64}$/)
    }
    expect(secret('other/db')?.resourcePolicy).toBeUndefined()

    stack.controls.resetCounters()
    const again = await pipeline()
    expect(again.code).toBe(0)
    expect(again.json.summary).toMatchObject({unchanged: 6, created: 0, updated: 0})
    expect(again.json.summary).not.toHaveProperty('policies')
    expect(count('ListSecrets')).toBe(2)
    expect(count('GetResourcePolicy')).toBe(3)
    expect(count('BatchGetSecretValue')).toBe(0)
    expect(secretsManagerWrites(stack.controls)).toBe(0)
  })

  it('a changed policy is updated; one changed or deleted outside secretsync is drift and put back', async () => {
    config = await writeConfig('policy.json')
    await pipeline()

    config = await writeConfig(`'${JSON.stringify(readerPolicy('222222222222'))}'`)
    const updated = await pipeline()
    expect(updated.code).toBe(0)
    expect(updated.json.summary).toMatchObject({updated: 3, policies: 3, drifted: 0})
    expect(app(updated.json)?.changes).toEqual(
      APP_SECRETS.map((name) => expect.objectContaining({name, policy: 'updated', drift: false}) as unknown),
    )
    expect(policyOf('db')).toEqual(readerPolicy('arn:aws:iam::222222222222:root'))

    stack.aws.secretsManager.setPolicyOutOfBand(ACCOUNT, REGION, 'db', JSON.stringify(readerPolicy('*')))
    stack.aws.secretsManager.setPolicyOutOfBand(ACCOUNT, REGION, 'svc/api', undefined)
    const drift = await pipeline()
    expect(drift.code).toBe(0)
    expect(drift.json.summary).toMatchObject({updated: 2, drifted: 2, policies: 2})
    expect(app(drift.json)?.changes.map((c) => [c.name, c.policy, c.drift])).toEqual([
      ['db', 'updated', true],
      ['svc/api', 'set', true],
    ])
    expect(policyOf('db')).toEqual(readerPolicy('arn:aws:iam::222222222222:root'))
    expect(policyOf('svc/api')).toEqual(readerPolicy('arn:aws:iam::222222222222:root'))

    const quiet = await pipeline()
    expect(quiet.json.summary).toMatchObject({unchanged: 6})
    expect(quiet.json.summary).not.toHaveProperty('policies')
  })

  it('a policy secretsync did not set is a conflict, left alone (exit 3), until --adopt takes it over', async () => {
    config = await writeConfig(undefined)
    await pipeline()
    const foreign = JSON.stringify(readerPolicy('333333333333'))
    stack.aws.secretsManager.setPolicyOutOfBand(ACCOUNT, REGION, 'db', foreign)

    config = await writeConfig('policy.json')
    const refused = await pipeline()
    expect(refused.code).toBe(3)
    expect(refused.json.summary).toMatchObject({conflicts: 1, updated: 2, policies: 2})
    const db = app(refused.json)?.changes.find((c) => c.name === 'db')
    expect(db).toMatchObject({action: 'conflict'})
    expect(db?.error).toContain('resource policy secretsync did not set')
    expect(secret('db')?.resourcePolicy).toBe(foreign)
    expect(secret('db')?.tags[POLICY_TAG]).toBeUndefined()

    const adopted = await pipeline('--adopt')
    expect(adopted.code).toBe(0)
    expect(app(adopted.json)?.changes.map((c) => [c.name, c.action, c.policy, c.drift])).toEqual([
      ['db', 'update', 'updated', false],
    ])
    expect(policyOf('db')).toEqual(readerPolicy(`arn:aws:iam::${ACCOUNT}:root`))
  })

  it('dropping resource_policy deletes the policies secretsync set, then reads no policy again', async () => {
    config = await writeConfig('policy.json')
    await pipeline()

    config = await writeConfig(undefined)
    const text = await runCli(['pipeline', '-c', config, '--dry-run', '-o', 'text'], {env: stack.env})
    expect(text.stdout).toContain('- resource policy')
    expect(text.stdout).toContain('3 resource policies to change')
    const compact = await runCli(['pipeline', '-c', config, '--dry-run', '-o', 'compact'], {env: stack.env})
    expect(compact.stdout).toContain(' policies=3')
    const github = await runCli(['pipeline', '-c', config, '--dry-run', '-o', 'github'], {env: stack.env})
    expect(github.stdout).toContain('    - resource policy')

    const removed = await pipeline()
    expect(removed.code).toBe(0)
    expect(removed.json.summary).toMatchObject({updated: 3, policies: 3})
    expect(app(removed.json)?.changes[0]).toMatchObject({policy: 'removed', tags_removed: [POLICY_TAG]})
    for (const name of APP_SECRETS) {
      expect(secret(name)?.resourcePolicy).toBeUndefined()
      expect(secret(name)?.tags[POLICY_TAG]).toBeUndefined()
    }

    stack.controls.resetCounters()
    const quiet = await pipeline()
    expect(quiet.json.summary).toMatchObject({unchanged: 6, updated: 0})
    expect(count('ListSecrets')).toBe(2)
    expect(count('GetResourcePolicy') + secretsManagerWrites(stack.controls)).toBe(0)
  })

  it('BlockPublicPolicy: a policy open to everyone is refused by AWS per secret, naming target and secret (exit 3)', async () => {
    config = await writeConfig(
      `{Version: "2012-10-17", Statement: {Effect: Allow, Principal: "*", Action: "secretsmanager:GetSecretValue", Resource: "*"}}`,
    )
    const run = await pipeline()
    expect(run.code).toBe(3)
    expect(run.json.summary).toMatchObject({failed: 3})
    expect(run.json.summary).not.toHaveProperty('policies')
    const target = app(run.json)
    expect(target?.name).toBe('app')
    expect(target?.changes).toHaveLength(3)
    for (const change of target?.changes ?? []) {
      expect(change.error).toContain(`PutResourcePolicy ${change.name}`)
      expect(change.error).toContain('PublicPolicyException')
    }
    expect(run.stderr).toContain('"target":"app"')
    expect(secret('db')?.resourcePolicy).toBeUndefined()
    expect(stack.aws.secretsManager.writeCalls({operation: 'PutResourcePolicy'})).toEqual([])
  })

  it('config errors name the file, line and key: a missing file, a document without Statement, a per-secret variable', async () => {
    config = await writeConfig('missing.json')
    const missing = await runCli(['validate', '-c', config], {env: stack.env})
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/secretsync\.yaml:\d+.*targets\[0\]\.resource_policy/)
    expect(missing.stderr).toContain('missing.json')
    expect(missing.stderr).toContain('file not found')

    config = await writeConfig(`{Version: "2012-10-17"}`)
    const noStatement = await runCli(['validate', '-c', config], {env: stack.env})
    expect(noStatement.code).toBe(2)
    expect(noStatement.stderr).toContain('needs "Statement"')

    config = await writeConfig(
      `{Version: "2012-10-17", Statement: {Effect: Allow, Principal: {AWS: "{{path}}"}, Action: "*", Resource: "*"}}`,
    )
    const perSecret = await runCli(['validate', '-c', config], {env: stack.env})
    expect(perSecret.code).toBe(2)
    expect(perSecret.stderr).toContain('{{path}} differs per secret')
  })
})
