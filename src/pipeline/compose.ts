import {S3Client} from '@aws-sdk/client-s3'
import type {Config} from '../config/schema.js'
import {awsClientConfig, defaultRegion} from '../aws/client-config.js'
import type {Runtime} from '../runtime.js'
import {SnapshotStore} from '../store/index.js'
import {connectVault, type VaultReader} from '../vault/vault-client.js'

/** The composition root: the only place that turns config into clients and adapters. */
export interface Adapters {
  connectVault: () => Promise<VaultReader>
  store: SnapshotStore | undefined
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
  return {
    store,
    connectVault: () => {
      if (!config.vault) throw new Error('vault is not configured')
      return connectVault({config: config.vault, logger: runtime.logger, redactor: runtime.redactor, retry: retryPolicyOf(config)})
    },
  }
}
