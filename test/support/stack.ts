import {startAwsServer, type AwsServer} from './aws/aws-server.js'
import {Controls} from './controls.js'
import {seedAws, seedVault, type SeededCredentials, type StackFixture} from './fixture.js'
import {startVaultServer, type VaultServer} from './vault/vault-server.js'

export interface TestStackOptions {
  /** Fixed ports (the sandbox); free ports when omitted. */
  vaultPort?: number
  awsPort?: number
  now?: () => number
  /** Vault answers dead tokens as before 1.16 (plain "permission denied"). */
  legacyTokenErrors?: boolean
}

export interface TestStack {
  vault: VaultServer
  aws: AwsServer
  /** One set of controls for both servers: faults, quotas, latency and call counters. */
  controls: Controls
  credentials: SeededCredentials
  /** The environment a user would export to point secretsync (and any AWS SDK client) at the stack. */
  env: Record<string, string>
  close(): Promise<void>
}

/** Starts the in-process Vault and AWS servers, seeds them from the fixture and returns how to reach them. */
export async function startTestStack(fixture: StackFixture = {}, options: TestStackOptions = {}): Promise<TestStack> {
  const controls = new Controls(options.now)
  const vault = await startVaultServer({
    controls,
    port: options.vaultPort,
    now: options.now,
    legacyTokenErrors: options.legacyTokenErrors,
  })
  const aws = await startAwsServer({controls, port: options.awsPort, now: options.now})
  const credentials = seedVault(vault, fixture.vault)
  seedAws(aws, fixture.aws)
  const env: Record<string, string> = {
    VAULT_ADDR: vault.url,
    VAULT_TOKEN: vault.rootToken,
    AWS_ENDPOINT_URL: aws.url,
    AWS_ACCESS_KEY_ID: aws.base.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.base.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  }
  return {
    vault,
    aws,
    controls,
    credentials,
    env,
    close: async () => {
      await Promise.all([vault.close(), aws.close()])
    },
  }
}
