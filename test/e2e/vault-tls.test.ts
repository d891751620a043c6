import {copyFile, mkdtemp, readFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {pipelineConfigText} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'
import {startVaultServer, type VaultServer} from '../support/vault/vault-server.js'

// A Vault behind a private CA, as most self-hosted Vaults are: its certificate is checked against the CA given by
// vault.tls.ca_cert, VAULT_CACERT or VAULT_CAPATH (as the vault CLI takes them), and the check is never turned off.

const TLS = resolve(import.meta.dirname, '../support/fixtures/tls')
const CA = join(TLS, 'ca.pem')
const ACCOUNT = '111111111111'
let stack: TestStack
let vault: VaultServer

beforeAll(async () => {
  stack = await startTestStack({aws: {buckets: ['merge-store']}})
  vault = await startVaultServer({
    controls: stack.controls,
    tls: {cert: await readFile(join(TLS, 'server.pem'), 'utf8'), key: await readFile(join(TLS, 'server.key'), 'utf8')},
  })
  vault.mountKv('secret/')
  vault.putSecret('secret/', 'base/db', {over: 'tls'})
})
afterAll(async () => {
  await Promise.all([stack.close(), vault.close()])
})

async function pipeline(vaultLines: string, env: Record<string, string | undefined> = {}) {
  const file = await writeTempConfig(
    pipelineConfigText({
      targets: `  - {name: app, account_id: "${ACCOUNT}", imports: [base]}\n`,
      extra: 'logging: {level: warn}\nretry: {max_attempts: 1}\n',
    }).replace('  auth: {method: token}\n', `  auth: {method: token}\n${vaultLines}`),
  )
  return runCli(['pipeline', '-c', file, '-o', 'compact'], {
    env: {...stack.env, VAULT_ADDR: vault.url, VAULT_TOKEN: vault.rootToken, ...env},
  })
}

const synced = () => stack.aws.secretsManager.getSecret(ACCOUNT, 'us-east-1', 'db')?.value

describe('Vault over https with a private CA', () => {
  it('the test Vault really speaks https', () => {
    expect(vault.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
  })

  it('without the CA the certificate is refused: the run fails and says why', async () => {
    const {code, stderr} = await pipeline('')
    expect(code).toBe(1)
    expect(stderr).toMatch(/self[- ]signed certificate|unable to (get|verify)/)
  })

  it('NODE_TLS_REJECT_UNAUTHORIZED=0 does not turn the check off behind the config', async () => {
    const {code} = await pipeline('', {NODE_TLS_REJECT_UNAUTHORIZED: '0'})
    expect(code).toBe(1)
  })

  it('vault.tls.ca_cert names the CA file', async () => {
    const {code, stderr} = await pipeline(`  tls: {ca_cert: "${CA}"}\n`)
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(synced()).toBe(JSON.stringify({over: 'tls'}))
  })

  it('VAULT_CACERT and VAULT_CAPATH work as they do for the vault CLI', async () => {
    expect((await pipeline('', {VAULT_CACERT: CA})).code).toBe(0)
    const dir = await mkdtemp(join(tmpdir(), 'secretsync-capath-'))
    await copyFile(CA, join(dir, 'private-ca.pem'))
    expect((await pipeline('', {VAULT_CAPATH: dir})).code).toBe(0)
  })

  it('a CA file without a certificate fails the Vault connection naming the setting, never falls back', async () => {
    const notPem = await writeTempConfig('not a certificate\n', 'ca.pem')
    const {code, stderr} = await pipeline(`  tls: {ca_cert: "${notPem}"}\n`)
    expect(code).toBe(1)
    expect(stderr).toContain('vault.tls.ca_cert: has no PEM certificate')
  })
})
