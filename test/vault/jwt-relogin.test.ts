import {writeFileSync} from 'node:fs'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {jwtSigningKey, signJwt} from '../support/github-oidc.js'
import {startTestStack, type TestStack} from '../support/stack.js'
import {runMerge} from './support/merge-run.js'

// Kubernetes projected service-account tokens rotate: a new login must read jwt_path again, not reuse the JWT
// it read at start.
let stack: TestStack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

const SECRETS = 30
const policies = [
  {path: 'secret/metadata/*', capabilities: ['list' as const]},
  {path: 'secret/data/*', capabilities: ['read' as const]},
]

describe('vault.auth.method jwt with jwt_path', () => {
  it('reads the file again at every login: after the issuer rotates its key and the file, the new login works', async () => {
    const secrets: Record<string, Record<string, unknown>> = {}
    for (let i = 0; i < SECRETS; i++) secrets[`secret/app/s${String(i).padStart(2, '0')}`] = {i}
    const s = (stack = await startTestStack({vault: {secrets}}))
    const first = jwtSigningKey()
    const claims = {iss: 'https://kubernetes.default.svc', aud: 'vault', sub: 'system:serviceaccount:sync:secretsync'}
    s.vault.configureJwtAuth({publicKeys: [first.publicKeyPem], boundIssuer: claims.iss})
    s.vault.addJwtRole('secretsync', {policies, boundAudiences: ['vault']})
    const file = join(await mkdtemp(join(tmpdir(), 'secretsync-sa-')), 'token')
    writeFileSync(file, signJwt(first.privateKey, claims))

    const result = await runMerge({
      address: s.vault.url,
      auth: {method: 'jwt', role: 'secretsync', jwt_path: file},
      concurrency: 1,
      sources: [{name: 'app', mount: 'secret/app/'}],
      targets: [{name: 't', imports: ['app']}],
      wrapReader: (reader) => ({
        resolveMount: (path) => reader.resolveMount(path),
        list: (mount, folder) => reader.list(mount, folder),
        read: (mount, key) => {
          if (key === 'app/s10') {
            // The issuer rotates: only the new key is trusted, the kubelet writes a token signed with it,
            // and the Vault token stops working (revoked), so the client must log in again.
            const next = jwtSigningKey()
            s.vault.configureJwtAuth({publicKeys: [next.publicKeyPem], boundIssuer: claims.iss})
            writeFileSync(file, signJwt(next.privateKey, claims))
            s.vault.revokeAllTokens()
          }
          return reader.read(mount, key)
        },
      }),
    })
    expect(result.sources[0]).toMatchObject({status: 'ok', secrets: SECRETS})
    expect(s.controls.count({operation: 'login-jwt'})).toBe(2)
  })
})
