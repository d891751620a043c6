import {hostname} from 'node:os'
import type {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {formatOperationError, SecretSyncError} from '../errors.js'
import type {Runtime} from '../runtime.js'
import type {AppliedRecord, SnapshotStore} from '../store/index.js'
import type {JsonObject} from '../util/canonical-json.js'
import {applyPlan, awsRetries, describeAwsError, type WriteLimiter} from './apply.js'
import {desiredSecret, namesToRead, planTarget, type PlannedChange, type TargetPlan} from './plan.js'
import {findUnlistedSecrets, listOwnedSecrets, readValues, type OwnershipTag} from './read-current.js'
import {isSendableName} from './secret-rules.js'
import type {SecretChange, TargetSyncResult} from './types.js'

// Only the documented fields leave the planner: `desired` holds values, and they never reach output unasked.
const publicChange = ({desired: _d, currentVersionId: _v, adopt: _a, ...change}: PlannedChange): SecretChange => change

/** A target with everything defaulted: what sync needs to know about it. */
export interface ResolvedTarget {
  name: string
  accountId?: string
  region: string
  roleArn?: string
  externalId?: string
  prefix: string
  tags: Record<string, string>
  kmsKeyId?: string
}

export interface SyncSettings {
  dryRun: boolean
  adopt: boolean
  showValues: boolean
  deleteOrphans: boolean
  maxDeletions: number
  recoveryWindowDays: number
  forceDelete: boolean
  ownership: OwnershipTag
}

export interface SyncTargetInput {
  target: ResolvedTarget
  desired: ReadonlyMap<string, JsonObject>
  snapshotVersion: number | null
  settings: SyncSettings
  runtime: Runtime
  store?: SnapshotStore
  limiter: WriteLimiter
  /** Assumes the target's role, checks its account, and returns a Secrets Manager client acting there. */
  connect(target: ResolvedTarget): Promise<{client: SecretsManagerClient; accountId: string}>
}

const LOCK_TTL_MS = 30 * 60 * 1000

const appliedRecordIsCurrent = (applied: AppliedRecord | undefined, plan: TargetPlan, version: number | null): boolean =>
  applied !== undefined &&
  applied.version === (version ?? 0) &&
  Object.keys(applied.secrets).length === plan.unchanged.length &&
  plan.unchanged.every((entry) => applied.secrets[entry.name]?.hash === entry.hash && applied.secrets[entry.name]?.version_id === entry.versionId)

/**
 * Syncs one target: read what AWS holds (listing, then values only where the applied record cannot vouch),
 * plan, and unless dry-running apply under the target's store lock and record what was applied.
 */
export async function syncTarget(input: SyncTargetInput): Promise<TargetSyncResult> {
  const {target, settings, runtime, store} = input
  const result: TargetSyncResult = {
    name: target.name,
    account_id: target.accountId ?? null,
    region: target.region,
    status: settings.dryRun ? 'planned' : 'applied',
    snapshot_version: input.snapshotVersion,
    error: null,
    changes: [],
    unchanged: 0,
  }
  let client: SecretsManagerClient | undefined
  const started = runtime.now()
  try {
    const connected = await input.connect(target)
    client = connected.client
    const account = connected.accountId
    const readOptions = {target: target.name, prefix: target.prefix, ownership: settings.ownership, redactor: runtime.redactor}
    const desired = [...input.desired].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, value]) => desiredSecret(path, target.prefix, value))
    const applied = store ? await store.readApplied(target.name, account, target.region) : undefined

    const current = await listOwnedSecrets(client, readOptions)
    const unlisted = desired.filter((secret) => !current.has(secret.name) && isSendableName(secret.name)).map((secret) => secret.name)
    for (const [name, secret] of await findUnlistedSecrets(client, unlisted, readOptions)) current.set(name, secret)
    const toRead = namesToRead(desired, current, applied, settings).filter((name) => current.get(name)?.value === undefined)
    for (const [name, value] of await readValues(client, toRead, runtime.redactor)) {
      const secret = current.get(name)
      if (secret) current.set(name, {...secret, value})
    }

    const plan = planTarget(desired, current, applied, {...settings, target: target.name, prefix: target.prefix})
    result.unchanged = plan.unchanged.length
    result.changes = plan.changes.map(publicChange)
    if (plan.error) return {...result, status: 'failed', error: plan.error}
    if (settings.dryRun) return result
    if (plan.changes.length === 0 && appliedRecordIsCurrent(applied, plan, input.snapshotVersion)) {
      // Nothing to write and the record already vouches for every secret: no lock, no store write.
      return result
    }

    const lock = store ? await store.acquireLock(target.name, {owner: `${hostname()}:${process.pid}`, runId: runtime.runId, ttlMs: LOCK_TTL_MS}) : undefined
    try {
      const outcome = await applyPlan(client, plan, {
        target: target.name,
        limiterKey: `${account}-${target.region}`,
        ownership: settings.ownership,
        tags: target.tags,
        kmsKeyId: target.kmsKeyId,
        recoveryWindowDays: settings.recoveryWindowDays,
        forceDelete: settings.forceDelete,
        limiter: input.limiter,
        runId: runtime.runId,
        now: runtime.now,
      })
      result.changes = outcome.changes.map(publicChange)
      if (store) {
        await store.writeApplied(target.name, account, target.region, {
          version: input.snapshotVersion ?? 0,
          applied_at: new Date(runtime.now()).toISOString(),
          secrets: outcome.applied,
        })
      }
    } finally {
      if (lock && store) await store.releaseLock(lock).catch(() => false)
    }
    return result
  } catch (error) {
    const message =
      error instanceof SecretSyncError
        ? error.message
        : formatOperationError({runId: runtime.runId, operation: `sync ${target.name}`, subject: `${target.accountId ?? 'base'}/${target.region}`, durationMs: runtime.now() - started, retries: awsRetries(error)}, describeAwsError(error))
    runtime.logger.error('target failed', {target: target.name, error: message})
    return {...result, status: 'failed', error: message}
  } finally {
    client?.destroy()
  }
}
