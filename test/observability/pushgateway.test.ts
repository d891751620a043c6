import type {IncomingMessage, ServerResponse} from 'node:http'
import {afterEach, describe, expect, it} from 'vitest'
import {pushMetrics} from '../../src/observability/metrics-server.js'
import {createMetrics} from '../../src/observability/metrics.js'
import {listen, readBody, type RunningServer} from '../support/http-server.js'

/** `pushMetrics` against a fake Pushgateway: a node:http server that records what it is sent. */

interface Recorded {
  method: string
  path: string
  contentType: string
  body: string
}

let gateway: RunningServer | undefined
afterEach(async () => {
  await gateway?.close()
  gateway = undefined
})

async function fakePushgateway(status = 200) {
  const recorded: Recorded[] = []
  gateway = await listen((req: IncomingMessage, res: ServerResponse) => {
    void readBody(req).then((body) => {
      recorded.push({
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: String(req.headers['content-type'] ?? ''),
        body: body.toString('utf8'),
      })
      res.writeHead(status, {'content-type': 'text/plain'}).end(status === 200 ? '' : 'pushgateway is unhappy')
    })
  })
  return {url: gateway.url, port: gateway.port, recorded}
}

function aRunsMetrics() {
  const metrics = createMetrics()
  metrics.observeVault('read', 200, 0.01)
  metrics.observeAws('s3', 'PutObject', 200, 0.05)
  metrics.countSynced('production-us-east-1', 'update', 2)
  metrics.observePhase('sync', 4.2)
  metrics.setBreakerState('vault', 'closed')
  metrics.markSuccess(Date.now())
  return metrics
}

describe('pushMetrics', () => {
  it('replaces the job group with a PUT of the text format to /metrics/job/<job>', async () => {
    const fake = await fakePushgateway()

    const error = await pushMetrics(aRunsMetrics().registry, {url: fake.url, job: 'secretsync-nightly'})

    expect(error).toBeUndefined()
    expect(fake.recorded).toHaveLength(1)
    const [push] = fake.recorded as [Recorded]
    expect(push.method).toBe('PUT')
    expect(push.path).toBe('/metrics/job/secretsync-nightly')
    for (const name of [
      'secretsync_vault_requests_total',
      'secretsync_vault_request_duration_seconds',
      'secretsync_aws_requests_total',
      'secretsync_aws_request_duration_seconds',
      'secretsync_secrets_synced_total',
      'secretsync_pipeline_duration_seconds',
      'secretsync_circuit_breaker_state',
      'secretsync_last_success_timestamp_seconds',
    ]) {
      expect(push.body).toContain(`# TYPE ${name} `)
    }
    expect(push.body).toContain('secretsync_secrets_synced_total{target="production-us-east-1",action="update"} 2')
  })

  it('pushes under the grouping key after the job, in order, so groups of shards and phases never replace each other', async () => {
    const fake = await fakePushgateway()

    await pushMetrics(aRunsMetrics().registry, {
      url: fake.url,
      job: 'secretsync',
      groupings: {phase: 'sync', shard: '1'},
    })
    await pushMetrics(aRunsMetrics().registry, {
      url: fake.url,
      job: 'secretsync',
      groupings: {phase: 'sync', shard: '0'},
    })

    expect(fake.recorded.map((push) => [push.method, push.path])).toEqual([
      ['PUT', '/metrics/job/secretsync/phase/sync/shard/1'],
      ['PUT', '/metrics/job/secretsync/phase/sync/shard/0'],
    ])
  })

  it('keeps a path prefix in the Pushgateway URL and encodes the job name', async () => {
    const fake = await fakePushgateway()

    await pushMetrics(aRunsMetrics().registry, {url: `${fake.url}/gateway`, job: 'secretsync prod'})

    expect(fake.recorded[0]?.path).toBe('/gateway/metrics/job/secretsync%20prod')
  })

  it('returns the error of a rejected push instead of throwing, without the credentials of the URL', async () => {
    const fake = await fakePushgateway(500)
    const url = `http://pusher:hunter2-pass@127.0.0.1:${fake.port}`

    const error = await pushMetrics(aRunsMetrics().registry, {url, job: 'secretsync'})

    expect(error).toMatchObject({code: 'METRICS_PUSH_FAILED'})
    expect(error?.message).toContain('500')
    expect(error?.message).toContain(`127.0.0.1:${fake.port}`)
    expect(error?.message).not.toContain('hunter2-pass')
  })

  it('returns the error when the Pushgateway is unreachable', async () => {
    const fake = await fakePushgateway()
    await gateway?.close()
    gateway = undefined

    const error = await pushMetrics(aRunsMetrics().registry, {url: fake.url, job: 'secretsync'})

    expect(error).toMatchObject({code: 'METRICS_PUSH_FAILED', message: expect.stringContaining('ECONNREFUSED')})
  })
})
