import {hostname} from 'node:os'
import {S3Client} from '@aws-sdk/client-s3'
import type {Config} from '../config/schema.js'
import type {DiscoveryClients} from '../discovery/index.js'
import {ExitCode, SecretSyncError} from '../errors.js'
import {awsClientConfig, defaultRegion} from '../aws/client-config.js'
import {createMetrics, type Metrics} from '../observability/metrics.js'
import {s3GroupOf, secretsManagerGroups} from '../aws/quota-groups.js'
import {throttlePlugin, withBreaker} from '../resilience/aws-middleware.js'
import type {RoleSessions} from '../aws/target-credentials.js'
import {createBreakers, type Breakers} from '../resilience/breakers.js'
import {accountRegionKey, createQuotaLimiter, type QuotaLimiter} from '../resilience/quota-limiter.js'
import type {Runtime} from '../runtime.js'
import {SnapshotStore} from '../store/index.js'
import type {WriteLimiter} from '../sync/apply.js'
import type {SyncTargetInput} from '../sync/sync-target.js'
import {stopAwareReader} from '../vault/stop-aware-reader.js'
import type {VaultReader} from '../vault/vault-client.js'

/** The adapters the composition root (src/composition-root.ts) builds: the only place that turns config into clients. */
export interface Adapters {
  connectVault: () => Promise<VaultReader>
  store: SnapshotStore | undefined
  /** The merge store's S3 client (discovery caches its results beside the snapshots). */
  s3: S3Client | undefined
  /** Assumes a target's role, checks its account and returns a Secrets Manager client acting there. */
  connectTarget: SyncTargetInput['connect']
  /**
   * Paces writes per account-region at an adaptive rate of at most `sync.write_rate` (and every other quota the run
   * draws on); what it learned is the run's `throttling` report.
   */
  limiter: WriteLimiter & Pick<QuotaLimiter, 'usage'>
  /** One registry for the run; one breaker per service, per account-region for Secrets Manager and STS. */
  metrics: Metrics
  breakers: Breakers
  /** Options every AWS client of the run is built with. */
  awsClient: AwsClientOptions
  /** Organizations, SSO Admin and Identity Store clients for discovery, per (role, region); destroy them after. */
  connectDiscovery: () => Promise<DiscoveryClients & {destroy(): void}>
}

export interface AwsClientOptions {
  endpoint?: string
  timeoutMs: number
  retry: ReturnType<typeof retryPolicyOf>
}

export const retryPolicyOf = (config: Config) => ({
  maxAttempts: config.retry.max_attempts,
  baseDelayMs: config.retry.base_delay,
  maxDelayMs: config.retry.max_delay,
})

export function buildAdapters(
  config: Config,
  runtime: Runtime,
  env: Readonly<Record<string, string | undefined>>,
): Adapters {
  const metrics = createMetrics()
  const breakers = createBreakers(config.circuit_breaker, {logger: runtime.logger, metrics, now: runtime.now})
  const awsClient: AwsClientOptions = {
    endpoint: config.aws.endpoint,
    timeoutMs: config.aws.timeout,
    retry: retryPolicyOf(config),
  }
  const secretsManager = secretsManagerGroups(config.sync.write_rate)
  const limiter = createQuotaLimiter({writes: secretsManager.writes, metrics, now: runtime.now})
  const deadlineMs = config.sync.throttle_deadline
  // The run's identities (base chain, one AssumeRole per role), built on first use: STS is imported only then.
  let roleSessions: Promise<RoleSessions> | undefined
  const sessions = (): Promise<RoleSessions> =>
    (roleSessions ??= import('../aws/target-credentials.js').then(({createRoleSessions}) =>
      createRoleSessions({runId: runtime.runId, client: awsClient, breakers, metrics}),
    ))
  const storeConfig = config.merge_store?.enabled ? config.merge_store : undefined
  const s3 = storeConfig
    ? withBreaker(
        new S3Client({
          ...awsClientConfig({
            ...awsClient,
            // A bucket answers only in its own region: merge_store.region, else aws.region, else AWS_REGION.
            region: storeConfig.region ?? defaultRegion(config, env),
            endpoint: storeConfig.endpoint ?? config.aws.endpoint,
            throttlingByLimiter: true,
          }),
          // Custom endpoints (LocalStack, MinIO, the test stack) rarely serve virtual-hosted buckets.
          forcePathStyle:
            storeConfig.force_path_style ||
            Boolean(storeConfig.endpoint ?? config.aws.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL),
        }),
        's3',
        breakers,
        {metrics},
      )
    : undefined
  // SlowDown slows the merge store's calls down instead of failing them (S3 rates are per bucket prefix).
  s3?.middlewareStack.use(
    throttlePlugin({
      limiter,
      key: `s3:${storeConfig?.bucket ?? ''}`,
      groupOf: s3GroupOf,
      where: (group) => `s3 ${group.name} of bucket ${storeConfig?.bucket ?? ''}`,
      deadlineMs,
      stop: runtime.stop,
    }),
  )
  const store =
    storeConfig && s3
      ? new SnapshotStore(s3, {
          bucket: storeConfig.bucket,
          prefix: storeConfig.prefix,
          kmsKeyId: storeConfig.kms_key_id,
          retainVersions: storeConfig.retain_versions,
          now: () => new Date(runtime.now()),
          runId: runtime.runId,
          lockTtlMs: storeConfig.lock_ttl,
          // Lock records carry host and pid, so a run on this host can take over from a holder that died here.
          host: hostname(),
        })
      : undefined
  return {
    store,
    s3,
    metrics,
    breakers,
    awsClient,
    limiter,
    connectDiscovery: async () =>
      (await import('./discovery-clients.js')).connectDiscovery(config, {
        awsClient,
        breakers,
        metrics,
        sessions: await sessions(),
      }),
    // Secrets Manager, STS and node-vault are imported where they are first used, not at the top: a
    // --merge-only run never syncs, a --sync-only run never reads Vault, `version list` needs neither.
    connectTarget: async (target) => {
      const [roles, {SecretsManagerClient}] = await Promise.all([sessions(), import('@aws-sdk/client-secrets-manager')])
      const identity = await roles.resolveTargetIdentity({
        target: target.name,
        region: target.region,
        roleArn: target.roleArn,
        externalId: target.externalId,
        accountId: target.accountId,
      })
      const client = new SecretsManagerClient(
        awsClientConfig({
          ...awsClient,
          region: target.region,
          credentials: identity.credentials,
          throttlingByLimiter: true,
        }),
      )
      const key = accountRegionKey(identity.accountId, target.region)
      limiter.describe(key, {account: identity.accountId, region: target.region})
      client.middlewareStack.use(
        throttlePlugin({
          limiter,
          key,
          groupOf: secretsManager.groupOf,
          where: (group) => `secretsmanager ${group.name} of ${identity.accountId}/${target.region}`,
          // apply.ts waits for each write's first turn itself, right before it checks whether it may still write.
          pacedByCaller: secretsManager.isWrite,
          deadlineMs,
          stop: runtime.stop,
        }),
      )
      // Its own breaker per account-region: one broken account never opens the circuit for the others.
      const scope = {service: 'secretsmanager', account: identity.accountId, region: target.region} as const
      return {client: withBreaker(client, scope, breakers, {metrics}), accountId: identity.accountId}
    },
    connectVault: async () => {
      if (!config.vault)
        throw new SecretSyncError('VAULT_NOT_CONFIGURED', 'vault is not configured', ExitCode.failure, {
          hint: 'Add a vault section to the config.',
        })
      const {connectVault} = await import('../vault/vault-client.js')
      const reader = await connectVault({
        config: config.vault,
        env,
        now: runtime.now,
        logger: runtime.logger,
        redactor: runtime.redactor,
        retry: retryPolicyOf(config),
        breakers,
        metrics,
        quota: {
          limiter,
          group: {service: 'vault', name: 'requests', ceiling: config.vault.request_rate ?? Infinity},
          deadlineMs,
          stop: runtime.stop,
        },
      })
      return stopAwareReader(reader, runtime.stop)
    },
  }
}
