import {AssumeRoleCommand, STSClient} from '@aws-sdk/client-sts'
import {afterAll, afterEach, beforeAll, beforeEach, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../support/aws/aws-server.js'
import {startMoto, type MotoServer} from '../support/moto.js'

/**
 * Where the AWS conformance tests send their SDK calls: the project's AWS test server (default), or moto with
 * SECRETSYNC_CONFORMANCE=moto (`npm run test:moto`). The same assertions against an independent implementation
 * catch a wrong belief about AWS written into both the server and the product; where the two disagree, the AWS
 * API reference decides. Tests that need what only the project's server has (seeding from state, a movable clock,
 * faults, quotas, call counters) or what moto does not implement are declared with `serverOnly`, saying why.
 */
export type ConformanceTarget = 'server' | 'moto'

export const conformanceTarget: ConformanceTarget = process.env.SECRETSYNC_CONFORMANCE === 'moto' ? 'moto' : 'server'
export const onMoto = conformanceTarget === 'moto'

/** A test that runs only against the project's server; `why` names what moto lacks (shown in the test name on moto). */
export const serverOnly = (why: string) => (name: string, fn: () => Promise<void>, timeout?: number) =>
  it.skipIf(onMoto)(onMoto ? `${name} [server only: ${why}]` : name, fn, timeout)

export interface AwsEndpoint {
  url: string
  /** The account of the base credentials (`test`/`test`): 000000000000 on the server, 123456789012 on moto. */
  baseAccountId: string
  base: {accessKeyId: string; secretAccessKey: string}
  /** The project's server, for seeding and inspection; undefined on moto (use `serverOnly` tests for it). */
  server: AwsServer | undefined
  /** Credentials acting in another account: AssumeRole into a role there (both map it to the ARN's account). */
  credentialsIn(accountId: string): Promise<{accessKeyId: string; secretAccessKey: string; sessionToken?: string}>
}

/**
 * Registers hooks giving each test a fresh endpoint: a new project server per test (with `serverOptions`), or one
 * moto per file reset before each test. Read `current()` inside tests.
 */
export function useAwsEndpoint(serverOptions: () => Parameters<typeof startAwsServer>[0] = () => ({})): {
  current(): AwsEndpoint
} {
  let endpoint: AwsEndpoint | undefined
  let moto: MotoServer | undefined
  const base = {accessKeyId: 'test', secretAccessKey: 'test'}
  const credentialsIn = (url: string) => async (accountId: string) => {
    const sts = new STSClient({endpoint: url, region: 'us-east-1', credentials: base})
    try {
      const {Credentials: c} = await sts.send(
        new AssumeRoleCommand({RoleArn: `arn:aws:iam::${accountId}:role/Conformance`, RoleSessionName: 'conformance'}),
      )
      return {
        accessKeyId: c?.AccessKeyId ?? '',
        secretAccessKey: c?.SecretAccessKey ?? '',
        sessionToken: c?.SessionToken,
      }
    } finally {
      sts.destroy()
    }
  }
  if (onMoto) {
    beforeAll(async () => {
      moto = await startMoto()
    })
    afterAll(async () => {
      await moto?.close()
    })
    beforeEach(async () => {
      const running = moto as MotoServer
      await running.reset()
      endpoint = {
        url: running.url,
        baseAccountId: '123456789012',
        base,
        server: undefined,
        credentialsIn: credentialsIn(running.url),
      }
    })
  } else {
    beforeEach(async () => {
      const server = await startAwsServer(serverOptions())
      endpoint = {
        url: server.url,
        baseAccountId: server.base.accountId,
        base,
        server,
        credentialsIn: credentialsIn(server.url),
      }
    })
    afterEach(async () => {
      await endpoint?.server?.close()
    })
  }
  return {
    current: () => {
      if (!endpoint) throw new Error('no AWS endpoint: call inside a test')
      return endpoint
    },
  }
}
