import {afterEach, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {pipelineConfigText} from '../support/e2e.js'
import {freePort, parseExposition, scrapeWhile, startFakePushgateway, type Sample} from '../support/metrics-probe.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// The metrics of docs/design.md §5 as a user's Prometheus sees them: scraped from `--metrics-port` during a run, and
// pushed to a Pushgateway at its end.

const ACCOUNT = '111111111111'
const SECRET_PATHS = ['db', 'api', 'nested/cfg']
const SERVICES = ['vault', 's3', 'secretsmanager', 'organizations', 'sso-admin', 'sts']
const PER_ACCOUNT = ['secretsmanager', 'sts']

/** Every metric of docs/design.md §5 with the label names its samples carry (histograms add `le` to their buckets). */
const METRICS: Record<string, string[]> = {
  secretsync_vault_requests_total: ['operation', 'status'],
  secretsync_vault_request_duration_seconds: ['operation'],
  secretsync_aws_requests_total: ['service', 'operation', 'status'],
  secretsync_aws_request_duration_seconds: ['service', 'operation'],
  secretsync_secrets_synced_total: ['target', 'action'],
  secretsync_pipeline_duration_seconds: ['phase'],
  // Run-wide breakers; Secrets Manager and STS have one per account-region, labelled with both (PER_ACCOUNT).
  secretsync_circuit_breaker_state: ['service'],
  secretsync_last_success_timestamp_seconds: [],
}

let stack: TestStack | undefined
let closeGateway: (() => Promise<void>) | undefined
afterEach(async () => {
  await closeGateway?.()
  await stack?.close()
  stack = closeGateway = undefined
})

async function start(): Promise<{s: TestStack; config: string}> {
  stack = await startTestStack({
    vault: {
      secrets: {
        'secret/base/db': {user: 'app', password: 'pw-1'},
        'secret/base/api': {key: 'k-1'},
        'secret/base/nested/cfg': {list: [1, 2]},
      },
    },
    aws: {buckets: ['merge-store']},
  })
  const config = await writeTempConfig(
    pipelineConfigText({
      targets: `  - {name: app, account_id: "${ACCOUNT}", imports: [base], secret_prefix: app/}\n`,
      extra: 'retry: {max_attempts: 2, base_delay: 10ms}\nlogging: {level: warn}\n',
    }),
  )
  return {s: stack, config}
}

const pipeline = (s: TestStack, config: string, ...args: string[]) =>
  runCli(['pipeline', '-c', config, '--json', ...args], {env: s.env, timeoutMs: 45_000})

const samplesOf = (samples: Sample[], name: string) => samples.filter((sample) => sample.name === name)
const labelNames = (sample: Sample) => Object.keys(sample.labels).sort()

/** No label value is a secret path or name, and none is the `invalid` that wiring mistakes are replaced by. */
function expectNoSecretPathsInLabels(samples: Sample[]): void {
  const values = new Set(samples.flatMap((sample) => Object.values(sample.labels)))
  for (const value of values) {
    expect(value).not.toContain('/')
    expect(value).not.toBe('invalid')
    expect(SECRET_PATHS).not.toContain(value)
  }
}

describe('metrics', () => {
  it('/metrics on --metrics-port answers during the run with the names and labels of docs/design.md §5', async () => {
    // Given a run kept busy by slow Secrets Manager calls, with metrics on a free port
    const {s, config} = await start()
    s.controls.setLatency({service: 'secretsmanager', ms: 300})
    const port = await freePort()

    // When it is scraped while it runs
    const {result, scrapes} = await scrapeWhile(
      `http://127.0.0.1:${port}/metrics`,
      pipeline(s, config, '--metrics-port', String(port)),
    )

    // Then the run succeeded and a scrape taken during its sync phase holds every metric with its labels
    expect(result.code, result.stderr).toBe(0)
    const duringSync = scrapes.filter((text) => text.includes('service="secretsmanager"'))
    expect(duringSync.length, `${scrapes.length} scrapes, none during sync`).toBeGreaterThan(0)
    const text = duringSync.at(-1) as string
    for (const name of Object.keys(METRICS)) expect(text).toContain(`# TYPE ${name} `)
    const samples = parseExposition(text)
    for (const name of [
      'secretsync_vault_requests_total',
      'secretsync_aws_requests_total',
      'secretsync_circuit_breaker_state',
    ]) {
      expect(samplesOf(samples, name).length, name).toBeGreaterThan(0)
      for (const sample of samplesOf(samples, name)) {
        const perAccount =
          name === 'secretsync_circuit_breaker_state' && PER_ACCOUNT.includes(sample.labels.service ?? '')
        const expected = perAccount ? ['account', 'region', 'service'] : [...(METRICS[name] as string[])].sort()
        expect(labelNames(sample), name).toEqual(expected)
      }
    }
    for (const name of ['secretsync_vault_request_duration_seconds', 'secretsync_aws_request_duration_seconds']) {
      const buckets = samplesOf(samples, `${name}_bucket`)
      expect(buckets.length, `${name}_bucket`).toBeGreaterThan(0)
      for (const sample of buckets) expect(labelNames(sample)).toEqual([...(METRICS[name] as string[]), 'le'].sort())
    }
    expect(samplesOf(samples, 'secretsync_vault_requests_total')).toContainEqual({
      name: 'secretsync_vault_requests_total',
      labels: {operation: 'read', status: '200'},
      value: 3,
    })
    const awsServices = new Set(
      samplesOf(samples, 'secretsync_aws_requests_total').map((sample) => sample.labels.service),
    )
    expect([...awsServices].sort()).toEqual(['s3', 'secretsmanager', 'sts'])
    // One breaker series per run-wide service, and one per account-region the run used for the per-account ones
    expect(
      samplesOf(samples, 'secretsync_circuit_breaker_state')
        .map((sample) => [sample.labels.service, sample.labels.account ?? '', sample.labels.region ?? '', sample.value])
        .sort(),
    ).toEqual(
      SERVICES.map((service) =>
        PER_ACCOUNT.includes(service) ? [service, ACCOUNT, 'us-east-1', 0] : [service, '', '', 0],
      ).sort(),
    )
    expectNoSecretPathsInLabels(samples)
  })

  it('--pushgateway receives a PUT to /metrics/job/secretsync/phase/pipeline with the end-of-run values', async () => {
    const {s, config} = await start()
    const gateway = await startFakePushgateway()
    closeGateway = gateway.close
    const before = Date.now() / 1000

    const {code, stderr} = await pipeline(s, config, '--pushgateway', gateway.url)

    expect(code, stderr).toBe(0)
    expect(gateway.pushes.map((push) => [push.method, push.path])).toEqual([
      ['PUT', '/metrics/job/secretsync/phase/pipeline'],
    ])
    const samples = parseExposition(gateway.pushes[0]?.body ?? '')
    expect(samplesOf(samples, 'secretsync_secrets_synced_total')).toEqual([
      {name: 'secretsync_secrets_synced_total', labels: {target: 'app', action: 'create'}, value: 3},
    ])
    const phases = samplesOf(samples, 'secretsync_pipeline_duration_seconds')
    expect(phases.map((sample) => sample.labels.phase).sort()).toEqual(['merge', 'sync'])
    for (const phase of phases) expect(phase.value).toBeGreaterThan(0)
    const [lastSuccess] = samplesOf(samples, 'secretsync_last_success_timestamp_seconds')
    expect(lastSuccess?.value).toBeGreaterThanOrEqual(Math.floor(before))
    expect(lastSuccess?.value).toBeLessThanOrEqual(Date.now() / 1000)
    expect(samplesOf(samples, 'secretsync_aws_requests_total')).toContainEqual({
      name: 'secretsync_aws_requests_total',
      labels: {service: 'secretsmanager', operation: 'CreateSecret', status: '200'},
      value: 3,
    })
    expectNoSecretPathsInLabels(samples)
  })

  it('metrics.pushgateway in the config pushes under metrics.job; a failed run pushes its errors and no success time', async () => {
    const {s, config} = await start()
    const gateway = await startFakePushgateway()
    closeGateway = gateway.close
    const {readFile, writeFile} = await import('node:fs/promises')
    await writeFile(
      config,
      `${await readFile(config, 'utf8')}metrics: {pushgateway: "${gateway.url}", job: nightly-sync}\n`,
    )
    s.controls.injectFault({service: 'secretsmanager', kind: '5xx', count: 1000})

    const {code} = await pipeline(s, config)

    expect(code).toBe(1)
    expect(gateway.pushes.map((push) => [push.method, push.path])).toEqual([
      ['PUT', '/metrics/job/nightly-sync/phase/pipeline'],
    ])
    const samples = parseExposition(gateway.pushes[0]?.body ?? '')
    expect(samplesOf(samples, 'secretsync_last_success_timestamp_seconds').map((sample) => sample.value)).toEqual([0])
    expect(samplesOf(samples, 'secretsync_aws_requests_total')).toContainEqual({
      name: 'secretsync_aws_requests_total',
      labels: {service: 'secretsmanager', operation: 'ListSecrets', status: '500'},
      value: 2,
    })
    expect(samplesOf(samples, 'secretsync_secrets_synced_total')).toEqual([])
    expectNoSecretPathsInLabels(samples)
  })

  it('each shard pushes under its own group: a failed shard stays visible after another shard succeeds', async () => {
    // Given two targets in two accounts, one per shard, and Secrets Manager failing in the first one's account
    const OTHER = '222222222222'
    stack = await startTestStack({
      vault: {secrets: {'secret/base/db': {user: 'app', password: 'pw-1'}}},
      aws: {buckets: ['merge-store']},
    })
    const s = stack
    const config = await writeTempConfig(
      pipelineConfigText({
        targets:
          `  - {name: a, account_id: "${ACCOUNT}", imports: [base]}\n` +
          `  - {name: b, account_id: "${OTHER}", imports: [base]}\n`,
        extra: 'retry: {max_attempts: 2, base_delay: 10ms}\nlogging: {level: warn}\n',
      }),
    )
    const gateway = await startFakePushgateway()
    closeGateway = gateway.close
    s.controls.injectFault({service: 'secretsmanager', kind: '5xx', count: 1000, account: ACCOUNT})

    // When shard 0 runs (and fails), then shard 1 (and succeeds), both pushing to the same Pushgateway
    const failed = await pipeline(s, config, '--pushgateway', gateway.url, '--shard', '0/2')
    const succeeded = await pipeline(s, config, '--pushgateway', gateway.url, '--shard', '1/2')

    // Then each pushed its own group, and shard 0's group still says it has not succeeded
    expect([failed.code, succeeded.code]).toEqual([1, 0])
    expect(gateway.pushes.map((push) => [push.method, push.path])).toEqual([
      ['PUT', '/metrics/job/secretsync/phase/pipeline/shard/0'],
      ['PUT', '/metrics/job/secretsync/phase/pipeline/shard/1'],
    ])
    const lastSuccess = (path: string) =>
      samplesOf(parseExposition(gateway.groups.get(path) ?? ''), 'secretsync_last_success_timestamp_seconds').map(
        (sample) => sample.value,
      )
    expect(lastSuccess('/metrics/job/secretsync/phase/pipeline/shard/0')).toEqual([0])
    expect(lastSuccess('/metrics/job/secretsync/phase/pipeline/shard/1')[0]).toBeGreaterThan(0)
  })

  it('--merge-only and --sync-only push under phase/merge and phase/sync', async () => {
    const {s, config} = await start()
    const gateway = await startFakePushgateway()
    closeGateway = gateway.close

    const merged = await pipeline(s, config, '--pushgateway', gateway.url, '--merge-only')
    const synced = await pipeline(s, config, '--pushgateway', gateway.url, '--sync-only')

    expect([merged.code, synced.code]).toEqual([0, 0])
    expect(gateway.pushes.map((push) => push.path)).toEqual([
      '/metrics/job/secretsync/phase/merge',
      '/metrics/job/secretsync/phase/sync',
    ])
  })
})
