import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {parseJsonOutput} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Hostile config text and Vault names, end to end through `secretsync pipeline` (issue 17 items 1 and 6).

const ACCOUNT = '111111111111'
const LONG_KEY = `long-${'k'.repeat(2095)}`

interface PipelineJson {
  targets: Array<{
    name: string
    status: string
    error: string | null
    changes: Array<{action: string; name: string; error: string | null}>
  }>
}

let stack: TestStack
beforeAll(async () => {
  stack = await startTestStack({
    vault: {
      secrets: {
        'secret/base/db': {password: 'pw-1'},
        'secret/base/api': {key: 'k-1'},
        [`secret/base/${LONG_KEY}`]: {v: 1},
      },
    },
    aws: {buckets: ['merge-store']},
  })
})
afterAll(async () => {
  await stack.close()
})

const config = (target: string) =>
  writeTempConfig(`vault:
  address: \${VAULT_ADDR}
  auth: {method: token, token: \${VAULT_TOKEN}}
vault_sources:
  - {name: base, mount: secret/base/}
merge_store: {bucket: merge-store, endpoint: \${AWS_ENDPOINT_URL}}
aws:
  region: us-east-1
  endpoint: \${AWS_ENDPOINT_URL}
  role_pattern: arn:aws:iam::{{account_id}}:role/SecretSync
targets:
${target}logging: {level: error}
`)

const secretIn = (name: string) => stack.aws.secretsManager.getSecret(ACCOUNT, 'us-east-1', name)

describe('a Vault key longer than any Secrets Manager name', () => {
  it('fails alone, named, before any call; the target’s other secrets are created; exit 3', async () => {
    // Given a source with two ordinary secrets and one whose key is 2,100 characters
    const file = await config(`  - {name: app, account_id: "${ACCOUNT}", imports: [base], secret_prefix: app/}\n`)

    // When the pipeline runs
    const result = await runCli(['pipeline', '-c', file, '--json'], {env: stack.env})

    // Then the long one fails with its reason, the others exist, and the run is a partial success
    expect(result.code, result.stderr).toBe(3)
    const target = parseJsonOutput<PipelineJson>(result).targets[0]
    expect(target?.changes.find((change) => change.name === `app/${LONG_KEY}`)).toMatchObject({
      action: 'create',
      error: 'the secret name is 2104 characters; AWS allows at most 512',
    })
    expect(
      target?.changes
        .filter((change) => change.error === null)
        .map((change) => change.name)
        .sort(),
    ).toEqual(['app/api', 'app/db'])
    expect(secretIn('app/db')?.value).toBe('{"password":"pw-1"}')
    expect(secretIn('app/api')?.value).toBe('{"key":"k-1"}')
  })
})

describe('interpolation cannot be forged', () => {
  it('tags and overrides written as the old placeholders §0§/§1§ reach AWS literally, never as the Vault address or token', async () => {
    const file = await config(
      `  - name: forged\n    account_id: "${ACCOUNT}"\n    imports: [base]\n    secret_prefix: forged/\n    tags: {where: "§0§"}\n    overrides: {password: "§1§"}\n`,
    )
    const result = await runCli(['pipeline', '-c', file, '--json', '--targets', 'forged'], {env: stack.env})
    expect(result.code, result.stderr).toBe(3)
    const db = secretIn('forged/db')
    expect(db?.value).toBe('{"password":"§1§"}')
    expect(db?.tags.where).toBe('§0§')
    for (const output of [result.stdout, result.stderr, db?.value ?? '', JSON.stringify(db?.tags)]) {
      expect(output).not.toContain(stack.env.VAULT_TOKEN)
      expect(output).not.toContain(stack.env.VAULT_ADDR)
    }
  })
})
