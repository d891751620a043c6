import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {parseJsonOutput, secretsManagerWrites} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Story: a target with neither account_id nor role syncs as the base identity. Its applied record is named
// after the account STS reports for that identity (DESIGN: `{account}` is the account actually used), never
// a placeholder, so the record is found again on the next run.

let stack: TestStack
let config: string

interface SyncJson {
  summary: Record<string, number>
  targets: Array<{name: string; status: string; error: string | null}>
}

beforeEach(async () => {
  stack = await startTestStack({
    vault: {secrets: {'secret/base/db': {user: 'app', password: 'pw-1'}, 'secret/base/api': {key: 'k-1'}}},
    aws: {buckets: ['merge-store']},
  })
  config = await writeTempConfig(`vault:
  address: \${VAULT_ADDR}
  auth: {method: token}
vault_sources:
  - {name: base, mount: secret/base/}
merge_store:
  bucket: merge-store
  prefix: merged/
  endpoint: \${AWS_ENDPOINT_URL}
aws: {region: us-east-1, endpoint: \${AWS_ENDPOINT_URL}}
targets:
  - {name: app, imports: [base], secret_prefix: app/}
logging: {level: warn}
`)
})
afterEach(async () => {
  await stack.close()
})

const pipeline = async () => {
  const result = await runCli(['pipeline', '-c', config, '--json'], {env: stack.env})
  return {...result, json: parseJsonOutput<SyncJson>(result)}
}

describe('a target on the base identity', () => {
  it('records what it applied under the caller account from GetCallerIdentity, asked once per target, and the re-run finds it', async () => {
    // When the first run syncs the target
    const first = await pipeline()
    expect(first.code).toBe(0)
    expect(first.json.summary).toMatchObject({created: 2, failed: 0})

    // Then the applied record is keyed by the base identity's account, and no placeholder record exists
    const account = stack.aws.base.accountId
    const applied = stack.aws.s3.listKeys('merge-store', 'merged/app/applied/')
    expect(applied).toEqual([`merged/app/applied/${account}-us-east-1.json`])
    expect(stack.controls.count({service: 'sts', operation: 'GetCallerIdentity'})).toBe(1)
    expect(stack.controls.count({service: 'sts', operation: 'AssumeRole'})).toBe(0)

    // And the re-run trusts that record: nothing written, no value read, one identity check again
    stack.controls.resetCounters()
    const second = await pipeline()
    expect(second.json.summary).toMatchObject({created: 0, updated: 0, unchanged: 2})
    expect(secretsManagerWrites(stack.controls)).toBe(0)
    expect(stack.controls.count({service: 'secretsmanager', operation: 'BatchGetSecretValue'})).toBe(0)
    expect(stack.controls.count({service: 'sts', operation: 'GetCallerIdentity'})).toBe(1)
  })

  it('validate --check-access names the account the base identity acts in', async () => {
    const result = await runCli(['validate', '--check-access', '-c', config, '--json'], {env: stack.env})
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`${stack.aws.base.accountId} / us-east-1: Secrets Manager reachable`)
  })
})
