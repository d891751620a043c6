import vault from 'node-vault'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {startVaultServer, type Policy, type VaultServer} from '../support/vault/vault-server.js'

/**
 * Conformance of the in-process Vault against Vault's documented HTTP API, driven through the real
 * node-vault client over real HTTP. node-vault's `list` must be told `noCustomHTTPVerbs: true` so it sends
 * `GET ?list=1`: the LIST verb never reaches a Node server (see the last test).
 */

type VaultClient = ReturnType<typeof vault>

interface Failure {
  status?: number
  body?: unknown
  code?: string
  message: string
}

const T0 = Date.parse('2030-01-01T00:00:00.000Z')

let server: VaultServer
let clockMs: number

const advanceSeconds = (seconds: number): void => {
  clockMs += seconds * 1000
}

beforeEach(async () => {
  clockMs = T0
  server = await startVaultServer({now: () => clockMs})
})

afterEach(async () => {
  await server.close()
})

const clientFor = (options: {token?: string; namespace?: string} = {}): VaultClient =>
  vault({
    endpoint: server.url,
    token: options.token ?? server.rootToken,
    namespace: options.namespace,
    noCustomHTTPVerbs: true,
  })

/** The status, body or socket error code of a call that must fail. */
async function failureOf(call: Promise<unknown>): Promise<Failure> {
  try {
    await call
  } catch (error) {
    const e = error as {response?: {statusCode?: number; body?: unknown}; code?: string; message: string}
    return {status: e.response?.statusCode, body: e.response?.body, code: e.code, message: e.message}
  }
  throw new Error('expected the call to fail, it succeeded')
}

const DENIED = {errors: ['1 error occurred:\n\t* permission denied\n\n']}

describe('KV v2 data and metadata', () => {
  it('numbers versions on write and reads the latest or a chosen version in the full envelope', async () => {
    // Given a KV v2 mount
    server.mountKv('secret/')
    const client = clientFor()

    // When a key is written twice
    const first = await client.write('secret/data/app/db', {data: {password: 'one'}})
    const second = await client.write('secret/data/app/db', {data: {password: 'two'}})

    // Then the writes report versions 1 and 2, and reads return the right data
    expect(first.data.version).toBe(1)
    expect(second.data).toMatchObject({version: 2, deletion_time: '', destroyed: false})
    const latest = await client.read('secret/data/app/db')
    expect(Object.keys(latest).sort()).toEqual(
      [
        'auth',
        'data',
        'lease_duration',
        'lease_id',
        'mount_type',
        'renewable',
        'request_id',
        'warnings',
        'wrap_info',
      ].sort(),
    )
    expect(latest.data.data).toEqual({password: 'two'})
    expect(latest.data.metadata).toMatchObject({version: 2, deletion_time: '', destroyed: false, custom_metadata: null})
    expect(latest.mount_type).toBe('kv')
    const older = await client.read('secret/data/app/db?version=1')
    expect(older.data.data).toEqual({password: 'one'})
    expect(server.currentVersion('secret/', 'app/db')).toBe(2)
  })

  it('lists folders with a trailing slash and answers an empty folder with 404 and no errors', async () => {
    server.mountKv('secret/')
    for (const key of ['app/db', 'app/api/config', 'app/api/keys', 'top']) server.putSecret('secret/', key, {k: key})
    const client = clientFor()

    expect((await client.list('secret/metadata')).data.keys).toEqual(['app/', 'top'])
    expect((await client.list('secret/metadata/app/')).data.keys).toEqual(['api/', 'db'])
    expect((await client.list('secret/metadata/app/api')).data.keys).toEqual(['config', 'keys'])

    const empty = await failureOf(client.list('secret/metadata/nothing'))
    expect(empty.status).toBe(404)
    expect(empty.body).toEqual({errors: []})
  })

  it('soft-deletes the latest version: reads answer 404 with data null and deletion_time, undelete restores', async () => {
    server.mountKv('secret/')
    server.putSecret('secret/', 'svc', {v: 1})
    server.putSecret('secret/', 'svc', {v: 2})
    const client = clientFor()

    await client.delete('secret/data/svc')

    const gone = await failureOf(client.read('secret/data/svc'))
    expect(gone.status).toBe(404)
    const body = gone.body as {data: {data: unknown; metadata: {deletion_time: string; version: number}}}
    expect(body.data.data).toBeNull()
    expect(body.data.metadata.version).toBe(2)
    expect(body.data.metadata.deletion_time).toBe(new Date(T0).toISOString())
    // Earlier versions stay readable, and the key is still listed (its metadata exists)
    expect((await client.read('secret/data/svc?version=1')).data.data).toEqual({v: 1})
    expect((await client.list('secret/metadata')).data.keys).toEqual(['svc'])

    await client.write('secret/undelete/svc', {versions: [2]})
    expect((await client.read('secret/data/svc')).data.data).toEqual({v: 2})
  })

  it('destroys a version for good and reports it in the key metadata', async () => {
    server.mountKv('secret/')
    server.putSecret('secret/', 'svc', {v: 1})
    const client = clientFor()

    await client.request({path: '/secret/destroy/svc', method: 'PUT', json: {versions: [1]}})

    const gone = await failureOf(client.read('secret/data/svc'))
    expect(gone.status).toBe(404)
    expect((gone.body as {data: {metadata: {destroyed: boolean}}}).data.metadata.destroyed).toBe(true)
    const metadata = await client.read('secret/metadata/svc')
    expect(metadata.data).toMatchObject({current_version: 1, oldest_version: 0, max_versions: 0, cas_required: false})
    expect(metadata.data.versions['1']).toMatchObject({destroyed: true})
    // Seeding helpers do the same without HTTP
    server.putSecret('secret/', 'other', {v: 1})
    server.destroyLatest('secret/', 'other')
    expect(server.readSecret('secret/', 'other')).toBeUndefined()
  })

  it('rejects a stale check-and-set with 400 and keeps the current version', async () => {
    server.mountKv('secret/')
    server.putSecret('secret/', 'cas', {v: 1})

    const stale = await failureOf(clientFor().write('secret/data/cas', {data: {v: 2}, options: {cas: 0}}))

    expect(stale.status).toBe(400)
    expect(stale.body).toEqual({errors: ['check-and-set parameter did not match the current version']})
    expect(server.readSecret('secret/', 'cas')).toEqual({v: 1})
  })

  it('stores data as written: numbers keep their digits and every key (__proto__ too) reads back as sent', async () => {
    server.mountKv('secret/')
    // Vault decodes with UseNumber and KV v2 stores the JSON it was given, so nothing is rounded or dropped.
    const data =
      '{"__proto__":{"inner":-0},"big":1152921504606846977,"huge":1e400,"long":0.1000000000000000055511151231257827,"one":1.0}'
    const headers = {'x-vault-token': server.rootToken, 'content-type': 'application/json'}
    const write = await fetch(`${server.url}/v1/secret/data/exact`, {method: 'POST', headers, body: `{"data":${data}}`})
    expect(write.status).toBe(200)
    const text = await (await fetch(`${server.url}/v1/secret/data/exact`, {headers})).text()
    expect(text).toContain(`"data":{"data":${data},"metadata":`)
  })
})

describe('listing test hooks', () => {
  it('adds unsafe or looping keys verbatim and follows folder links', async () => {
    server.mountKv('secret/')
    server.putSecret('secret/', 'a/s1', {v: 1})
    server.addListingAlias('secret/', 'a/', ['../x', 'a//b', '/abs', 'nul\u0000x', 'loop/'])
    server.linkFolder('secret/', 'a/loop/', 'a/')
    const client = clientFor()

    const keys = ['s1', '../x', 'a//b', '/abs', 'nul\u0000x', 'loop/']
    expect((await client.list('secret/metadata/a')).data.keys).toEqual(keys)
    // The loop leads back to its parent, however deep a walker follows it
    expect((await client.list('secret/metadata/a/loop/loop')).data.keys).toEqual(keys)
    expect((await client.read('secret/data/a/loop/s1')).data.data).toEqual({v: 1})
  })
})

describe('sys/internal/ui/mounts', () => {
  it('resolves the longest mount prefix, nested or at the root', async () => {
    server.mountKv('secret/')
    server.mountKv('teams/platform/kv/')
    const client = clientFor()

    const nested = await client.read('sys/internal/ui/mounts/teams/platform/kv/app/config')
    expect(nested.data).toMatchObject({path: 'teams/platform/kv/', type: 'kv', options: {version: '2'}})
    const root = await client.read('sys/internal/ui/mounts/secret')
    expect(root.data).toMatchObject({path: 'secret/', type: 'kv', options: {version: '2'}})
    expect(() => server.mountKv('teams/')).toThrow(/overlaps/)
  })

  it('answers any capability below the mount, and 403 for other mounts or unknown ones', async () => {
    server.mountKv('secret/')
    server.mountKv('teams/platform/kv/')
    const token = server.createToken({policies: [{path: 'secret/data/app/*', capabilities: ['read']}]})
    const client = clientFor({token})

    expect((await client.read('sys/internal/ui/mounts/secret/app')).data.path).toBe('secret/')
    const other = await failureOf(client.read('sys/internal/ui/mounts/teams/platform/kv/x'))
    expect(other.status).toBe(403)
    expect(other.body).toEqual({
      errors: [
        'preflight capability check returned 403, please ensure client\'s policies grant access to path "teams/platform/kv/x/"',
      ],
    })
    expect((await failureOf(clientFor().read('sys/internal/ui/mounts/nomount/x'))).status).toBe(403)
    // An exact rule below the mount is enough too
    const exact = server.createToken({policies: [{path: 'teams/platform/kv/data/app', capabilities: ['read']}]})
    const viaExact = await clientFor({token: exact}).read('sys/internal/ui/mounts/teams/platform/kv/app')
    expect(viaExact.data.path).toBe('teams/platform/kv/')
  })
})

describe('policies', () => {
  const policies: Policy[] = [
    {path: 'secret/metadata/app/*', capabilities: ['list']},
    {path: 'secret/data/app/*', capabilities: ['read']},
    {path: 'secret/data/app/private', capabilities: ['deny']},
    {path: 'secret/data/+/config', capabilities: ['read']},
    // Less precise than `secret/data/app/*` (its first wildcard comes earlier), so it does not deny app/db
    {path: 'secret/+/app/db', capabilities: ['deny']},
  ]

  it("allows what the ACL grants and answers 403 with Vault's error text outside it", async () => {
    server.mountKv('secret/')
    for (const key of ['app/db', 'app/private', 'other/x', 'svc/config', 'svc/other'])
      server.putSecret('secret/', key, {k: key})
    const client = clientFor({token: server.createToken({policies})})

    expect((await client.list('secret/metadata/app')).data.keys).toEqual(['db', 'private'])
    expect((await client.read('secret/data/app/db')).data.data).toEqual({k: 'app/db'})
    expect((await client.read('secret/data/svc/config')).data.data).toEqual({k: 'svc/config'})

    const listOutside = await failureOf(client.list('secret/metadata/other'))
    expect(listOutside.status).toBe(403)
    expect(listOutside.body).toEqual(DENIED)
    const readOutside = await failureOf(client.read('secret/data/other/x'))
    expect([readOutside.status, readOutside.body]).toEqual([403, DENIED])
    expect((await failureOf(client.read('secret/data/app/private'))).status).toBe(403)
    expect((await failureOf(client.read('secret/data/svc/other'))).status).toBe(403)
    // Writing needs create/update, which this policy does not grant
    expect((await failureOf(client.write('secret/data/app/db', {data: {}}))).status).toBe(403)
  })
})

describe('auth methods and tokens', () => {
  const readApp: Policy[] = [{path: 'secret/data/app/*', capabilities: ['read'], name: 'app-read'}]

  it('logs in with AppRole and refuses a wrong secret ID', async () => {
    server.mountKv('secret/')
    server.putSecret('secret/', 'app/db', {password: 'p'})
    const {roleId, secretId} = server.addAppRole('secretsync', {policies: readApp, tokenTtlSeconds: 600})
    const client = clientFor({token: ''})

    const login = await client.approleLogin({role_id: roleId, secret_id: secretId})

    expect(login.auth).toMatchObject({
      policies: ['app-read', 'default'],
      token_policies: ['app-read', 'default'],
      metadata: {role_name: 'secretsync'},
      lease_duration: 600,
      renewable: true,
    })
    expect(login.auth.client_token).toMatch(/^hvs\./)
    expect((await client.read('secret/data/app/db')).data.data).toEqual({password: 'p'})
    const bad = await failureOf(clientFor({token: ''}).approleLogin({role_id: roleId, secret_id: 'wrong'}))
    expect([bad.status, bad.body]).toEqual([400, {errors: ['invalid role or secret ID']}])
  })

  it('logs in with Kubernetes and refuses another JWT or an unknown role', async () => {
    const jwt = [
      'e30',
      Buffer.from(
        JSON.stringify({
          'kubernetes.io/serviceaccount/namespace': 'jobs',
          'kubernetes.io/serviceaccount/service-account.name': 'secretsync',
          'kubernetes.io/serviceaccount/service-account.uid': 'uid-1',
        }),
      ).toString('base64url'),
      'sig',
    ].join('.')
    server.addKubernetesRole('secretsync', {policies: readApp, serviceAccountJwt: jwt})
    const client = clientFor({token: ''})

    // node-vault 0.12 leaves `{{kubernetesPath}}` empty (POST /v1/auth//login) unless mount_point is given
    const login = await client.kubernetesLogin({role: 'secretsync', jwt, mount_point: 'kubernetes'})

    expect(login.auth.metadata).toMatchObject({
      role: 'secretsync',
      service_account_namespace: 'jobs',
      service_account_name: 'secretsync',
    })
    expect(server.tokenCount()).toBe(1)
    const bad = await failureOf(
      clientFor({token: ''}).kubernetesLogin({role: 'secretsync', jwt: `${jwt}x`, mount_point: 'kubernetes'}),
    )
    expect([bad.status, bad.body]).toEqual([403, {errors: ['permission denied']}])
    const unknown = await failureOf(
      clientFor({token: ''}).kubernetesLogin({role: 'nope', jwt, mount_point: 'kubernetes'}),
    )
    expect([unknown.status, unknown.body]).toEqual([400, {errors: ['invalid role name "nope"']}])
  })

  it('expires a token at its TTL on the injected clock', async () => {
    server.mountKv('secret/')
    server.putSecret('secret/', 'app/db', {password: 'p'})
    const client = clientFor({token: server.createToken({policies: readApp, ttlSeconds: 60})})
    expect((await client.read('secret/data/app/db')).data.data).toEqual({password: 'p'})

    advanceSeconds(60)

    const expired = await failureOf(client.read('secret/data/app/db'))
    expect(expired.status).toBe(403)
    expect(expired.message).toContain('permission denied')
    expect(server.tokenCount()).toBe(0)
  })

  it('renews a token with renew-self up to its max TTL, and refuses a non-renewable one', async () => {
    const token = server.createToken({policies: readApp, ttlSeconds: 60, maxTtlSeconds: 600})
    const client = clientFor({token})
    advanceSeconds(30)

    const renewed = await client.tokenRenewSelf({increment: 300})
    expect(renewed.auth.lease_duration).toBe(300)
    expect((await client.tokenLookupSelf()).data).toMatchObject({
      ttl: 300,
      renewable: true,
      policies: ['app-read', 'default'],
    })
    advanceSeconds(200)
    expect((await client.tokenLookupSelf()).data.ttl).toBe(100)

    // 230 s have passed of a 600 s max: a 1 h increment is capped at 370 s with Vault's warning
    const capped = await client.tokenRenewSelf({increment: '1h'})
    expect(capped.auth.lease_duration).toBe(370)
    expect(capped.warnings).toEqual([
      'TTL of "1h0m0s" exceeded the effective max_ttl of "6m10s"; TTL value is capped accordingly',
    ])

    const fixed = clientFor({token: server.createToken({policies: readApp, renewable: false})})
    const refused = await failureOf(fixed.tokenRenewSelf())
    expect([refused.status, refused.body]).toEqual([400, {errors: ['lease is not renewable']}])
  })
})

describe('tokens at their max TTL', () => {
  const readApp: Policy[] = [{path: 'secret/data/app/*', capabilities: ['read'], name: 'app-read'}]

  it("an AppRole's token_max_ttl caps renewals; under a second before it renew-self answers lease_duration 0, then the token is gone", async () => {
    server.mountKv('secret/')
    server.putSecret('secret/', 'app/db', {password: 'p'})
    const {roleId, secretId} = server.addAppRole('capped', {
      policies: readApp,
      tokenTtlSeconds: 60,
      tokenMaxTtlSeconds: 100,
    })
    const login = await clientFor({token: ''}).approleLogin({role_id: roleId, secret_id: secretId})
    const client = clientFor({token: login.auth.client_token})
    advanceSeconds(50)
    expect((await client.tokenRenewSelf({increment: 60})).auth.lease_duration).toBe(50)
    clockMs += 49_500
    // Vault's CalculateTTL caps at the exact remaining time; lease_duration is its whole seconds
    const renewed = await client.tokenRenewSelf({increment: 60})
    expect(renewed.auth.lease_duration).toBe(0)
    expect(renewed.warnings).toEqual([
      'TTL of "1m0s" exceeded the effective max_ttl of "0s"; TTL value is capped accordingly',
    ])
    clockMs += 500
    const expired = await failureOf(client.read('secret/data/app/db'))
    expect([expired.status, expired.body]).toEqual([
      403,
      {errors: ['2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n']},
    ])
  })

  it('with legacyTokenErrors a dead token answers plain "permission denied", as Vault before 1.16', async () => {
    const legacy = await startVaultServer({now: () => clockMs, legacyTokenErrors: true})
    try {
      legacy.mountKv('secret/')
      const token = legacy.createToken({policies: readApp, ttlSeconds: 10})
      advanceSeconds(10)
      const client = vault({endpoint: legacy.url, token, noCustomHTTPVerbs: true})
      const expired = await failureOf(client.read('secret/data/app/db'))
      expect([expired.status, expired.body]).toEqual([403, {errors: ['permission denied']}])
    } finally {
      await legacy.close()
    }
  })
})

describe('namespaces', () => {
  it('keeps state per namespace, selected by header or path prefix, and scopes tokens to theirs', async () => {
    server.mountKv('secret/')
    server.mountKv('secret/', {namespace: 'ns1'})
    server.putSecret('secret/', 'app', {where: 'root'})
    server.putSecret('secret/', 'app', {where: 'ns1'}, {namespace: 'ns1'})

    expect((await clientFor().read('secret/data/app')).data.data).toEqual({where: 'root'})
    expect((await clientFor({namespace: 'ns1'}).read('secret/data/app')).data.data).toEqual({where: 'ns1'})
    expect((await clientFor().read('ns1/secret/data/app')).data.data).toEqual({where: 'ns1'})
    expect((await clientFor({namespace: 'ns1'}).list('secret/metadata')).data.keys).toEqual(['app'])

    const nsToken = server.createToken({policies: [{path: 'secret/data/*', capabilities: ['read']}], namespace: 'ns1'})
    expect((await clientFor({token: nsToken, namespace: 'ns1'}).read('secret/data/app')).data.data).toEqual({
      where: 'ns1',
    })
    const outside = await failureOf(clientFor({token: nsToken}).read('secret/data/app'))
    expect(outside.status).toBe(403)
  })
})

describe('controls', () => {
  it('fails the next two LIST calls with 500, then answers, counting every call', async () => {
    server.mountKv('secret/')
    server.putSecret('secret/', 'k', {v: 1})
    server.controls.injectFault({service: 'vault', operation: 'list', kind: '5xx', count: 2})
    const client = clientFor()

    const first = await failureOf(client.list('secret/metadata'))
    const second = await failureOf(client.list('secret/metadata'))
    const third = await client.list('secret/metadata')

    expect([first.status, first.body]).toEqual([500, {errors: ['internal error']}])
    expect(second.status).toBe(500)
    expect(third.data.keys).toEqual(['k'])
    expect(server.controls.count({service: 'vault', operation: 'list'})).toBe(3)
  })

  it('counts calls by operation', async () => {
    server.mountKv('secret/')
    const client = clientFor()
    await client.write('secret/data/a', {data: {v: 1}})
    await client.read('secret/data/a')
    await client.read('secret/data/a')
    await client.read('secret/metadata/a')
    await client.read('sys/internal/ui/mounts/secret')
    await client.tokenLookupSelf()
    await client.request({path: '/secret/metadata/a', method: 'DELETE'})

    expect(server.controls.snapshot().vault).toEqual({
      write: 1,
      read: 2,
      'metadata-read': 1,
      mounts: 1,
      'lookup-self': 1,
      'metadata-delete': 1,
    })
  })

  it('delays answers by the configured latency', async () => {
    server.mountKv('secret/')
    server.putSecret('secret/', 'k', {v: 1})
    server.controls.setLatency({service: 'vault', operation: 'read', ms: 300})
    const client = clientFor()

    // A client that gives up before the latency has passed cannot get the answer; a patient one does
    const impatient = await failureOf(client.read('secret/data/k', {timeout: 50}))
    expect(impatient.code).toBe('ECONNABORTED')
    expect((await client.read('secret/data/k')).data.data).toEqual({v: 1})
  })

  it('resets the connection: the client sees ECONNRESET, and the next call works', async () => {
    server.mountKv('secret/')
    server.putSecret('secret/', 'k', {v: 1})
    server.controls.injectFault({service: 'vault', operation: 'read', kind: 'reset', count: 1})
    const client = clientFor()

    const reset = await failureOf(client.read('secret/data/k'))

    expect(reset.code).toBe('ECONNRESET')
    expect((await client.read('secret/data/k')).data.data).toEqual({v: 1})
  })

  it('hangs: a client with a short timeout times out', async () => {
    server.mountKv('secret/')
    server.controls.injectFault({service: 'vault', operation: 'list', kind: 'hang', count: 1})

    const hung = await failureOf(clientFor().list('secret/metadata', {timeout: 200}))

    expect(hung.code).toBe('ECONNABORTED')
    expect(hung.message).toContain('timeout')
  })

  it("throttles beyond a quota with 429 and Vault's rate-limit error", async () => {
    server.mountKv('secret/')
    server.putSecret('secret/', 'k', {v: 1})
    server.controls.setQuota({service: 'vault', operation: 'read', ratePerSecond: 1})
    const client = clientFor()

    await client.read('secret/data/k')
    const throttled = await failureOf(client.read('secret/data/k'))

    expect(throttled.status).toBe(429)
    expect(throttled.body).toEqual({errors: ['request path "secret/data/k": rate limit quota exceeded']})
    expect(server.controls.throttled({service: 'vault', operation: 'read'})).toBe(1)
  })

  it('with enable_rate_limit_response_headers, a 429 says when to retry in whole seconds (Retry-After, X-Ratelimit-*)', async () => {
    // Given a quota of one request every 4 s that sends Vault's rate-limit headers
    server.mountKv('secret/')
    server.putSecret('secret/', 'k', {v: 1})
    server.controls.setQuota({
      service: 'vault',
      operation: 'read',
      ratePerSecond: 0.25,
      burst: 1,
      responseHeaders: true,
    })
    const read = () => fetch(`${server.url}/v1/secret/data/k`, {headers: {'x-vault-token': server.rootToken}})

    expect((await read()).status).toBe(200)
    advanceSeconds(1.5)
    const throttled = await read()

    // Then the 429 carries the same body, and headers that say 2 s (2.5 s truncated, as Vault truncates)
    expect(throttled.status).toBe(429)
    expect(await throttled.json()).toEqual({errors: ['request path "secret/data/k": rate limit quota exceeded']})
    expect(throttled.headers.get('retry-after')).toBe('2')
    expect(throttled.headers.get('x-ratelimit-reset')).toBe('2')
    expect(throttled.headers.get('x-ratelimit-limit')).toBe('1')
    expect(throttled.headers.get('x-ratelimit-remaining')).toBe('0')
  })
})

describe('sys/health', () => {
  it('answers without a token, as an initialized, unsealed, active node: 200 and the documented body', async () => {
    const anonymous = vault({endpoint: server.url, noCustomHTTPVerbs: true})

    const health = (await anonymous.health()) as Record<string, unknown>

    expect(health).toMatchObject({
      initialized: true,
      sealed: false,
      standby: false,
      performance_standby: false,
      replication_performance_mode: 'disabled',
      replication_dr_mode: 'disabled',
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      cluster_name: expect.any(String),
      cluster_id: expect.any(String),
    })
    expect(health.server_time_utc).toEqual(expect.any(Number))
    expect(server.controls.count({service: 'vault', operation: 'health'})).toBe(1)
  })

  it('HEAD answers the status alone; activecode overrides it; a bad code is 400 and other methods 405', async () => {
    const head = await fetch(`${server.url}/v1/sys/health`, {method: 'HEAD'})
    const custom = await fetch(`${server.url}/v1/sys/health?activecode=204`)
    const bad = await fetch(`${server.url}/v1/sys/health?activecode=ok`)
    const post = await fetch(`${server.url}/v1/sys/health`, {method: 'POST'})

    expect([head.status, await head.text()]).toEqual([200, ''])
    expect(custom.status).toBe(204)
    expect(bad.status).toBe(400)
    expect([post.status, await post.json()]).toEqual([405, {errors: []}])
  })
})

describe('HTTP protocol edges', () => {
  it('accepts Authorization: Bearer and answers unknown routes 404 and wrong methods 405', async () => {
    server.mountKv('secret/')
    server.putSecret('secret/', 'k', {v: 1})

    const bearer = await fetch(`${server.url}/v1/secret/data/k`, {
      headers: {authorization: `Bearer ${server.rootToken}`},
    })
    expect(bearer.status).toBe(200)
    const unknown = await fetch(`${server.url}/v1/nomount/x`, {headers: {'x-vault-token': server.rootToken}})
    expect([unknown.status, await unknown.json()]).toEqual([
      404,
      {errors: ['no handler for route "nomount/x". route entry not found.']},
    ])
    const patch = await fetch(`${server.url}/v1/secret/metadata/k/x`, {
      method: 'PATCH',
      headers: {'x-vault-token': server.rootToken},
    })
    expect(patch.status).toBe(405)
    const anonymous = await fetch(`${server.url}/v1/secret/data/k`)
    expect(anonymous.status).toBe(403)
  })

  it('cannot receive the LIST verb: Node rejects it before any handler, so clients must use GET ?list=true', async () => {
    server.mountKv('secret/')
    server.putSecret('secret/', 'k', {v: 1})
    const verbClient = vault({endpoint: server.url, token: server.rootToken})

    const rejected = await failureOf(verbClient.list('secret/metadata'))

    expect(rejected.status).toBe(400)
    expect(server.controls.count({service: 'vault'})).toBe(0)
    const viaGet = await fetch(`${server.url}/v1/secret/metadata?list=true`, {
      headers: {'x-vault-token': server.rootToken},
    })
    expect(((await viaGet.json()) as {data: {keys: string[]}}).data.keys).toEqual(['k'])
  })
})
