import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {startTestStack, type TestStack} from '../support/stack.js'

let stack: TestStack
let config: string

beforeAll(async () => {
  stack = await startTestStack({vault: {secrets: {'secret/base/a': {v: 1}}}, aws: {buckets: ['access-store']}})
  config = await writeTempConfig(`vault: {address: "\${VAULT_ADDR}", auth: {method: token}}
vault_sources: [{name: base, mount: secret/base/}]
merge_store: {bucket: access-store, endpoint: "\${AWS_ENDPOINT_URL}"}
aws: {region: us-east-1, endpoint: "\${AWS_ENDPOINT_URL}", role_pattern: "arn:aws:iam::{{account_id}}:role/SecretSync"}
targets:
  - {name: good, account_id: "111111111111", imports: [base]}
  - {name: wrong-account, account_id: "111111111111", role_arn: "arn:aws:iam::222222222222:role/SecretSync", imports: [base]}
`)
})
afterAll(async () => {
  await stack.close()
})

describe('secretsync validate --check-access', () => {
  it('reports reachability per source, target and merge store, exits 1 when one fails, and writes nothing', async () => {
    stack.controls.resetCounters()
    const {code, stdout} = await runCli(['validate', '--check-access', '-c', config, '--json'], {env: stack.env})
    expect(code).toBe(1)
    const result = JSON.parse(stdout) as {access: Array<{kind: string; name: string; ok: boolean; detail: string}>}
    expect(result.access).toEqual(
      expect.arrayContaining([
        expect.objectContaining({kind: 'source', name: 'base', ok: true}),
        expect.objectContaining({kind: 'merge_store', name: 'access-store', ok: true}),
        expect.objectContaining({kind: 'target', name: 'good', ok: true}),
        expect.objectContaining({kind: 'target', name: 'wrong-account', ok: false}),
      ]),
    )
    expect(result.access.find((c) => c.name === 'wrong-account')?.detail).toContain('acts in account 222222222222')
    for (const operation of ['CreateSecret', 'PutSecretValue', 'DeleteSecret', 'TagResource'])
      expect(stack.controls.count({operation})).toBe(0)
    expect(stack.controls.count({service: 's3', operation: 'PutObject'})).toBe(0)
  })
})
