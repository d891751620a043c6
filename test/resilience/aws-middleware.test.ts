import {GetSecretValueCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {fromTemporaryCredentials} from '@aws-sdk/credential-providers'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {afterEach, describe, expect, it} from 'vitest'
import {createMetrics, type Metrics} from '../../src/observability/metrics.js'
import {awsRetryStrategy, breakerPlugin, withBreaker} from '../../src/resilience/aws-middleware.js'
import {createBreakers, type Breakers, type CircuitBreakerConfig} from '../../src/resilience/breakers.js'
import type {RetryPolicy} from '../../src/resilience/retry.js'
import {listen, readBody, type RunningServer} from '../support/http-server.js'
import {recordingRuntime} from '../support/runtime.js'

/**
 * A real Secrets Manager client over HTTP against a tiny server that answers from a script, so the SDK's own
 * retry loop, our retry strategy, the breaker middleware and the metrics middleware all run as in production.
 */

type Answer = {status: number; body: Record<string, unknown>}

const ok: Answer = {
  status: 200,
  body: {
    ARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:app-AbCdEf',
    Name: 'app',
    VersionId: 'v1',
    SecretString: '{}',
  },
}
const internalError: Answer = {status: 500, body: {__type: 'InternalServiceError', message: 'internal failure'}}
const throttled: Answer = {status: 400, body: {__type: 'ThrottlingException', message: 'Rate exceeded'}}
const notFound: Answer = {
  status: 400,
  body: {__type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret."},
}

let server: RunningServer | undefined
let client: SecretsManagerClient | undefined
let breakers: Breakers | undefined

afterEach(async () => {
  client?.destroy()
  breakers?.shutdown()
  await server?.close()
  server = client = breakers = undefined
})

/** Starts the server: each request takes the next scripted answer; the last one repeats. */
async function scriptedServer(...answers: Answer[]) {
  const targets: string[] = []
  server = await listen((req: IncomingMessage, res: ServerResponse) => {
    void readBody(req).then(() => {
      targets.push(String(req.headers['x-amz-target']))
      const answer = answers[Math.min(targets.length - 1, answers.length - 1)] as Answer
      res.writeHead(answer.status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': `req-${targets.length}`,
      })
      res.end(JSON.stringify(answer.body))
    })
  })
  return {url: server.url, requests: () => targets.length, targets}
}

// The per-account services have a breaker per account-region.
const SM = {service: 'secretsmanager', account: '111111111111', region: 'us-east-1'} as const
const STS = {service: 'sts', account: '111111111111', region: 'us-east-1'} as const

function clientFor(
  url: string,
  options: {policy?: Partial<RetryPolicy>; breaker?: Partial<CircuitBreakerConfig>; random?: () => number} = {},
) {
  const policy: RetryPolicy = {maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 4, ...options.policy}
  const metrics: Metrics = createMetrics()
  const runtime = recordingRuntime()
  breakers = createBreakers(
    {enabled: true, failure_threshold: 2, window: 10_000, timeout: 60_000, max_requests: 1, ...options.breaker},
    {logger: runtime.logger, metrics},
  )
  client = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: {accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret-key'},
    maxAttempts: policy.maxAttempts,
    retryStrategy: awsRetryStrategy(policy, options.random ?? (() => 0)),
  })
  withBreaker(client, SM, breakers, {metrics})
  return {client, metrics, breakers}
}

const get = (c: SecretsManagerClient) => c.send(new GetSecretValueCommand({SecretId: 'app'}))

async function sample(metrics: Metrics, name: string, labels: string): Promise<number | undefined> {
  const text = await metrics.registry.metrics()
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`))
  return line === undefined ? undefined : Number(line.split(' ').at(-1))
}

describe('withBreaker on an SDK client', () => {
  it('counts an operation the SDK retried and gave up on as one failure, then fails fast without sending', async () => {
    // Given a Secrets Manager that answers 500 to everything, and a breaker that opens after 2 failures
    const stack = await scriptedServer(internalError)
    const {client, metrics, breakers} = clientFor(stack.url, {policy: {maxAttempts: 3}})

    // When two operations fail (each after the SDK's 3 attempts)
    await expect(get(client)).rejects.toMatchObject({name: 'InternalServiceError'})
    expect(breakers.state(SM)).toBe('closed')
    await expect(get(client)).rejects.toMatchObject({name: 'InternalServiceError'})

    // Then the breaker is open and the third operation is refused before any request
    expect(stack.requests()).toBe(6)
    expect(breakers.state(SM)).toBe('open')
    await expect(get(client)).rejects.toMatchObject({
      code: 'CIRCUIT_OPEN',
      service: 'secretsmanager',
      account: '111111111111',
      region: 'us-east-1',
      operation: 'GetSecretValue',
      message: expect.stringMatching(/^secretsmanager \(account 111111111111, us-east-1\) circuit breaker is open/),
    })
    expect(stack.requests()).toBe(6)

    // And every attempt was counted with its status, and the open breaker is on the gauge
    expect(
      await sample(
        metrics,
        'secretsync_aws_requests_total',
        'service="secretsmanager",operation="GetSecretValue",status="500"',
      ),
    ).toBe(6)
    expect(
      await sample(
        metrics,
        'secretsync_aws_request_duration_seconds_count',
        'service="secretsmanager",operation="GetSecretValue"',
      ),
    ).toBe(6)
    expect(
      await sample(
        metrics,
        'secretsync_circuit_breaker_state',
        'service="secretsmanager",account="111111111111",region="us-east-1"',
      ),
    ).toBe(2)
  })

  it('absorbs throttling with our backoff: the operation succeeds, the breaker stays closed, the throttles are counted', async () => {
    const stack = await scriptedServer(throttled, throttled, ok)
    // random 0.5 makes full jitter deterministic: 0.5 × 10 ms, then 0.5 × 20 ms
    const {client, metrics, breakers} = clientFor(stack.url, {
      policy: {maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 1000},
      random: () => 0.5,
    })

    const output = await get(client)

    expect(output.Name).toBe('app')
    expect(output.$metadata.attempts).toBe(3)
    expect(output.$metadata.totalRetryDelay).toBe(5 + 10)
    expect(stack.requests()).toBe(3)
    expect(stack.targets.every((target) => target === 'secretsmanager.GetSecretValue')).toBe(true)
    expect(breakers.state(SM)).toBe('closed')
    expect(
      await sample(
        metrics,
        'secretsync_aws_requests_total',
        'service="secretsmanager",operation="GetSecretValue",status="400"',
      ),
    ).toBe(2)
    expect(
      await sample(
        metrics,
        'secretsync_aws_requests_total',
        'service="secretsmanager",operation="GetSecretValue",status="200"',
      ),
    ).toBe(1)
  })

  it('stops after retry.max_attempts attempts in all', async () => {
    const stack = await scriptedServer(throttled)
    const {client} = clientFor(stack.url, {policy: {maxAttempts: 4}, breaker: {failure_threshold: 10}})

    await expect(get(client)).rejects.toMatchObject({name: 'ThrottlingException', $metadata: {attempts: 4}})
    expect(stack.requests()).toBe(4)
  })

  it('does not count client errors: the SDK does not retry them and the breaker stays closed', async () => {
    const stack = await scriptedServer(notFound)
    const {client, breakers} = clientFor(stack.url)

    for (let i = 0; i < 5; i++) await expect(get(client)).rejects.toMatchObject({name: 'ResourceNotFoundException'})

    expect(stack.requests()).toBe(5)
    expect(breakers.state(SM)).toBe('closed')
  })
})

describe('breakerPlugin', () => {
  it('guards the STS client a credential provider builds for itself (clientPlugins)', async () => {
    // Given an STS that answers 500 to AssumeRole, and an sts breaker that opens after one failed operation
    const targets: string[] = []
    server = await listen((req: IncomingMessage, res: ServerResponse) => {
      void readBody(req).then((body) => {
        targets.push(new URLSearchParams(body.toString('utf8')).get('Action') ?? '')
        res.writeHead(500, {'content-type': 'text/xml'})
        res.end(
          '<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>boom</Message></Error><RequestId>r1</RequestId></ErrorResponse>',
        )
      })
    })
    const runtime = recordingRuntime()
    breakers = createBreakers(
      {enabled: true, failure_threshold: 1, window: 10_000, timeout: 60_000, max_requests: 1},
      {logger: runtime.logger},
    )
    const policy: RetryPolicy = {maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1}
    const credentials = fromTemporaryCredentials({
      params: {RoleArn: 'arn:aws:iam::111111111111:role/SecretSync', RoleSessionName: 'secretsync-test'},
      masterCredentials: {accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret-key'},
      clientConfig: {region: 'us-east-1', endpoint: server.url, retryStrategy: awsRetryStrategy(policy, () => 0)},
      clientPlugins: [breakerPlugin(STS, breakers)],
    })

    // When the role is assumed and fails (after the SDK's 2 attempts)
    await expect(credentials()).rejects.toBeDefined()
    expect(targets).toEqual(['AssumeRole', 'AssumeRole'])

    // Then the sts breaker is open and the next attempt to assume the role is refused before any request
    expect(breakers.state(STS)).toBe('open')
    await expect(credentials()).rejects.toMatchObject({code: 'CIRCUIT_OPEN', service: 'sts', operation: 'AssumeRole'})
    expect(targets).toHaveLength(2)
  })
})
