import {afterEach, describe, expect, it} from 'vitest'
import type {VaultReader} from '../../src/vault/vault-client.js'
import {startTestStack, type TestStack} from '../support/stack.js'
import {runMerge} from './support/merge-run.js'

// Issue 10 defect 2: a token that cannot be renewed past its max TTL turned into "permission denied; skipped".
let stack: TestStack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

const SECRETS = 40
const policies = [
  {path: 'secret/metadata/*', capabilities: ['list' as const]},
  {path: 'secret/data/*', capabilities: ['read' as const]},
  {path: 'secret/data/app/denied', capabilities: ['deny' as const]},
]

/** A clock shared by the test Vault and the client, moved `stepMs` before every read of the walk. */
function steppingClock(stepMs: number) {
  // No wall-clock drift: renewals land on the same instants every run.
  const start = Date.now()
  let offset = 0
  return {
    now: () => start + offset,
    wrap: (reader: VaultReader, onRead?: (n: number) => void): VaultReader => {
      let reads = 0
      return {
        resolveMount: (path) => reader.resolveMount(path),
        list: (mount, folder) => reader.list(mount, folder),
        read: (mount, key) => {
          offset += stepMs
          onRead?.(++reads)
          return reader.read(mount, key)
        },
      }
    },
  }
}

function fixture(extra: Record<string, {policies: typeof policies; token_ttl?: number; token_max_ttl?: number}> = {}) {
  const secrets: Record<string, Record<string, unknown>> = {'secret/app/denied': {no: true}}
  for (let i = 0; i < SECRETS; i++) secrets[`secret/app/s${String(i).padStart(2, '0')}`] = {i}
  return {vault: {secrets, approles: extra}}
}

const source = [{name: 'app', mount: 'secret/app/'}]
const target = [{name: 't', imports: ['app']}]

describe('a Vault token that expires mid-walk', () => {
  it.each([
    [10_000, 60, 150, false],
    [10_000, 60, 150, true],
    [3_300, 60, 150, true],
    [700, 6, 15, false],
    [450, 6, 15, true],
    [300, 3, 8, false],
    [250, 3, 7, true],
  ])(
    'AppRole logs in again past the max TTL and reads every secret (%i ms per read, ttl %i s, max %i s, legacy 403 text: %s)',
    async (stepMs, ttl, maxTtl, legacyTokenErrors) => {
      // Given an AppRole whose tokens cannot be renewed past their max TTL, and a walk far longer than that
      const clock = steppingClock(stepMs)
      stack = await startTestStack(fixture({app: {policies, token_ttl: ttl, token_max_ttl: maxTtl}}), {
        now: clock.now,
        legacyTokenErrors,
      })
      const {roleId, secretId} = stack.credentials.approles.app as {roleId: string; secretId: string}
      // When the merge phase walks it (concurrency 1, so the clock moves between requests)
      const result = await runMerge({
        address: stack.vault.url,
        auth: {method: 'approle', role_id: roleId, secret_id: secretId},
        concurrency: 1,
        sources: source,
        targets: target,
        now: clock.now,
        wrapReader: (reader) => clock.wrap(reader),
      })
      // Then every secret was read; only the policy-denied one is skipped, and the client logged in again
      expect(result.sources[0]).toMatchObject({
        status: 'ok',
        secrets: SECRETS,
        complete: false,
        skipped: {forbidden: 1},
      })
      expect(result.sources[0]?.skipped_items).toEqual([
        {kind: 'secret', path: 'secret/app/denied', reason: 'forbidden'},
      ])
      expect(result.targets[0]?.secrets.size).toBe(SECRETS)
      expect(stack.controls.count({operation: 'login-approle'})).toBeGreaterThanOrEqual(
        Math.floor((SECRETS * stepMs) / (maxTtl * 1000)),
      )
      expect(stack.controls.count({operation: 'read'})).toBe(SECRETS + 1)
    },
  )

  it('AppRole whose token is revoked mid-walk logs in again once and retries, even without "invalid token" in the 403', async () => {
    const clock = steppingClock(0)
    stack = await startTestStack(fixture({app: {policies}}), {legacyTokenErrors: true})
    const s = stack
    const {roleId, secretId} = s.credentials.approles.app as {roleId: string; secretId: string}
    const result = await runMerge({
      address: s.vault.url,
      auth: {method: 'approle', role_id: roleId, secret_id: secretId},
      concurrency: 4,
      sources: source,
      targets: target,
      wrapReader: (reader) => {
        // Every live token is revoked after the 10th read: requests in flight then answer 403
        return clock.wrap(reader, (n) => {
          if (n === 10) expect(s.vault.revokeAllTokens()).toBe(1)
        })
      },
    })
    expect(result.sources[0]).toMatchObject({status: 'ok', secrets: SECRETS, skipped: {forbidden: 1}})
    expect(s.controls.count({operation: 'login-approle'})).toBe(2)
  })

  it('with method token an expired token fails the source loudly, never a skip', async () => {
    const clock = steppingClock(10_000)
    stack = await startTestStack(fixture(), {now: clock.now})
    const token = stack.vault.createToken({policies, ttlSeconds: 60, maxTtlSeconds: 100})
    const result = await runMerge({
      address: stack.vault.url,
      auth: {method: 'token', token},
      concurrency: 1,
      sources: source,
      targets: target,
      now: clock.now,
      wrapReader: (reader) => clock.wrap(reader),
    })
    expect(result.sources[0]).toMatchObject({status: 'failed', complete: false})
    expect(result.sources[0]?.error).toContain('the Vault token expired or was revoked')
    expect(result.targets[0]).toMatchObject({ok: false})
    expect(result.targets[0]?.error).toContain('source "app" failed')
  })
})
