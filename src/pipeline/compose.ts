import {S3Client} from '@aws-sdk/client-s3'
import {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import type {Config} from '../config/schema.js'
import {awsClientConfig, defaultRegion} from '../aws/client-config.js'
import {resolveTargetIdentity} from '../aws/target-credentials.js'
import type {WriteLimiter} from '../sync/apply.js'
import type {SyncTargetInput} from '../sync/sync-target.js'
import type {Runtime} from '../runtime.js'
import {SnapshotStore} from '../store/index.js'
import {connectVault, type VaultReader} from '../vault/vault-client.js'

/** The composition root: the only place that turns config into clients and adapters. */
export interface Adapters {
  connectVault: () => Promise<VaultReader>
  store: SnapshotStore | undefined
  /** Assumes a target's role, checks its account and returns a Secrets Manager client acting there. */
  connectTarget: SyncTargetInput['connect']
  limiter: WriteLimiter
}

/** Interim pacing until the shared token-bucket limiter lands: at most `rate` writes a second per key. */
function createWriteLimiter(rate: number): WriteLimiter {
  const next = new Map<string, number>()
  return {
    async acquire(key) {
      const now = Date.now()
      const slot = Math.max(now, next.get(key) ?? now)
      next.set(key, slot + 1000 / rate)
      if (slot > now) await new Promise((resolve) => setTimeout(resolve, slot - now))
    },
  }
}

export const retryPolicyOf = (config: Config) => ({
  maxAttempts: config.retry.max_attempts,
  baseDelayMs: config.retry.base_delay,
  maxDelayMs: config.retry.max_delay,
})

export function buildAdapters(config: Config, runtime: Runtime): Adapters {
  const store = config.merge_store?.enabled
    ? new SnapshotStore(
        new S3Client({
          ...awsClientConfig({
            region: config.merge_store.region ?? defaultRegion(config),
            endpoint: config.merge_store.endpoint ?? config.aws.endpoint,
            timeoutMs: config.aws.timeout,
            maxAttempts: config.retry.max_attempts,
          }),
          forcePathStyle: config.merge_store.force_path_style || Boolean(config.merge_store.endpoint ?? config.aws.endpoint),
        }),
        {
          bucket: config.merge_store.bucket,
          prefix: config.merge_store.prefix,
          kmsKeyId: config.merge_store.kms_key_id,
          retainVersions: config.merge_store.retain_versions,
          now: () => new Date(runtime.now()),
        },
      )
    : undefined
  const client = {endpoint: config.aws.endpoint, timeoutMs: config.aws.timeout, maxAttempts: config.retry.max_attempts}
  return {
    store,
    limiter: createWriteLimiter(config.sync.write_rate),
    connectTarget: async (target) => {
      const identity = await resolveTargetIdentity({
        target: target.name,
        region: target.region,
        roleArn: target.roleArn,
        externalId: target.externalId,
        accountId: target.accountId,
        runId: runtime.runId,
        client,
      })
      const sm = new SecretsManagerClient(awsClientConfig({...client, region: target.region, credentials: identity.credentials}))
      return {client: sm, accountId: identity.accountId}
    },
    connectVault: () => {
      if (!config.vault) throw new Error('vault is not configured')
      return connectVault({config: config.vault, logger: runtime.logger, redactor: runtime.redactor, retry: retryPolicyOf(config)})
    },
  }
}
