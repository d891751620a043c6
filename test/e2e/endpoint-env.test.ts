import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// LocalStack users often set only AWS_ENDPOINT_URL: every AWS client, S3 path-style included, must honour it.
let stack: TestStack
beforeAll(async () => {
  stack = await startTestStack({
    vault: {secrets: {'secret/base/db': {a: 1}, 'secret/base/x/y': {b: 2}}},
    aws: {buckets: ['env-only-store']},
  })
  stack.aws.s3.createBucket('eu-store', stack.aws.base.accountId, 'eu-west-2')
})
afterAll(async () => {
  await stack.close()
})

describe('AWS endpoint from the environment only', () => {
  it('merge store, STS and Secrets Manager are reached through AWS_ENDPOINT_URL (a localhost name, so path-style S3)', async () => {
    const config = await writeTempConfig(`vault: {address: "\${VAULT_ADDR}", auth: {method: token}}
vault_sources: [{name: base, mount: secret/base/}]
merge_store: {bucket: env-only-store}
aws: {region: us-east-1, role_pattern: "arn:aws:iam::{{account_id}}:role/S"}
targets: [{name: app, account_id: "111111111111", imports: [base]}]
logging: {level: warn}
`)
    const env = {...stack.env, AWS_ENDPOINT_URL: stack.aws.url.replace('127.0.0.1', 'localhost')}
    const {code, stdout} = await runCli(['pipeline', '-c', config, '-o', 'compact'], {env})
    expect(code).toBe(0)
    expect(stdout).toBe('secretsync applied: 1 target (0 failed) +2 ~0 !0 -0 =0 conflicts=0 drift=0 failed=0 held=0\n')
    expect(stack.aws.s3.listKeys('env-only-store')).toContain('app/v1.json')
    expect(stack.controls.count({service: 'sts', operation: 'AssumeRole'})).toBe(1)
    expect(stack.aws.secretsManager.listNames('111111111111', 'us-east-1')).toEqual(['db', 'x/y'])
  })

  it('the merge store bucket is addressed in AWS_REGION when neither merge_store.region nor aws.region is set', async () => {
    // Given a bucket in eu-west-2, a target with its own region, and the region only in the environment
    const config = await writeTempConfig(`vault: {address: "\${VAULT_ADDR}", auth: {method: token}}
vault_sources: [{name: base, mount: secret/base/}]
merge_store: {bucket: eu-store, endpoint: "\${AWS_ENDPOINT_URL}"}
aws: {endpoint: "\${AWS_ENDPOINT_URL}", role_pattern: "arn:aws:iam::{{account_id}}:role/S"}
targets: [{name: app, account_id: "111111111111", region: us-east-1, imports: [base]}]
logging: {level: warn}
`)
    const env = {...stack.env, AWS_ENDPOINT_URL: stack.aws.url, AWS_REGION: 'eu-west-2'}

    const {code, stderr} = await runCli(['pipeline', '-c', config, '--merge-only', '-o', 'compact'], {env})

    // Then the snapshot lands (S3 refuses a request signed for another region than the bucket's)
    expect(code, stderr).toBe(0)
    expect(stack.aws.s3.listKeys('eu-store')).toContain('app/v1.json')
  })
})
