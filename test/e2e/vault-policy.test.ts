import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {ROOT, runCli, writeTempConfig} from '../support/cli.js'
import {parseJsonOutput, pipelineConfigText} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'
import type {Capability, Policy} from '../support/vault/vault-server.js'

// examples/vault/secretsync-policy.hcl loaded into the test Vault (which enforces ACL policies as Vault does) as
// the only policy of secretsync's token: a full pipeline over its two sources works, and the token can do nothing
// the walk does not need.

const HCL = readFileSync(join(ROOT, 'examples/vault/secretsync-policy.hcl'), 'utf8')

/** The `path "…" { capabilities = [...] }` blocks of the example, as the test Vault's policies. */
const examplePolicy = (): Policy[] =>
  [...HCL.matchAll(/^path "([^"]+)" \{\s*capabilities = \[([^\]]*)\]\s*\}/gm)].map(([, path, caps]) => ({
    path: path ?? '',
    capabilities: [...(caps ?? '').matchAll(/"(\w+)"/g)].map(([, cap]) => cap as Capability),
    name: 'secretsync',
  }))

let stack: TestStack
let token: string

beforeEach(async () => {
  stack = await startTestStack({
    vault: {
      secrets: {
        'secret/base/db': {user: 'app'},
        'secret/base/nested/deeper/cfg': {k: 1},
        'secret/production/api': {key: 'k'},
        'secret/other/private': {x: 'not for secretsync'},
      },
    },
    aws: {buckets: ['merge-store']},
  })
  token = stack.vault.createToken({policies: examplePolicy(), ttlSeconds: 3600})
})
afterEach(async () => {
  await stack.close()
})

const vaultGet = async (path: string) =>
  (await fetch(`${stack.vault.url}/v1/${path}`, {headers: {'X-Vault-Token': token}})).status

describe('examples/vault/secretsync-policy.hcl', () => {
  it('parses into the blocks the docs describe: data read, metadata list, mount lookup, token upkeep', () => {
    expect(examplePolicy().map((p) => `${p.path} ${p.capabilities.join(',')}`)).toEqual([
      'secret/data/base/* read',
      'secret/metadata/base/* list',
      'secret/data/production/* read',
      'secret/metadata/production/* list',
      'secret/metadata/ list',
      'sys/internal/ui/mounts/* read',
      'auth/token/lookup-self read',
      'auth/token/renew-self update',
    ])
  })

  it('is all a pipeline over both sources needs: every secret is walked, merged and created', async () => {
    const config = await writeTempConfig(
      pipelineConfigText({
        sources: ['base', 'production'],
        targets: `  - name: app\n    account_id: "000000000000"\n    imports: [base, production]\n    secret_prefix: app/\n`,
        extra: 'logging: {level: warn}\n',
      }),
    )
    const result = await runCli(['pipeline', '-c', config, '--json'], {env: {...stack.env, VAULT_TOKEN: token}})
    const json = parseJsonOutput<{summary: Record<string, number>}>(result)
    expect(result.code, result.stderr).toBe(0)
    expect(json.summary).toMatchObject({created: 3, failed: 0, failed_targets: 0})
    expect(result.stderr).not.toMatch(/forbidden|permission denied|incomplete/i)
  })

  it('grants nothing else: no other subtree, no metadata read, no writes', async () => {
    expect(await vaultGet('secret/data/base/db')).toBe(200)
    expect(await vaultGet('secret/metadata/base?list=true')).toBe(200)
    expect(await vaultGet('secret/data/other/private')).toBe(403)
    expect(await vaultGet('secret/metadata/other?list=true')).toBe(403)
    expect(await vaultGet('secret/metadata/base/db')).toBe(403)
    const write = await fetch(`${stack.vault.url}/v1/secret/data/base/db`, {
      method: 'POST',
      headers: {'X-Vault-Token': token, 'content-type': 'application/json'},
      body: JSON.stringify({data: {user: 'mallory'}}),
    })
    expect(write.status).toBe(403)
  })
})
