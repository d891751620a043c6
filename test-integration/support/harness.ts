import {CreateBucketCommand, S3Client} from '@aws-sdk/client-s3'
import {CreateSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {fromTemporaryCredentials} from '@aws-sdk/credential-providers'
import type {AwsCredentialIdentityProvider} from '@smithy/types'
import vault from 'node-vault'
import {seedVault} from '../../test/support/fixture.js'
import {startMoto, type MotoServer} from '../../test/support/moto.js'
import {startTestStack, type TestStack} from '../../test/support/stack.js'
import {startVaultServer, type VaultServer} from '../../test/support/vault/vault-server.js'

/**
 * The integration harness. Scenarios run the built CLI against the in-process test stack by default, against
 * moto (`moto_server`, an independent AWS emulator, with the project's in-process Vault) with SECRETSYNC_IT=moto,
 * or against the docker-compose stack (real Vault dev server + LocalStack) with SECRETSYNC_IT=compose. Seeding and
 * checks go through the real APIs (node-vault, the AWS SDK) so the same scenario runs on each.
 */
export type ItMode = 'fakes' | 'moto' | 'compose'

export interface ItStack {
  mode: ItMode
  env: Record<string, string>
  /** The account of the base credentials, as STS reports it. */
  baseAccountId: string
  /** What this stack can do; scenarios needing more skip, saying why. */
  supports: {organizations: boolean; identityCenter: boolean; faults: boolean}
  /** The in-process stack, for counters and faults (fakes mode only). */
  fakes?: TestStack
  /** Client options for any AWS SDK client: endpoint, region and, for another account, AssumeRole credentials. */
  awsConfig(options?: {account?: string; region?: string}): {
    endpoint: string
    region: string
    credentials: AwsCredentialIdentityProvider | {accessKeyId: string; secretAccessKey: string}
  }
  writeVaultSecret(path: string, data: Record<string, unknown>): Promise<void>
  /** Soft-deletes the latest version of a KV v2 secret, as `vault kv delete` does. */
  deleteVaultSecret(path: string): Promise<void>
  createBucket(name: string): Promise<void>
  createSecret(
    name: string,
    value: unknown,
    options?: {region?: string; account?: string; tags?: Record<string, string>},
  ): Promise<void>
  close(): Promise<void>
}

export const itMode = (): ItMode => {
  const mode = process.env.SECRETSYNC_IT
  return mode === 'compose' || mode === 'moto' ? mode : 'fakes'
}

export const UNSUPPORTED_ON_LOCALSTACK = 'LocalStack community has no Organizations / SSO Admin APIs'

/** The role scenarios assume in a target account (moto and the fakes map its credentials to the ARN's account). */
export const roleIn = (account: string): string => `arn:aws:iam::${account}:role/SecretSync`

interface Backing {
  env: Record<string, string>
  fakes?: TestStack
  close(): Promise<void>
}

async function startBacking(mode: ItMode): Promise<Backing> {
  if (mode === 'fakes') {
    const fakes = await startTestStack()
    return {env: fakes.env, fakes, close: () => fakes.close()}
  }
  const staticAws = {
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  }
  if (mode === 'compose') {
    return {
      env: {
        VAULT_ADDR: process.env.VAULT_ADDR ?? 'http://127.0.0.1:8200',
        VAULT_TOKEN: process.env.VAULT_TOKEN ?? 'root',
        AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566',
        ...staticAws,
      },
      close: async () => {},
    }
  }
  // moto has no Vault: the project's in-process Vault stands in, AWS is all moto.
  let moto: MotoServer | undefined
  let vaultServer: VaultServer | undefined
  try {
    vaultServer = await startVaultServer()
    // The KV v2 mount a dev-mode Vault has at `secret/`.
    seedVault(vaultServer)
    moto = await startMoto()
  } catch (error) {
    await vaultServer?.close()
    throw error
  }
  const started = {moto, vaultServer}
  return {
    env: {
      VAULT_ADDR: started.vaultServer.url,
      VAULT_TOKEN: started.vaultServer.rootToken,
      AWS_ENDPOINT_URL: started.moto.url,
      ...staticAws,
    },
    close: async () => {
      await Promise.all([started.moto.close(), started.vaultServer.close()])
    },
  }
}

export async function startItStack(): Promise<ItStack> {
  const mode = itMode()
  const backing = await startBacking(mode)
  const {env, fakes} = backing
  const base = {accessKeyId: env.AWS_ACCESS_KEY_ID as string, secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string}
  const endpoint = env.AWS_ENDPOINT_URL as string
  const roleCredentials = new Map<string, AwsCredentialIdentityProvider>()
  const awsConfig: ItStack['awsConfig'] = ({account, region = 'us-east-1'} = {}) => {
    if (account === undefined) return {endpoint, region, credentials: base}
    let credentials = roleCredentials.get(account)
    if (!credentials) {
      credentials = fromTemporaryCredentials({
        params: {RoleArn: roleIn(account), RoleSessionName: 'secretsync-it'},
        masterCredentials: base,
        clientConfig: {endpoint, region: 'us-east-1'},
      })
      roleCredentials.set(account, credentials)
    }
    return {endpoint, region, credentials}
  }
  const v = vault({endpoint: env.VAULT_ADDR, token: env.VAULT_TOKEN, noCustomHTTPVerbs: true})
  const s3 = new S3Client({...awsConfig(), forcePathStyle: true})
  const sts = new STSClient(awsConfig())
  let baseAccountId: string
  try {
    baseAccountId = (await sts.send(new GetCallerIdentityCommand({}))).Account as string
  } catch (error) {
    await backing.close()
    throw error
  } finally {
    sts.destroy()
  }
  const kvPath = (path: string, kind: 'data' | 'metadata') => {
    const [mount, ...rest] = path.split('/')
    return `${mount}/${kind}/${rest.join('/')}`
  }
  return {
    mode,
    env,
    fakes,
    baseAccountId,
    // The fakes are seeded from state, moto through the Organizations / SSO Admin / Identity Store APIs.
    supports: {organizations: mode !== 'compose', identityCenter: mode !== 'compose', faults: mode === 'fakes'},
    awsConfig,
    async writeVaultSecret(path, data) {
      await v.write(kvPath(path, 'data'), {data})
    },
    async deleteVaultSecret(path) {
      await v.delete(kvPath(path, 'data'))
    },
    async createBucket(name) {
      await s3.send(new CreateBucketCommand({Bucket: name}))
    },
    async createSecret(name, value, options = {}) {
      const sm = new SecretsManagerClient(awsConfig({account: options.account, region: options.region}))
      try {
        await sm.send(
          new CreateSecretCommand({
            Name: name,
            SecretString: typeof value === 'string' ? value : JSON.stringify(value),
            Tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({Key, Value})),
          }),
        )
      } finally {
        sm.destroy()
      }
    },
    close: async () => {
      s3.destroy()
      await backing.close()
    },
  }
}

/** A unique name per scenario, so scenarios never share state on a long-lived compose stack. */
export const uniqueName = (prefix: string): string =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`

/**
 * The integration stories' config: token auth, one source `base` at `secret/<root>/`, the merge store in `bucket`
 * (path-style, under `merged/`) and AWS at the stack's endpoint with the SecretSync role pattern; `targets` is the
 * YAML under `targets:` and `extra` what follows (each line ending in a newline).
 */
export const itConfigText = ({
  root,
  bucket,
  targets,
  extra = '',
}: {
  root: string
  bucket: string
  targets: string
  extra?: string
}): string => `vault:
  address: \${VAULT_ADDR}
  auth: {method: token}
vault_sources:
  - {name: base, mount: secret/${root}/}
merge_store:
  bucket: ${bucket}
  prefix: merged/
  endpoint: \${AWS_ENDPOINT_URL}
  force_path_style: true
aws:
  region: us-east-1
  endpoint: \${AWS_ENDPOINT_URL}
  role_pattern: arn:aws:iam::{{account_id}}:role/SecretSync
targets:
${targets}${extra}`
