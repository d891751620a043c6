import {afterEach, describe, expect, it} from 'vitest'
import {serveMetrics, type MetricsServer} from '../../src/observability/metrics-server.js'
import {createMetrics, safeLabel, type Metrics} from '../../src/observability/metrics.js'

/** The metrics of docs/design.md §5, scraped over HTTP from `serveMetrics` as Prometheus would. */

let server: MetricsServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

// docs/design.md §5: exactly these families, with these types and label names.
const EXPECTED = {
  secretsync_vault_requests_total: {type: 'counter', labels: ['operation', 'status']},
  secretsync_vault_request_duration_seconds: {type: 'histogram', labels: ['operation']},
  secretsync_aws_requests_total: {type: 'counter', labels: ['service', 'operation', 'status']},
  secretsync_aws_request_duration_seconds: {type: 'histogram', labels: ['service', 'operation']},
  secretsync_secrets_synced_total: {type: 'counter', labels: ['target', 'action']},
  secretsync_pipeline_duration_seconds: {type: 'gauge', labels: ['phase']},
  // Run-wide breakers carry `service` only; Secrets Manager and STS breakers also their account and region.
  secretsync_circuit_breaker_state: {type: 'gauge', labels: ['service'], perAccount: ['account', 'region', 'service']},
  secretsync_throttled_total: {type: 'counter', labels: ['service', 'operation']},
  secretsync_write_rate: {type: 'gauge', labels: ['account', 'region']},
  secretsync_last_success_timestamp_seconds: {type: 'gauge', labels: []},
} as const

function observeARun(metrics: Metrics) {
  metrics.observeVault('list', 200, 0.012)
  metrics.observeVault('read', 404, 0.003)
  metrics.observeAws('secretsmanager', 'PutSecretValue', 200, 0.2)
  metrics.observeAws('secretsmanager', 'PutSecretValue', 'timeout', 30)
  metrics.countSynced('production-us-east-1', 'create', 3)
  metrics.countSynced('production-us-east-1', 'unchanged', 40)
  metrics.observePhase('merge', 1.5)
  metrics.setBreakerState('vault', 'open')
  metrics.setBreakerState('s3', 'half-open')
  metrics.setBreakerState('sts', 'closed', {account: '111111111111', region: 'us-east-1'})
  metrics.setBreakerState('secretsmanager', 'open', {account: '222222222222', region: 'eu-west-1'})
  metrics.countThrottled('secretsmanager', 'CreateSecret')
  metrics.setWriteRate('111111111111', 'us-east-1', 33.6)
  metrics.markSuccess(Date.parse('2024-05-01T12:00:00.000Z'))
}

async function scrape(url: string) {
  const response = await fetch(url)
  return {status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text()}
}

/** `name{a="x",b="y"} value` lines → {name, labels, value}. */
function samples(text: string) {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line)
      if (!match) throw new Error(`unparsable sample line: ${line}`)
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
      return {name: match[1] as string, labels, value: Number(match[3])}
    })
}

describe('serveMetrics', () => {
  it('serves exactly the docs/design.md §5 metrics, with their label names, in the text format', async () => {
    // Given a run that observed a bit of everything
    const metrics = createMetrics()
    observeARun(metrics)
    server = await serveMetrics(metrics.registry, {port: 0, path: '/metrics', host: '127.0.0.1'})

    // When Prometheus scrapes /metrics
    const {status, type, text} = await scrape(`http://127.0.0.1:${server.port}/metrics`)

    // Then it gets the text format with exactly the expected families
    expect(status).toBe(200)
    expect(type).toContain('text/plain')
    const families = Object.fromEntries([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]))
    expect(families).toEqual(Object.fromEntries(Object.entries(EXPECTED).map(([name, {type}]) => [name, type])))

    // And every sample carries exactly its family's label names (histograms add `le` to buckets)
    const all = samples(text)
    for (const [name, family] of Object.entries(EXPECTED)) {
      const ofFamily = all.filter((s) => s.name === name || s.name.startsWith(`${name}_`))
      expect(ofFamily.length, name).toBeGreaterThan(0)
      for (const sample of ofFamily) {
        const names = Object.keys(sample.labels)
          .filter((l) => l !== 'le')
          .sort()
        const perAccount = 'perAccount' in family && ['secretsmanager', 'sts'].includes(sample.labels.service ?? '')
        expect(names, sample.name).toEqual(perAccount ? family.perAccount : [...family.labels].sort())
      }
    }

    // And the values are the ones observed
    const value = (name: string, labels: Record<string, string>) =>
      all.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value
    expect(value('secretsync_vault_requests_total', {operation: 'read', status: '404'})).toBe(1)
    expect(
      value('secretsync_aws_requests_total', {
        service: 'secretsmanager',
        operation: 'PutSecretValue',
        status: 'timeout',
      }),
    ).toBe(1)
    expect(value('secretsync_secrets_synced_total', {target: 'production-us-east-1', action: 'create'})).toBe(3)
    expect(value('secretsync_pipeline_duration_seconds', {phase: 'merge'})).toBe(1.5)
    expect(value('secretsync_circuit_breaker_state', {service: 'vault'})).toBe(2)
    expect(value('secretsync_circuit_breaker_state', {service: 's3'})).toBe(1)
    expect(
      value('secretsync_circuit_breaker_state', {service: 'sts', account: '111111111111', region: 'us-east-1'}),
    ).toBe(0)
    expect(
      value('secretsync_circuit_breaker_state', {
        service: 'secretsmanager',
        account: '222222222222',
        region: 'eu-west-1',
      }),
    ).toBe(2)
    expect(value('secretsync_last_success_timestamp_seconds', {})).toBe(1714564800)
  })

  it('answers 404 away from the metrics path and 405 to anything but GET', async () => {
    const metrics = createMetrics()
    server = await serveMetrics(metrics.registry, {port: 0, path: '/custom-metrics', host: '127.0.0.1'})
    const base = `http://127.0.0.1:${server.port}`

    expect((await scrape(`${base}/metrics`)).status).toBe(404)
    expect((await scrape(`${base}/`)).status).toBe(404)
    expect((await fetch(`${base}/custom-metrics`, {method: 'POST'})).status).toBe(405)
    expect((await scrape(`${base}/custom-metrics?debug=1`)).status).toBe(200)
  })

  it('fails with a clear error when the port is taken', async () => {
    const metrics = createMetrics()
    server = await serveMetrics(metrics.registry, {port: 0, path: '/metrics', host: '127.0.0.1'})

    await expect(
      serveMetrics(metrics.registry, {port: server.port, path: '/metrics', host: '127.0.0.1'}),
    ).rejects.toMatchObject({
      code: 'METRICS_SERVER_FAILED',
      message: expect.stringContaining('EADDRINUSE'),
    })
  })
})

describe('createMetrics', () => {
  it('gives each run its own registry: nothing is shared through a global one', async () => {
    const first = createMetrics()
    const second = createMetrics()

    first.observeVault('read', 200, 0.01)

    expect(await first.registry.getSingleMetricAsString('secretsync_vault_requests_total')).toContain('status="200"} 1')
    expect(await second.registry.getSingleMetricAsString('secretsync_vault_requests_total')).not.toContain(
      'status="200"',
    )
  })

  it('counts every Vault request whenever the registry is read, mid-batch and past many batches alike', async () => {
    // Vault requests are handed to prom-client in batches (observeVault); every read must still see each one.
    const metrics = createMetrics()
    const sample = async (name: string, labels: Record<string, string>) =>
      samples(await metrics.registry.metrics()).find(
        (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
      )?.value
    const observe = (from: number, to: number) => {
      for (let i = from; i < to; i++) metrics.observeVault('read', i % 10 === 0 ? 503 : 200, i % 2 === 0 ? 0.004 : 0.2)
    }

    observe(0, 3)
    expect(await sample('secretsync_vault_requests_total', {operation: 'read', status: '200'})).toBe(2)
    expect(await sample('secretsync_vault_requests_total', {operation: 'read', status: '503'})).toBe(1)

    observe(3, 1001)
    metrics.observeVault('list', 200, 0.03)
    expect(await sample('secretsync_vault_requests_total', {operation: 'read', status: '200'})).toBe(900)
    expect(await sample('secretsync_vault_requests_total', {operation: 'read', status: '503'})).toBe(101)
    expect(await sample('secretsync_vault_requests_total', {operation: 'list', status: '200'})).toBe(1)
    expect(await sample('secretsync_vault_request_duration_seconds_count', {operation: 'read'})).toBe(1001)
    // 501 fast (0.004 s, bucket le=0.005) and 500 slow (0.2 s) reads.
    expect(await sample('secretsync_vault_request_duration_seconds_bucket', {operation: 'read', le: '0.005'})).toBe(501)
    expect(await sample('secretsync_vault_request_duration_seconds_sum', {operation: 'read'})).toBeCloseTo(
      501 * 0.004 + 500 * 0.2,
      6,
    )
    expect(await sample('secretsync_vault_request_duration_seconds_count', {operation: 'list'})).toBe(1)
    // Reading again adds nothing: what was handed over is not handed over twice.
    expect(await sample('secretsync_vault_request_duration_seconds_count', {operation: 'read'})).toBe(1001)
  })

  it('never lets a path into a label: anything that is not a plain name or code becomes "invalid"', async () => {
    const metrics = createMetrics()

    metrics.observeVault('secret/data/app/db', 200, 0.01)
    metrics.countSynced('prod', 'create because app/db changed')

    const text = await metrics.registry.metrics()
    expect(text).not.toContain('app/db')
    expect(text).toContain('operation="invalid"')
    expect(safeLabel('GetSecretValue')).toBe('GetSecretValue')
    expect(safeLabel(503)).toBe('503')
    expect(safeLabel('sso-admin')).toBe('sso-admin')
  })
})
