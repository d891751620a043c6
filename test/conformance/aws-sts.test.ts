import {request} from 'node:http'
import {AssumeRoleCommand, GetCallerIdentityCommand, STSClient, type STSClientConfig} from '@aws-sdk/client-sts'
import {fromTemporaryCredentials} from '@aws-sdk/credential-providers'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {startAwsServer, type AwsServer} from '../support/aws/aws-server.js'
import {onMoto, useAwsEndpoint} from './endpoint.js'

/** What the SDK reports about a failed call, so assertions read as the error AWS documents. */
interface Failure {
  name: string
  status?: number
  message: string
}

async function failureOf(call: Promise<unknown>): Promise<Failure> {
  try {
    await call
  } catch (error) {
    const e = error as {name: string; message: string; $metadata?: {httpStatusCode?: number}}
    return {name: e.name, status: e.$metadata?.httpStatusCode, message: e.message}
  }
  throw new Error('expected the call to fail, it succeeded')
}

const ROLE = 'arn:aws:iam::111111111111:role/SecretSync'
const ROLE_IN_PATH = 'arn:aws:iam::222222222222:role/ops/deploy/Reader'

// What secretsync relies on, on the project's server and on moto alike: the base identity's account, and AssumeRole
// credentials that act in the account of the role ARN (how a run reaches each target account).
describe('STS on either endpoint', () => {
  const endpoint = useAwsEndpoint()
  const sts = (credentials: STSClientConfig['credentials'] = endpoint.current().base): STSClient =>
    new STSClient({endpoint: endpoint.current().url, region: 'us-east-1', credentials, maxAttempts: 1})

  it('GetCallerIdentity reports the account of the base credentials', async () => {
    const identity = await sts().send(new GetCallerIdentityCommand({}))
    expect(identity.Account).toBe(endpoint.current().baseAccountId)
    expect(identity.Account).toMatch(/^\d{12}$/)
  })

  it('AssumeRole issues ASIA session credentials acting in the role ARN account, as GetCallerIdentity shows', async () => {
    const before = Date.now()
    const out = await sts().send(
      new AssumeRoleCommand({RoleArn: ROLE_IN_PATH, RoleSessionName: 'sync-run', DurationSeconds: 900}),
    )

    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/)
    expect(out.Credentials?.SessionToken).toBeTruthy()
    expect(out.Credentials?.Expiration?.getTime()).toBeGreaterThan(before)
    const credentials = {
      accessKeyId: out.Credentials?.AccessKeyId ?? '',
      secretAccessKey: out.Credentials?.SecretAccessKey ?? '',
      sessionToken: out.Credentials?.SessionToken,
    }
    const identity = await sts(credentials).send(new GetCallerIdentityCommand({}))
    expect(identity.Account).toBe('222222222222')
    expect(identity.Arn).toBe('arn:aws:sts::222222222222:assumed-role/Reader/sync-run')
  })
})

// The rest needs the project's server: its clock, role trust settings and faults. moto 5.2.1 ignores trust
// policies and ExternalId (and accepts an empty one), validates neither RoleArn, RoleSessionName nor
// DurationSeconds, has no MaxSessionDuration or role-chaining limit, accepts any access key, and never throttles.
describe.skipIf(onMoto)('AWS test server: STS (query protocol)', () => {
  let server: AwsServer
  let clock: number
  const sts = (config: Partial<STSClientConfig> = {}): STSClient =>
    new STSClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
      ...config,
    })

  beforeEach(async () => {
    // Starts at the real time: the SDK compares credential expiry with its own clock and refreshes "expired" ones.
    clock = Date.now()
    server = await startAwsServer({now: () => clock})
  })
  afterEach(async () => {
    await server.close()
  })

  it('GetCallerIdentity reports the base identity', async () => {
    const identity = await sts().send(new GetCallerIdentityCommand({}))

    expect(identity.Account).toBe('000000000000')
    expect(identity.Arn).toBe('arn:aws:iam::000000000000:root')
    expect(identity.UserId).toBe('000000000000')
    expect(identity.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('answers with the documented XML: 2011-06-15 namespace, Result element and RequestId matching the header', async () => {
    const body = 'Action=GetCallerIdentity&Version=2011-06-15'
    const response = await new Promise<{status: number; requestId: string; xml: string}>((resolve, reject) => {
      const req = request(
        `${server.url}/`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization:
              'AWS4-HMAC-SHA256 Credential=test/20250115/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00',
          },
        },
        (res) => {
          let xml = ''
          res.on('data', (chunk: Buffer) => (xml += chunk.toString()))
          res.on('end', () =>
            resolve({status: res.statusCode ?? 0, requestId: String(res.headers['x-amzn-requestid']), xml}),
          )
        },
      )
      req.on('error', reject)
      req.end(body)
    })

    expect(response.status).toBe(200)
    expect(response.xml).toContain('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">')
    expect(response.xml).toContain('<GetCallerIdentityResult><Arn>arn:aws:iam::000000000000:root</Arn>')
    expect(response.xml).toContain(`<ResponseMetadata><RequestId>${response.requestId}</RequestId></ResponseMetadata>`)
  })

  it('AssumeRole issues ASIA credentials in the account of the role ARN, valid for the requested duration', async () => {
    const out = await sts().send(
      new AssumeRoleCommand({RoleArn: ROLE_IN_PATH, RoleSessionName: 'sync-run', DurationSeconds: 900}),
    )

    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/)
    expect(out.Credentials?.SecretAccessKey).toBeTruthy()
    expect(out.Credentials?.SessionToken).toBeTruthy()
    // STS sends whole seconds.
    expect(out.Credentials?.Expiration?.getTime()).toBe(Math.floor((clock + 900_000) / 1000) * 1000)
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::222222222222:assumed-role/Reader/sync-run')
    expect(out.AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[A-Z0-9]+:sync-run$/)
    const issued = server.credentials.lookup(out.Credentials?.AccessKeyId ?? '')
    expect(issued?.accountId).toBe('222222222222')
  })

  it('fromTemporaryCredentials (AssumeRole) then GetCallerIdentity reports the role account', async () => {
    server.sts.requireExternalId(ROLE, 'ext-1234')
    const credentials = fromTemporaryCredentials({
      params: {RoleArn: ROLE, RoleSessionName: 'secretsync', ExternalId: 'ext-1234'},
      masterCredentials: {accessKeyId: 'test', secretAccessKey: 'test'},
      clientConfig: {endpoint: server.url, region: 'us-east-1'},
    })

    const identity = await sts({credentials}).send(new GetCallerIdentityCommand({}))

    expect(identity.Account).toBe('111111111111')
    expect(identity.Arn).toBe('arn:aws:sts::111111111111:assumed-role/SecretSync/secretsync')
    expect(server.sts.assumeRoleCalls()).toEqual([
      expect.objectContaining({
        roleArn: ROLE,
        externalId: 'ext-1234',
        sourceAccount: '000000000000',
        outcome: 'issued',
      }),
    ])
  })

  it.each([
    ['not an ARN', 'SecretSync'],
    ['a user, not a role', 'arn:aws:iam::111111111111:user/SecretSync'],
    ['a short account id', 'arn:aws:iam::1111:role/SecretSync'],
  ])('AssumeRole with %s as RoleArn is a ValidationError', async (_, roleArn) => {
    const failure = await failureOf(
      sts().send(new AssumeRoleCommand({RoleArn: roleArn, RoleSessionName: 'ok-session'})),
    )

    expect(failure).toMatchObject({name: 'ValidationError', status: 400})
  })

  it.each([
    ['one character', 'a'],
    ['a space', 'has space'],
    ['65 characters', 'x'.repeat(65)],
  ])('AssumeRole with a RoleSessionName of %s is a ValidationError', async (_, name) => {
    const failure = await failureOf(sts().send(new AssumeRoleCommand({RoleArn: ROLE, RoleSessionName: name})))

    expect(failure).toMatchObject({name: 'ValidationError', status: 400})
    expect(failure.message).toContain('roleSessionName')
  })

  it.each([899, 43201])('AssumeRole with DurationSeconds %i is a ValidationError', async (seconds) => {
    const failure = await failureOf(
      sts().send(new AssumeRoleCommand({RoleArn: ROLE, RoleSessionName: 's1', DurationSeconds: seconds})),
    )

    expect(failure).toMatchObject({name: 'ValidationError', status: 400})
  })

  it('a duration above the role MaxSessionDuration is refused; raising it allows the call', async () => {
    const ask = (): Promise<unknown> =>
      sts().send(new AssumeRoleCommand({RoleArn: ROLE, RoleSessionName: 's1', DurationSeconds: 7200}))

    expect(await failureOf(ask())).toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('MaxSessionDuration'),
    })
    server.sts.setMaxSessionDuration(ROLE, 43200)
    await expect(ask()).resolves.toBeDefined()
  })

  it('a role that requires an ExternalId refuses a missing or wrong one with AccessDenied and accepts the right one', async () => {
    server.sts.requireExternalId(ROLE, 'expected-id')
    const assume = (ExternalId?: string): Promise<unknown> =>
      sts().send(new AssumeRoleCommand({RoleArn: ROLE, RoleSessionName: 'sess', ExternalId}))

    expect(await failureOf(assume())).toMatchObject({name: 'AccessDenied', status: 403})
    const wrong = await failureOf(assume('other-id'))
    expect(wrong).toMatchObject({name: 'AccessDenied', status: 403})
    expect(wrong.message).toBe(
      `User: arn:aws:iam::000000000000:root is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`,
    )
    await expect(assume('expected-id')).resolves.toMatchObject({
      AssumedRoleUser: {Arn: expect.stringContaining('111111111111')},
    })
    expect(server.sts.assumeRoleCalls().map((c) => c.outcome)).toEqual(['AccessDenied', 'AccessDenied', 'issued'])
  })

  it('an empty ExternalId is a ValidationError, not an absent one', async () => {
    const failure = await failureOf(
      sts().send(new AssumeRoleCommand({RoleArn: ROLE, RoleSessionName: 'sess', ExternalId: ''})),
    )

    expect(failure).toMatchObject({name: 'ValidationError', status: 400})
    expect(failure.message).toContain('externalId')
  })

  it('a denied role answers AccessDenied', async () => {
    server.sts.denyRole(ROLE)

    const failure = await failureOf(sts().send(new AssumeRoleCommand({RoleArn: ROLE, RoleSessionName: 'sess'})))

    expect(failure).toMatchObject({name: 'AccessDenied', status: 403})
  })

  it('role chaining is limited to one hour', async () => {
    const first = await sts().send(new AssumeRoleCommand({RoleArn: ROLE, RoleSessionName: 'hop1'}))
    server.sts.setMaxSessionDuration(ROLE_IN_PATH, 43200)
    const chained = sts({
      credentials: {
        accessKeyId: first.Credentials?.AccessKeyId ?? '',
        secretAccessKey: first.Credentials?.SecretAccessKey ?? '',
        sessionToken: first.Credentials?.SessionToken,
      },
    })

    const failure = await failureOf(
      chained.send(new AssumeRoleCommand({RoleArn: ROLE_IN_PATH, RoleSessionName: 'hop2', DurationSeconds: 7200})),
    )

    expect(failure).toMatchObject({name: 'ValidationError', message: expect.stringContaining('role chaining')})
  })

  it('an unknown access key is InvalidClientTokenId (403)', async () => {
    const stranger = sts({credentials: {accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x'}})

    const failure = await failureOf(stranger.send(new GetCallerIdentityCommand({})))

    expect(failure).toMatchObject({name: 'InvalidClientTokenId', status: 403})
  })

  it('issued credentials stop working when they expire (ExpiredToken) and need their own session token', async () => {
    const out = await sts().send(new AssumeRoleCommand({RoleArn: ROLE, RoleSessionName: 'short', DurationSeconds: 900}))
    const keys = {
      accessKeyId: out.Credentials?.AccessKeyId ?? '',
      secretAccessKey: out.Credentials?.SecretAccessKey ?? '',
    }
    const asRole = sts({credentials: {...keys, sessionToken: out.Credentials?.SessionToken}})
    await expect(asRole.send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({Account: '111111111111'})

    const noToken = await failureOf(sts({credentials: keys}).send(new GetCallerIdentityCommand({})))
    clock += 901_000
    const expired = await failureOf(asRole.send(new GetCallerIdentityCommand({})))

    expect(noToken).toMatchObject({name: 'InvalidClientTokenId', status: 403})
    expect(expired).toMatchObject({name: 'ExpiredToken', status: 400})
  })

  it('a quota answers Throttling (400) in the caller account', async () => {
    server.controls.setQuota({service: 'sts', operation: 'GetCallerIdentity', ratePerSecond: 0.001, burst: 1})
    const client = sts({maxAttempts: 1})
    await client.send(new GetCallerIdentityCommand({}))

    const failure = await failureOf(client.send(new GetCallerIdentityCommand({})))

    expect(failure).toMatchObject({name: 'Throttling', status: 400})
    expect(server.controls.throttled({service: 'sts', account: '000000000000'})).toBe(1)
  })

  it('an injected 500 is InternalFailure and the SDK retries past it', async () => {
    server.controls.injectFault({service: 'sts', operation: 'AssumeRole', kind: '5xx', count: 1})

    await sts().send(new AssumeRoleCommand({RoleArn: ROLE, RoleSessionName: 'retry'}))
    server.controls.injectFault({service: 'sts', operation: 'AssumeRole', kind: '5xx', count: 1})
    const failure = await failureOf(
      sts({maxAttempts: 1}).send(new AssumeRoleCommand({RoleArn: ROLE, RoleSessionName: 'x1'})),
    )

    expect(server.controls.count({service: 'sts', operation: 'AssumeRole'})).toBe(3)
    expect(failure).toMatchObject({name: 'InternalFailure', status: 500})
  })

  describe('default environment', () => {
    afterEach(() => {
      vi.unstubAllEnvs()
    })

    it('a client built with no options reaches the server from AWS_ENDPOINT_URL and AWS_* credentials', async () => {
      vi.stubEnv('AWS_ENDPOINT_URL', server.url)
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'test')
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test')
      vi.stubEnv('AWS_REGION', 'eu-west-1')
      vi.stubEnv('AWS_SESSION_TOKEN', undefined)
      vi.stubEnv('AWS_PROFILE', undefined)
      vi.stubEnv('AWS_ENDPOINT_URL_STS', undefined)

      const identity = await new STSClient({}).send(new GetCallerIdentityCommand({}))

      expect(identity.Account).toBe('000000000000')
      expect(server.controls.count({service: 'sts', operation: 'GetCallerIdentity', region: 'eu-west-1'})).toBe(1)
    })
  })
})
