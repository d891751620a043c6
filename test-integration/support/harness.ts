import {CreateBucketCommand, S3Client} from '@aws-sdk/client-s3'
import {CreateSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import vault from 'node-vault'
import {startTestStack, type TestStack} from '../../test/support/stack.js'

/**
 * The integration harness. Scenarios run the built CLI against the in-process test stack by default, or
 * against the docker-compose stack (real Vault dev server + LocalStack) with SECRETSYNC_IT=compose. Seeding
 * goes through the real APIs (node-vault, the AWS SDK) so the same scenario runs on either.
 */
export interface ItStack {
  mode: 'fakes' | 'compose'
  env: Record<string, string>
  /** What this stack can do; scenarios needing more skip, saying why. */
  supports: {organizations: boolean; identityCenter: boolean; faults: boolean}
  /** The in-process stack, for counters and faults (fakes mode only). */
  fakes?: TestStack
  writeVaultSecret(path: string, data: Record<string, unknown>): Promise<void>
  createBucket(name: string): Promise<void>
  createSecret(name: string, value: unknown, options?: {region?: string; tags?: Record<string, string>}): Promise<void>
  close(): Promise<void>
}

export const itMode = (): 'fakes' | 'compose' => (process.env.SECRETSYNC_IT === 'compose' ? 'compose' : 'fakes')

export const UNSUPPORTED_ON_LOCALSTACK = 'LocalStack community has no Organizations / SSO Admin APIs'

export async function startItStack(): Promise<ItStack> {
  const mode = itMode()
  const fakes = mode === 'fakes' ? await startTestStack() : undefined
  const env: Record<string, string> = fakes
    ? fakes.env
    : {
        VAULT_ADDR: process.env.VAULT_ADDR ?? 'http://127.0.0.1:8200',
        VAULT_TOKEN: process.env.VAULT_TOKEN ?? 'root',
        AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_EC2_METADATA_DISABLED: 'true',
      }
  const awsConfig = {
    endpoint: env.AWS_ENDPOINT_URL,
    region: 'us-east-1',
    credentials: {accessKeyId: env.AWS_ACCESS_KEY_ID as string, secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string},
  }
  const v = vault({endpoint: env.VAULT_ADDR, token: env.VAULT_TOKEN, noCustomHTTPVerbs: true})
  const s3 = new S3Client({...awsConfig, forcePathStyle: true})
  return {
    mode,
    env,
    fakes,
    supports: {organizations: mode === 'fakes', identityCenter: mode === 'fakes', faults: mode === 'fakes'},
    async writeVaultSecret(path, data) {
      const [mount, ...rest] = path.split('/')
      await v.write(`${mount}/data/${rest.join('/')}`, {data})
    },
    async createBucket(name) {
      await s3.send(new CreateBucketCommand({Bucket: name}))
    },
    async createSecret(name, value, options = {}) {
      const sm = new SecretsManagerClient({...awsConfig, region: options.region ?? 'us-east-1'})
      await sm.send(
        new CreateSecretCommand({
          Name: name,
          SecretString: typeof value === 'string' ? value : JSON.stringify(value),
          Tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({Key, Value})),
        }),
      )
    },
    close: async () => {
      s3.destroy()
      await fakes?.close()
    },
  }
}

/** A unique name per scenario, so scenarios never share state on a long-lived compose stack. */
export const uniqueName = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`
