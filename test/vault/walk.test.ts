import pLimit from 'p-limit'
import {afterEach, describe, expect, it} from 'vitest'
import type {VaultConfig} from '../../src/config/schema.js'
import {createBreakers} from '../../src/resilience/breakers.js'
import {connectVault, type VaultReader} from '../../src/vault/vault-client.js'
import {walkVaultTree, type WalkOptions} from '../../src/vault/walk.js'
import {recordingRuntime} from '../support/runtime.js'
import {startTestStack, type TestStack} from '../support/stack.js'

let stack: TestStack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

const retry = {maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5}
const breakersOff = () =>
  createBreakers(
    {enabled: false, failure_threshold: 5, window: 10_000, timeout: 30_000, max_requests: 1},
    {logger: recordingRuntime().logger},
  )

function vaultConfig(address: string, auth: VaultConfig['auth']): VaultConfig {
  return {address, namespace: '', auth, concurrency: 8, timeout: 5000}
}

async function reader(
  s: TestStack,
  auth: VaultConfig['auth'] = {method: 'token', token: s.vault.rootToken},
): Promise<VaultReader> {
  const runtime = recordingRuntime()
  return connectVault({
    config: vaultConfig(s.vault.url, auth),
    logger: runtime.logger,
    redactor: runtime.redactor,
    env: {},
    retry,
    breakers: breakersOff(),
  })
}

async function walk(r: VaultReader, path: string, overrides: Partial<WalkOptions> = {}) {
  const runtime = recordingRuntime()
  const {mount, relative} = await r.resolveMount(path)
  const result = await walkVaultTree(r, {
    mount,
    root: relative,
    maxSecrets: 100_000,
    maxDepth: 100,
    compactionThreshold: 1000,
    limit: pLimit(8),
    logger: runtime.logger,
    ...overrides,
  })
  return {...result, logs: runtime.logs()}
}

/** A chain of folders `d1/d2/.../dN/` with one secret at each level. */
function deepTree(depth: number): Record<string, Record<string, unknown>> {
  const secrets: Record<string, Record<string, unknown>> = {}
  let folder = 'secret/tree/'
  for (let level = 1; level <= depth; level++) {
    folder += `d${level}/`
    secrets[`${folder}s${level}`] = {level}
  }
  return secrets
}

describe('walkVaultTree', () => {
  it.each([1, 2, 5, 8])(
    'reads every secret of a tree %i folders deep, with F LIST calls and S reads',
    async (depth) => {
      stack = await startTestStack({vault: {secrets: deepTree(depth)}})
      const r = await reader(stack)
      stack.controls.resetCounters()
      const result = await walk(r, 'secret/tree/')
      expect(result.secrets.size).toBe(depth)
      const deepest = [...Array.from({length: depth}, (_, i) => `d${i + 1}`), `s${depth}`].join('/')
      expect(result.secrets.get(deepest)).toEqual({level: depth})
      // Folders: the root plus one per level.
      expect(stack.controls.count({service: 'vault', operation: 'list'})).toBe(depth + 1)
      expect(stack.controls.count({service: 'vault', operation: 'read'})).toBe(depth)
    },
  )

  it('walks a mount root and gives paths relative to the source', async () => {
    stack = await startTestStack({vault: {secrets: {'secret/a': {v: 1}, 'secret/dir/b': {v: 2}}}})
    const result = await walk(await reader(stack), 'secret/')
    expect(Object.fromEntries(result.secrets)).toEqual({a: {v: 1}, 'dir/b': {v: 2}})
  })

  it('resolves a nested mount (teams/platform/kv/) through sys/internal/ui/mounts', async () => {
    stack = await startTestStack({
      vault: {mounts: ['secret/', 'teams/platform/kv/'], secrets: {'teams/platform/kv/app/db': {p: 1}}},
    })
    const r = await reader(stack)
    expect(await r.resolveMount('teams/platform/kv/app/')).toEqual({mount: 'teams/platform/kv/', relative: 'app/'})
    const result = await walk(r, 'teams/platform/kv/app/')
    expect(Object.fromEntries(result.secrets)).toEqual({db: {p: 1}})
  })

  it('lists a folder at most once when a listing points back at itself', async () => {
    stack = await startTestStack({vault: {secrets: {'secret/c/x': {v: 1}, 'secret/c/sub/y': {v: 2}}}})
    stack.vault.addListingAlias('secret/', 'c/sub/', ['./', 'sub/'])
    stack.vault.addListingAlias('secret/', 'c/', ['./'])
    const r = await reader(stack)
    stack.controls.resetCounters()
    const result = await walk(r, 'secret/c/')
    expect(Object.fromEntries(result.secrets)).toEqual({x: {v: 1}, 'sub/y': {v: 2}})
    // c/, c/sub/, and c/sub/sub/ (a distinct, empty path: 404) — never c/ or c/sub/ twice.
    expect(stack.controls.count({service: 'vault', operation: 'list'})).toBe(3)
  })

  it('a folder linked back to its ancestor stops at max_depth with a warning instead of looping', async () => {
    stack = await startTestStack({vault: {secrets: {'secret/l/x': {v: 1}}}})
    stack.vault.addListingAlias('secret/', 'l/', ['loop/'])
    stack.vault.linkFolder('secret/', 'l/loop/', 'l/')
    const result = await walk(await reader(stack), 'secret/l/', {maxDepth: 3})
    expect(result.secrets.size).toBe(4)
    expect(result.warnings.some((w) => w.includes('deeper than max_depth 3'))).toBe(true)
  })

  it('refuses unsafe keys, reports them and reads the rest', async () => {
    stack = await startTestStack({vault: {secrets: {'secret/u/fine': {v: 1}}}})
    stack.vault.addListingAlias('secret/', 'u/', ['../escape', 'a//b', '/abs', 'nul\u0000x', '../up/'])
    stack.controls.resetCounters()
    const result = await walk(await reader(stack), 'secret/u/')
    expect(Object.fromEntries(result.secrets)).toEqual({fine: {v: 1}})
    expect(result.warnings.filter((w) => w.startsWith('refused unsafe key'))).toHaveLength(5)
    expect(stack.controls.count({service: 'vault', operation: 'read'})).toBe(1)
  })

  it('skips 403 and 404 folders with a warning naming the path', async () => {
    stack = await startTestStack({vault: {secrets: {'secret/p/open/a': {v: 1}, 'secret/p/closed/b': {v: 2}}}})
    stack.vault.addListingAlias('secret/', 'p/', ['gone/'])
    const token = stack.vault.createToken({
      policies: [
        {path: 'secret/metadata/p/', capabilities: ['list']},
        {path: 'secret/metadata/p/open/*', capabilities: ['list']},
        {path: 'secret/metadata/p/gone/*', capabilities: ['list']},
        {path: 'secret/data/p/*', capabilities: ['read']},
      ],
    })
    const result = await walk(await reader(stack, {method: 'token', token}), 'secret/p/')
    expect(Object.fromEntries(result.secrets)).toEqual({'open/a': {v: 1}})
    expect(result.warnings).toContain('permission denied (403) listing secret/p/closed/; folder skipped')
    expect(result.warnings).toContain('not found (404) listing secret/p/gone/; folder skipped')
  })

  it('skips secrets whose latest version is deleted', async () => {
    stack = await startTestStack({
      vault: {secrets: {'secret/d/live': {v: 1}, 'secret/d/dead': {v: 2}}, deleted: ['secret/d/dead']},
    })
    const result = await walk(await reader(stack), 'secret/d/')
    expect(Object.fromEntries(result.secrets)).toEqual({live: {v: 1}})
    expect(result.stats.skippedDeleted).toBe(1)
  })

  it('fails the walk when there are more than max_secrets secrets, never truncating', async () => {
    const secrets = Object.fromEntries(Array.from({length: 11}, (_, i) => [`secret/m/s${i}`, {i}]))
    stack = await startTestStack({vault: {secrets}})
    await expect(walk(await reader(stack), 'secret/m/', {maxSecrets: 10})).rejects.toThrow(
      'more than max_secrets (10) secrets under secret/m/',
    )
  })

  it('compacts the queue on a 500-secret tree with a low threshold, keeping the processed prefix under the bound', async () => {
    // 50 folders of 10 secrets, spread over two levels so the queue grows and drains; a threshold of 10 makes
    // the queue compact many times over (the code path a 20,000-secret tree takes at a threshold of 1,000).
    const secrets: Record<string, Record<string, unknown>> = {}
    for (let a = 0; a < 5; a++)
      for (let b = 0; b < 10; b++) for (let s = 0; s < 10; s++) secrets[`secret/big/a${a}/b${b}/s${s}`] = {a, b, s}
    stack = await startTestStack({vault: {secrets}})
    const threshold = 10
    stack.controls.resetCounters()
    const result = await walk(await reader(stack), 'secret/big/', {
      compactionThreshold: threshold,
      maxSecrets: 500,
      limit: pLimit(16),
    })
    expect(result.secrets.size).toBe(500)
    expect(result.stats.compactions).toBeGreaterThan(1)
    // After every dequeue, processed entries stay at most max(threshold, half the queue) (+1 for the one just taken).
    expect(result.stats.maxProcessedRetained).toBeLessThanOrEqual(
      Math.max(threshold, Math.ceil(result.stats.maxQueueLength / 2)) + 1,
    )
    // ... and the bound is reached: without compaction the prefix would have held every entry taken.
    expect(result.stats.maxQueueLength).toBeGreaterThan(threshold * 4)
    expect(result.logs).toContain('walk queue compacted')
    expect(stack.controls.count({service: 'vault', operation: 'list'})).toBe(1 + 5 + 50)
    expect(stack.controls.count({service: 'vault', operation: 'read'})).toBe(500)
  })
})

describe('vault auth', () => {
  const policies = [
    {path: 'secret/metadata/*', capabilities: ['list' as const, 'read' as const]},
    {path: 'secret/data/*', capabilities: ['read' as const]},
  ]

  it('AppRole login reads the tree', async () => {
    stack = await startTestStack({vault: {secrets: {'secret/r/a': {v: 1}}, approles: {app: {policies}}}})
    const {roleId, secretId} = stack.credentials.approles.app as {roleId: string; secretId: string}
    const result = await walk(
      await reader(stack, {method: 'approle', role_id: roleId, secret_id: secretId}),
      'secret/r/',
    )
    expect(result.secrets.size).toBe(1)
  })

  it('a wrong AppRole secret id fails with VAULT_AUTH_FAILED and no secret in the message', async () => {
    stack = await startTestStack({vault: {approles: {app: {policies}}}})
    const {roleId} = stack.credentials.approles.app as {roleId: string}
    await expect(
      reader(stack, {method: 'approle', role_id: roleId, secret_id: 'wrong-secret-id-123'}),
    ).rejects.toMatchObject({code: 'VAULT_AUTH_FAILED'})
    await expect(
      reader(stack, {method: 'approle', role_id: roleId, secret_id: 'wrong-secret-id-123'}),
    ).rejects.not.toThrow('wrong-secret-id-123')
  })

  it('Kubernetes login with the service account JWT from jwt_path', async () => {
    const {mkdtemp, writeFile} = await import('node:fs/promises')
    const {join} = await import('node:path')
    const {tmpdir} = await import('node:os')
    stack = await startTestStack({
      vault: {
        secrets: {'secret/k/a': {v: 1}},
        kubernetes_roles: {secretsync: {policies, jwt: 'eyJ.service-account.jwt'}},
      },
    })
    const jwtPath = join(await mkdtemp(join(tmpdir(), 'jwt-')), 'token')
    await writeFile(jwtPath, 'eyJ.service-account.jwt\n')
    const result = await walk(
      await reader(stack, {method: 'kubernetes', role: 'secretsync', jwt_path: jwtPath}),
      'secret/k/',
    )
    expect(result.secrets.size).toBe(1)
  })

  it('renews a token that nears expiry during a long walk, and logs in again when it cannot', async () => {
    let now = Date.now()
    stack = await startTestStack(
      {vault: {secrets: {'secret/t/a': {v: 1}, 'secret/t/b': {v: 2}}, approles: {app: {policies}}}},
      {now: () => now},
    )
    const {roleId, secretId} = stack.credentials.approles.app as {roleId: string; secretId: string}
    const runtime = recordingRuntime()
    const r = await connectVault({
      config: vaultConfig(stack.vault.url, {method: 'approle', role_id: roleId, secret_id: secretId}),
      logger: runtime.logger,
      redactor: runtime.redactor,
      env: {},
      retry,
      breakers: breakersOff(),
      now: () => now,
    })
    // Default AppRole token TTL is long; jump past two thirds of Vault's 768h default.
    now += 600 * 3600 * 1000
    stack.controls.resetCounters()
    expect((await r.read('secret/', 't/a')).kind).toBe('ok')
    // The renewal is capped at the 768h max (168h left, under a third of the TTL): it logs in again at once.
    expect(stack.controls.count({operation: 'renew-self'})).toBe(1)
    expect(stack.controls.count({operation: 'login-approle'})).toBe(1)
  })
})
