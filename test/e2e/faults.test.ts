import {afterEach, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {parseJsonOutput} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Stories of `secretsync pipeline` under the faults infrastructure meets: throttling, outages, 5xx storms,
// hung requests and connection resets, injected through the test stack's controls. Outcomes, never durations.

const A = '111111111111'
const B = '222222222222'
const BUCKET = 'merge-store'
const SECRETS = {
  'secret/base/db': {user: 'app', password: 'pw-1'},
  'secret/base/api': {key: 'k-1'},
  'secret/base/mq': {url: 'amqp://mq'},
  'secret/base/cache': {ttl: 30},
  'secret/base/nested/cfg': {list: [1, 2]},
}
const NAMES = ['app/api', 'app/cache', 'app/db', 'app/mq', 'app/nested/cfg']

interface SyncJson {
  summary: Record<string, number>
  targets: Array<{
    name: string
    account_id: string | null
    status: string
    error: string | null
    snapshot_version: number | null
    changes: Array<{action: string; name: string; error: string | null}>
  }>
}

let stack: TestStack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

const start = async (vault: Record<string, Record<string, unknown>> = SECRETS): Promise<TestStack> => {
  stack = await startTestStack({vault: {secrets: vault}, aws: {buckets: [BUCKET]}})
  return stack
}

const target = (name: string, account: string, imports = '[base]') =>
  `  - {name: ${name}, account_id: "${account}", imports: ${imports}, secret_prefix: ${name}/}\n`

/** A config against the stack; `settings` is YAML appended at the top level (retry, circuit_breaker, …). */
function writeConfig(
  options: {settings?: string; targets?: string; sources?: string; aws?: string; vault?: string} = {},
): Promise<string> {
  return writeTempConfig(`vault:
  address: \${VAULT_ADDR}
  auth: {method: token}
${options.vault ?? ''}vault_sources:
${options.sources ?? '  - {name: base, mount: secret/base/}\n'}merge_store:
  bucket: ${BUCKET}
  endpoint: \${AWS_ENDPOINT_URL}
aws:
  region: us-east-1
  endpoint: \${AWS_ENDPOINT_URL}
  role_pattern: arn:aws:iam::{{account_id}}:role/SecretSync
${options.aws ?? ''}targets:
${options.targets ?? target('app', A)}logging: {level: warn}
${options.settings ?? ''}`)
}

/** Runs the built CLI with --json; a run that hangs fails the test long before vitest's own timeout would. */
async function pipeline(s: TestStack, config: string, ...args: string[]) {
  const result = await runCli(['pipeline', '-c', config, '--json', ...args], {env: s.env, timeoutMs: 45_000})
  return {...result, json: parseJsonOutput<SyncJson>(result)}
}

const targetNamed = (json: SyncJson, name: string) => json.targets.find((t) => t.name === name)
const valueIn = (s: TestStack, account: string, name: string): unknown =>
  JSON.parse(s.aws.secretsManager.getSecret(account, 'us-east-1', name)?.value ?? 'null')
const storeObject = (s: TestStack, key: string): unknown => {
  const body = s.aws.s3.getObject(BUCKET, key)?.body
  return body === undefined ? undefined : JSON.parse(body.toString('utf8'))
}

describe('faults the pipeline absorbs', () => {
  it('a burst of throttling on CreateSecret is absorbed by retries: every secret is created', async () => {
    // Given Secrets Manager allows 2 CreateSecret calls at once and 4 a second after that
    const s = await start()
    const config = await writeConfig({settings: 'retry: {max_attempts: 8, base_delay: 50ms, max_delay: 1s}\n'})
    s.controls.setQuota({service: 'secretsmanager', operation: 'CreateSecret', ratePerSecond: 4, burst: 2})

    // When the first sync creates 5 secrets in parallel
    const {code, json, stderr} = await pipeline(s, config)

    // Then the throttled calls were retried until every secret was created
    expect(code, stderr).toBe(0)
    expect(json.summary).toMatchObject({created: 5, failed: 0, failed_targets: 0})
    expect(s.aws.secretsManager.listNames(A, 'us-east-1')).toEqual(NAMES)
    expect(s.controls.throttled({service: 'secretsmanager', operation: 'CreateSecret'})).toBeGreaterThan(0)
    expect(s.controls.count({service: 'secretsmanager', operation: 'CreateSecret'})).toBe(
      5 + s.controls.throttled({service: 'secretsmanager', operation: 'CreateSecret'}),
    )
  })

  it('connection resets on ListSecrets are retried and the run succeeds', async () => {
    const s = await start()
    const config = await writeConfig({settings: 'retry: {max_attempts: 4, base_delay: 10ms}\n'})
    s.controls.injectFault({service: 'secretsmanager', operation: 'ListSecrets', kind: 'reset', count: 2})

    const {code, json, stderr} = await pipeline(s, config)

    expect(code, stderr).toBe(0)
    expect(json.summary).toMatchObject({created: 5, failed_targets: 0})
    // One page of the owned listing, reached on the third attempt, then one lookup of the 5 unlisted names.
    expect(s.controls.count({service: 'secretsmanager', operation: 'ListSecrets'})).toBe(4)
  })

  it('a hung S3 request times out and is retried: the run succeeds', async () => {
    const s = await start()
    const config = await writeConfig({aws: '  timeout: 1s\n', settings: 'retry: {max_attempts: 3, base_delay: 10ms}\n'})
    s.controls.injectFault({service: 's3', operation: 'GetObject', kind: 'hang', count: 1})

    const {code, json, stderr} = await pipeline(s, config)

    expect(code, stderr).toBe(0)
    expect(json.targets[0]).toMatchObject({name: 'app', status: 'applied', snapshot_version: 1})
    expect(s.aws.secretsManager.listNames(A, 'us-east-1')).toEqual(NAMES)
  })

  it('a hung Vault read times out and is retried: the run succeeds', async () => {
    const s = await start()
    const config = await writeConfig({
      vault: '  timeout: 1s\n',
      settings: 'retry: {max_attempts: 3, base_delay: 10ms}\n',
    })
    s.controls.injectFault({service: 'vault', operation: 'read', kind: 'hang', count: 1})

    const {code, json, stderr} = await pipeline(s, config)

    expect(code, stderr).toBe(0)
    expect(json.summary).toMatchObject({created: 5, failed_targets: 0})
    expect(s.controls.count({service: 'vault', operation: 'read'})).toBe(Object.keys(SECRETS).length + 1)
  })

  it('an S3 request that hangs on every attempt fails its target with a timeout error, and nothing is synced', async () => {
    const s = await start()
    const config = await writeConfig({aws: '  timeout: 1s\n', settings: 'retry: {max_attempts: 2, base_delay: 10ms}\n'})
    s.controls.injectFault({service: 's3', operation: 'GetObject', kind: 'hang', count: 1000})

    // A real process: exit 1 as the shell sees it.
    const run = await runCli(['pipeline', '-c', config, '--json'], {env: s.env, timeoutMs: 45_000, subprocess: true})
    const {code, json} = {...run, json: parseJsonOutput<SyncJson>(run)}

    expect(code).toBe(1)
    expect(json.targets[0]).toMatchObject({name: 'app', status: 'failed'})
    expect(json.targets[0]?.error).toMatch(/GetObject .*\(1 retry\).*time(d)? ?out/i)
    expect(s.controls.count({service: 's3', operation: 'GetObject'})).toBe(2)
    expect(s.controls.count({service: 'secretsmanager'})).toBe(0)
  })
})

describe('faults that fail part of a run', () => {
  it('a Vault outage from the first call: login is retried per policy, then the run stops with exit 1 and a clear message', async () => {
    const s = await start()
    const config = await writeConfig({
      settings:
        'retry: {max_attempts: 2, base_delay: 10ms}\ncircuit_breaker: {failure_threshold: 3, window: 10s, timeout: 30s}\n',
    })
    s.controls.injectFault({service: 'vault', operation: '*', kind: '5xx', count: 1000})

    const {code, json} = await pipeline(s, config)

    expect(code).toBe(1)
    expect(json.targets[0]?.status).toBe('failed')
    expect(json.targets[0]?.error).toMatch(/vault login .*\(1 retry\): .*token login .* failed: HTTP 500/)
    // Login is one operation: max_attempts calls, then nothing else is tried.
    expect(s.controls.count({service: 'vault'})).toBe(2)
    expect(s.controls.count({service: 'secretsmanager'})).toBe(0)
  })

  it('a Vault outage after login opens the vault breaker: the remaining sources fail fast instead of hammering Vault', async () => {
    // Given 8 sources walked one request at a time, and Vault failing every request but the token lookup
    const sources = Array.from({length: 8}, (_, i) => `s${i}`)
    const s = await start(Object.fromEntries(sources.map((name) => [`secret/${name}/db`, {n: name}])))
    const threshold = 3
    const attempts = 2
    const config = await writeConfig({
      sources: sources.map((name) => `  - {name: ${name}, mount: secret/${name}/}\n`).join(''),
      targets: sources.map((name) => target(`t-${name}`, A, `[${name}]`)).join(''),
      vault: '  concurrency: 1\n',
      settings: `retry: {max_attempts: ${attempts}, base_delay: 10ms}\ncircuit_breaker: {failure_threshold: ${threshold}, window: 10s, timeout: 30s}\n`,
    })
    for (const operation of ['mounts', 'list', 'read'])
      s.controls.injectFault({service: 'vault', operation, kind: '5xx', count: 1000})

    // When the pipeline runs
    const {code, json, stderr} = await pipeline(s, config, '--log-format', 'json')

    // Then every target fails (exit 1), the later ones because the vault breaker refused the call
    expect(code).toBe(1)
    expect(json.targets).toHaveLength(8)
    expect(json.targets.every((t) => t.status === 'failed')).toBe(true)
    const refused = json.targets.filter((t) =>
      /vault circuit breaker is open after 3 failures within 10s: .* not attempted; retry after /.test(t.error ?? ''),
    )
    expect(refused).toHaveLength(sources.length - threshold)
    expect(stderr).toMatch(/"message":"circuit breaker opened".*"service":"vault"/)
    // And Vault saw the login, then at most failure_threshold operations of max_attempts calls each: the breaker
    // opened on the third failed operation, so the other five sources never reached Vault (16 calls without it).
    expect(s.controls.count({service: 'vault'})).toBeLessThanOrEqual(1 + threshold * attempts)
    expect(s.controls.count({service: 'secretsmanager'})).toBe(0)
  })

  it('a Secrets Manager 5xx storm in one account fails only that target (exit 3); the other account is applied', async () => {
    const s = await start()
    const config = await writeConfig({
      targets: target('app', A) + target('other', B),
      settings: 'retry: {max_attempts: 2, base_delay: 10ms}\n',
    })
    s.controls.injectFault({service: 'secretsmanager', account: B, kind: '5xx', count: 1000})

    const {code, json} = await pipeline(s, config)

    expect(code).toBe(3)
    expect(targetNamed(json, 'app')).toMatchObject({status: 'applied', error: null})
    expect(s.aws.secretsManager.listNames(A, 'us-east-1')).toEqual(NAMES)
    expect(valueIn(s, A, 'app/db')).toEqual({user: 'app', password: 'pw-1'})
    const other = targetNamed(json, 'other')
    expect(other).toMatchObject({status: 'failed', account_id: B})
    expect(other?.error).toMatch(/InternalServiceError|500/)
    expect(s.aws.secretsManager.listNames(B, 'us-east-1', {includePlannedDeletion: true})).toEqual([])
    expect(s.aws.secretsManager.writeCalls({accountId: B})).toEqual([])
    expect(json.summary).toMatchObject({targets: 2, failed_targets: 1, created: 5})
  })

  it('a failed latest.json write leaves nothing half-written: latest still points at a stored snapshot and the target is not synced', async () => {
    // Given a first run that stored v1 and synced it
    const s = await start()
    const config = await writeConfig({settings: 'retry: {max_attempts: 2, base_delay: 10ms}\n'})
    expect((await pipeline(s, config)).code).toBe(0)
    expect(storeObject(s, 'app/latest.json')).toEqual({version: 1})

    // When Vault changes and S3 accepts the new snapshot but fails every write of latest.json (a throttle would be
    // waited out: SlowDown is never a failure before sync.throttle_deadline)
    s.vault.putSecret('secret/', 'base/db', {user: 'app', password: 'pw-2'})
    s.controls.injectFault({service: 's3', operation: 'PutObject', resource: 'latest.json', kind: '5xx', count: 10})
    s.controls.resetCounters()
    const failed = await pipeline(s, config)

    // Then the target failed before any sync, and latest.json still names a snapshot that exists
    expect(failed.code).toBe(1)
    expect(failed.json.targets[0]).toMatchObject({name: 'app', status: 'failed'})
    expect(failed.json.targets[0]?.error).toMatch(/PutObject s3:\/\/merge-store\/app\/latest\.json/)
    expect(s.controls.count({service: 's3', operation: 'PutObject'})).toBeGreaterThanOrEqual(2)
    expect(s.controls.count({service: 'secretsmanager'})).toBe(0)
    expect(valueIn(s, A, 'app/db')).toEqual({user: 'app', password: 'pw-1'})
    expectConsistentStore(s)
    expect(storeObject(s, 'app/latest.json')).toEqual({version: 1})

    // And the next healthy run commits above the orphan and syncs the change
    s.controls.clear()
    const healed = await pipeline(s, config)
    expect(healed.code).toBe(0)
    expect(healed.json.summary).toMatchObject({updated: 1})
    expectConsistentStore(s)
    expect(valueIn(s, A, 'app/db')).toEqual({user: 'app', password: 'pw-2'})
  })
})

/** Every latest.json and applied record in the store names a snapshot version that is stored. */
function expectConsistentStore(s: TestStack): void {
  const keys = s.aws.s3.listKeys(BUCKET)
  const latests = keys.filter((key) => key.endsWith('/latest.json'))
  expect(latests.length).toBeGreaterThan(0)
  for (const key of [...latests, ...keys.filter((k) => k.includes('/applied/'))]) {
    const folder = key.slice(0, key.indexOf('/') + 1)
    const {version} = storeObject(s, key) as {version: number}
    expect(keys, `${key} points at v${version}`).toContain(`${folder}v${version}.json`)
  }
}
