import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {pipelineConfigText, runPipelineJson, secretsManagerWrites} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Stories of exact values (issue 10 defect 6, issue 17 item 7), run as a user runs the CLI against the test
// stack: what Vault holds is what lands in Secrets Manager, to the byte, for numbers a JS number cannot hold
// and for prototype-named keys, through two sources merging, the S3 snapshot, and the value read back from AWS.

const ACCOUNT = '111111111111'
const REGION = 'us-east-1'

// Written to Vault as this text. Every number here is one JSON.parse would alter.
const NUMBERS =
  '"id":1152921504606846977,"huge":1e400,"wide":12345678901234567890123456789,"pi":3.14159265358979323846264338327950288,"zero":-0,"one":1.0'
const BASE = `{"__proto__":{"token":"t-1"},"constructor":"c",${NUMBERS}}`
const PROD = '{"__proto__":{"region":"eu"},"toString":"s"}'
// base, then prod merged into it (DESIGN §4): __proto__ merges key by key, new keys follow.
const MERGED = `{"__proto__":{"token":"t-1","region":"eu"},"constructor":"c",${NUMBERS},"toString":"s"}`

interface SyncJson {
  summary: Record<string, number>
  targets: Array<{
    name: string
    status: string
    changes: Array<{
      action: string
      name: string
      drift: boolean
      keys_added: string[]
      keys_changed: string[]
      error: string | null
    }>
  }>
}

let stack: TestStack
let config: string

const configText = pipelineConfigText({
  sources: ['base', 'prod'],
  region: REGION,
  targets: `  - name: app
    account_id: "${ACCOUNT}"
    imports: [base, prod]
    secret_prefix: app/
  - name: root
    account_id: "${ACCOUNT}"
    imports: [base]
`,
  extra: 'logging: {level: warn}\n',
})

/** Writes a KV v2 secret over Vault's HTTP API with `data` as the exact JSON text given, as `vault kv put` would send it. */
async function putVault(path: string, data: string): Promise<void> {
  const response = await fetch(`${stack.vault.url}/v1/secret/data/${path}`, {
    method: 'POST',
    headers: {'x-vault-token': stack.vault.rootToken, 'content-type': 'application/json'},
    body: `{"data":${data}}`,
  })
  expect(response.status).toBe(200)
}

const pipeline = (...args: string[]) => runPipelineJson<SyncJson>(stack.env, config, args)
const secretString = (name: string): string | undefined =>
  stack.aws.secretsManager.getSecret(ACCOUNT, REGION, name)?.value
const writes = () => secretsManagerWrites(stack.controls)
const valueReads = () => stack.controls.count({service: 'secretsmanager', operation: 'BatchGetSecretValue'})

beforeEach(async () => {
  stack = await startTestStack({aws: {buckets: ['merge-store']}})
  await putVault('base/exact', BASE)
  await putVault('prod/exact', PROD)
  // A secret *named* __proto__ (target root has no prefix): it must be recorded as applied like any other.
  await putVault('base/__proto__', '{"k":1.50}')
  config = await writeTempConfig(configText)
})
afterEach(async () => {
  await stack.close()
})

describe('exact values from Vault to Secrets Manager', () => {
  it('Given big numbers and __proto__ keys in two sources, the merged SecretString is byte-exact, and a re-run writes and reads nothing', async () => {
    const first = await pipeline()
    expect(first.code).toBe(0)
    expect(first.json.summary).toMatchObject({created: 4, failed: 0})
    expect(secretString('app/exact')).toBe(MERGED)
    expect(secretString('exact')).toBe(BASE)
    expect(secretString('__proto__')).toBe('{"k":1.50}')
    const created = first.json.targets.find((t) => t.name === 'app')?.changes.find((c) => c.name === 'app/exact')
    expect(created?.keys_added).toEqual([
      '__proto__',
      'constructor',
      'huge',
      'id',
      'one',
      'pi',
      'toString',
      'wide',
      'zero',
    ])
    expect(created?.keys_changed).toEqual([])
    // The snapshot in S3 holds the exact text too.
    const snapshot = stack.aws.s3.getObject('merge-store', 'app/v1.json')?.body.toString('utf8')
    expect(snapshot).toContain(`"exact":${MERGED}`)

    stack.controls.resetCounters()
    const second = await pipeline()
    expect(second.code).toBe(0)
    expect(second.json.summary).toMatchObject({created: 0, updated: 0, unchanged: 4})
    expect(writes()).toBe(0)
    // Nothing is re-read: the applied record vouches for every secret, the one named __proto__ included.
    expect(valueReads()).toBe(0)
  })

  it('Values read back from AWS compare exactly: equal ones write nothing, a hand edit only an exact compare sees is drift and is corrected', async () => {
    expect((await pipeline()).code).toBe(0)
    // Without the applied record every value is read back from AWS and compared with the snapshot's.
    for (const key of stack.aws.s3.listKeys('merge-store'))
      if (key.includes('/applied/')) stack.aws.s3.deleteObject('merge-store', key)
    stack.controls.resetCounters()
    const reread = await pipeline('--sync-only')
    expect(reread.code).toBe(0)
    expect(reread.json.summary).toMatchObject({created: 0, updated: 0, unchanged: 4, drifted: 0})
    expect(valueReads()).toBeGreaterThan(0)
    expect(writes()).toBe(0)

    // ...976 and ...977 are one and the same JS number: only the exact text tells them apart.
    stack.aws.secretsManager.putValueOutOfBand(
      ACCOUNT,
      REGION,
      'app/exact',
      MERGED.replace('1152921504606846977', '1152921504606846976'),
    )
    stack.controls.resetCounters()
    const corrected = await pipeline('--sync-only')
    expect(corrected.code).toBe(0)
    expect(corrected.json.summary).toMatchObject({updated: 1, drifted: 1})
    expect(corrected.json.targets.flatMap((t) => t.changes)).toMatchObject([
      {action: 'update', name: 'app/exact', drift: true, keys_changed: ['id']},
    ])
    expect(secretString('app/exact')).toBe(MERGED)
  })

  it('A change inside __proto__ in Vault is synced with one PutSecretValue, still byte-exact', async () => {
    expect((await pipeline()).code).toBe(0)
    await putVault('base/exact', BASE.replace('"t-1"', '"t-2"'))

    // The plan shows the values exactly too, in JSON and in text.
    const planned = await pipeline('--dry-run', '--show-values')
    const shown = planned.json.targets.find((t) => t.name === 'root')?.changes.find((c) => c.name === 'exact')
    expect(planned.stdout).toContain('"id": 1152921504606846977')
    expect(shown?.keys_changed).toEqual(['__proto__'])
    const text = await runCli(['pipeline', '-c', config, '--dry-run', '--show-values', '-o', 'text'], {env: stack.env})
    expect(text.stdout).toContain('{"token":"t-2"}')

    stack.controls.resetCounters()
    const run = await pipeline()
    expect(run.code).toBe(0)
    const changes = run.json.targets.flatMap((t) => t.changes)
    expect(changes.map((c) => [c.action, c.name, c.keys_changed])).toEqual(
      expect.arrayContaining([
        ['update', 'app/exact', ['__proto__']],
        ['update', 'exact', ['__proto__']],
      ]),
    )
    expect(changes).toHaveLength(2)
    expect(stack.controls.count({service: 'secretsmanager', operation: 'PutSecretValue'})).toBe(2)
    expect(secretString('app/exact')).toBe(MERGED.replace('"t-1"', '"t-2"'))
    expect(secretString('exact')).toBe(BASE.replace('"t-1"', '"t-2"'))
  })
})
