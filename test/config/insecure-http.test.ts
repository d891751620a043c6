import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isLoopbackHost} from '../../src/config/transport-security.js'
import {runCli, writeTempConfig} from '../support/cli.js'
import {pipelineConfigText} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Secrets and credentials travel only over TLS: plain http:// is allowed to loopback hosts (the sandbox,
// docker-compose) and elsewhere only with allow_insecure_http: true, which then warns on every run.

const config = ({address = 'https://vault.example.com:8200', extra = ''} = {}) => `vault:
  address: ${address}
  auth: {method: token, token: t}
aws:
  region: us-east-1
${extra}`

const validate = async (text: string, env: Record<string, string> = {}) =>
  runCli(['validate', '-c', await writeTempConfig(text)], {env})

describe('the https-only rule, checked by validate before anything is contacted', () => {
  it('plain http:// to a host that is not loopback is exit 2 naming the key, its line and how to allow it', async () => {
    const {code, stderr} = await validate(config({address: 'http://vault.example.com:8200'}))
    expect(code).toBe(2)
    expect(stderr).toContain(':2:12: vault.address: uses plain http:// to vault.example.com, which is not loopback')
    expect(stderr).toContain('set allow_insecure_http: true (top level) to allow it on purpose')
  })

  it.each([
    'http://127.0.0.1:8200',
    'http://127.42.0.9:8200',
    'http://localhost:8200',
    'http://[::1]:8200',
    'https://vault.example.com',
  ])('%s is accepted', async (address) => {
    const {code, stdout, stderr} = await validate(config({address}))
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).not.toContain('allow_insecure_http')
  })

  it('the AWS endpoints in the config and in AWS_ENDPOINT_URL* are held to the same rule, every one named', async () => {
    const text = config({
      extra: `merge_store: {bucket: store, endpoint: "http://minio.internal:9000"}\n`,
    }).replace('  region: us-east-1\n', '  region: us-east-1\n  endpoint: http://localstack.internal:4566\n')
    const {code, stderr} = await validate(text, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://sm.internal',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
    })
    expect(code).toBe(2)
    expect(stderr).toContain('aws.endpoint: uses plain http:// to localstack.internal')
    expect(stderr).toContain('merge_store.endpoint: uses plain http:// to minio.internal')
    expect(stderr).toContain('environment: AWS_ENDPOINT_URL_SECRETS_MANAGER: uses plain http:// to sm.internal')
    expect(stderr).not.toContain('AWS_ENDPOINT_URL:')
  })

  it('an address from ${VAULT_ADDR} is checked after interpolation', async () => {
    const {code, stderr} = await validate(config({address: '${VAULT_ADDR}'}), {VAULT_ADDR: 'http://10.0.0.5:8200'})
    expect(code).toBe(2)
    expect(stderr).toContain('vault.address: uses plain http:// to 10.0.0.5')
  })

  it('allow_insecure_http: true lets it through, and validate says what it allows', async () => {
    const {code, stdout} = await validate(
      config({address: 'http://vault.example.com:8200', extra: 'allow_insecure_http: true\n'}),
    )
    expect(code).toBe(0)
    expect(stdout).toContain(
      'warning: allow_insecure_http is set: secrets and credentials may travel unencrypted over plain http:// to hosts that are not loopback: vault.address (vault.example.com)',
    )
  })

  it('VAULT_SKIP_VERIFY asking to skip certificate checks is refused, not silently ignored', async () => {
    const refused = await validate(config(), {VAULT_SKIP_VERIFY: 'true'})
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain(
      "environment: VAULT_SKIP_VERIFY: is set, but secretsync never turns off Vault's certificate checks",
    )
    expect((await validate(config(), {VAULT_SKIP_VERIFY: 'false'})).code).toBe(0)
  })
})

describe('what counts as loopback', () => {
  const hostOf = (url: string) => new URL(url).hostname
  it.each([
    ['http://127.0.0.1', true],
    ['http://127.255.255.254:1', true],
    ['http://0x7f000001', true],
    ['http://[0:0:0:0:0:0:0:1]', true],
    ['http://LOCALHOST', true],
    ['http://127.0.0.1.example.com', false],
    ['http://localhost.example.com', false],
    ['http://[::ffff:127.0.0.1]', false],
    ['http://128.0.0.1', false],
    ['http://user:pw@10.0.0.1', false],
  ])('%s → %s', (url, loopback) => {
    expect(isLoopbackHost(hostOf(url))).toBe(loopback)
  })
})

describe('every command applies the rule before contacting anything', () => {
  let stack: TestStack
  beforeAll(async () => {
    stack = await startTestStack({vault: {secrets: {'secret/base/db': {a: 1}}}, aws: {buckets: ['merge-store']}})
  })
  afterAll(async () => {
    await stack.close()
  })
  const text = (extra = '') =>
    pipelineConfigText({targets: '  - {name: app, account_id: "111111111111", imports: [base]}\n', extra})

  it('pipeline with an http:// Vault elsewhere exits 2 and reaches neither Vault nor AWS', async () => {
    const file = await writeTempConfig(text())
    stack.controls.resetCounters()
    const {code, stderr} = await runCli(['pipeline', '-c', file], {
      env: {...stack.env, VAULT_ADDR: 'http://vault.example.com:8200'},
    })
    expect(code).toBe(2)
    expect(stderr).toContain('vault.address: uses plain http:// to vault.example.com')
    expect(stack.controls.count({service: 'vault'}) + stack.controls.count({service: 'sts'})).toBe(0)
  })

  it('with allow_insecure_http: true a run goes ahead and logs the warning at warn', async () => {
    const file = await writeTempConfig(text('allow_insecure_http: true\nlogging: {level: warn, format: json}\n'))
    const {code, stderr} = await runCli(['pipeline', '-c', file, '-o', 'compact'], {env: stack.env})
    expect(code).toBe(0)
    const warnings = stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as {level: string; message: string})
      .filter((entry) => entry.message.startsWith('allow_insecure_http is set'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.level).toBe('warn')
  })
})
