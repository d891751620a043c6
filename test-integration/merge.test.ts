import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../test/support/cli.js'
import {startItStack, uniqueName, type ItStack} from './support/harness.js'

// Scenario: a platform team merges two Vault subtrees into per-environment snapshots in S3.

let stack: ItStack
let bucket: string
let root: string
let config: string

beforeAll(async () => {
  stack = await startItStack()
  bucket = uniqueName('it-merge')
  root = uniqueName('it')
  await stack.createBucket(bucket)
  await stack.writeVaultSecret(`secret/${root}/base/app/db`, {host: 'db', port: 5432, tags: ['base']})
  await stack.writeVaultSecret(`secret/${root}/base/app/api`, {timeout: 30})
  await stack.writeVaultSecret(`secret/${root}/prod/app/db`, {host: 'prod-db', tags: ['prod']})
  config = await writeTempConfig(`vault:
  address: \${VAULT_ADDR}
  auth: {method: token}
vault_sources:
  - {name: base, mount: secret/${root}/base/}
  - {name: prod, mount: secret/${root}/prod/}
merge_store:
  bucket: ${bucket}
  prefix: merged/
  endpoint: \${AWS_ENDPOINT_URL}
  force_path_style: true
aws: {region: us-east-1, endpoint: \${AWS_ENDPOINT_URL}}
targets:
  - {name: production, imports: [base, prod], overrides: {env: production}}
  - {name: staging, imports: [base], overrides: {env: staging}}
logging: {level: warn}
`)
})

afterAll(async () => {
  await stack.close()
})

interface MergeJson {
  dry_run: boolean
  summary: {new_versions: number; unchanged: number; failed_targets: number}
  targets: Array<{
    name: string
    status: string
    version: number
    secrets: number
    changes: {added: string[]; changed: string[]; removed: string[]}
  }>
}

const merge = async (...extra: string[]) => {
  const result = await runCli(['pipeline', '--merge-only', '-c', config, '--json', ...extra], {env: stack.env})
  return {...result, json: JSON.parse(result.stdout || '{}') as MergeJson}
}

describe('pipeline --merge-only', () => {
  it('a dry run plans v1 for every target and writes nothing', async () => {
    const {code, json} = await merge('--dry-run')
    expect(code).toBe(0)
    expect(json.dry_run).toBe(true)
    expect(json.targets.map((t) => [t.name, t.status, t.version])).toEqual([
      ['production', 'planned', 1],
      ['staging', 'planned', 1],
    ])
    const again = await merge('--dry-run')
    expect(again.json.targets[0]?.version).toBe(1)
  })

  it('the first run writes v1, an unchanged re-run writes nothing, a change writes v2', async () => {
    const first = await merge()
    expect(first.code).toBe(0)
    expect(first.json.targets.find((t) => t.name === 'production')).toMatchObject({
      status: 'created',
      version: 1,
      secrets: 2,
    })

    const second = await merge()
    expect(second.json.summary).toMatchObject({new_versions: 0, unchanged: 2})

    await stack.writeVaultSecret(`secret/${root}/prod/app/db`, {host: 'prod-db-2', tags: ['prod']})
    const third = await merge()
    const production = third.json.targets.find((t) => t.name === 'production')
    expect(production).toMatchObject({
      status: 'created',
      version: 2,
      changes: {added: [], changed: ['app/db'], removed: []},
    })
    expect(third.json.targets.find((t) => t.name === 'staging')?.status).toBe('unchanged')
  })

  it('--targets selects a target; an unknown one is a usage error naming it', async () => {
    const {code, json} = await merge('--targets', 'staging', '--dry-run')
    expect(code).toBe(0)
    expect(json.targets.map((t) => t.name)).toEqual(['staging'])
    const bad = await runCli(['pipeline', '--merge-only', '-c', config, '--targets', 'stagin'], {env: stack.env})
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('unknown target: "stagin" (did you mean "staging"?)')
  })
})
