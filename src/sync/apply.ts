import {createHash} from 'node:crypto'
import pLimit from 'p-limit'
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import {formatOperationError} from '../errors.js'
import type {AppliedRecord} from '../store/index.js'
import {ownRecord} from '../store/stored-json.js'
import {stringifyJson} from '../util/exact-json.js'
import type {PlannedChange, TargetPlan} from './plan.js'
import {TARGET_TAG, type OwnershipTag} from './read-current.js'

export const MANAGED_DESCRIPTION = 'Managed by secretsync — changes made here are overwritten'

/** Anything that paces writes per account-region (DESIGN.md `sync.write_rate`). */
export interface WriteLimiter {
  acquire(key: string): Promise<void>
}

export interface ApplyOptions {
  target: string
  /** `account-region`, the key writes are paced by. */
  limiterKey: string
  ownership: OwnershipTag
  tags: Record<string, string>
  kmsKeyId?: string
  recoveryWindowDays: number
  forceDelete: boolean
  limiter: WriteLimiter
  runId: string
  now: () => number
}

export interface ApplyResult {
  changes: PlannedChange[]
  /** Name → {hash, version_id} of every secret now known to hold its desired value. */
  applied: AppliedRecord['secrets']
}

/**
 * A ClientRequestToken that is the same for every retry of one write (same secret, same desired content,
 * same starting version), so a retried write never creates a second version — and different once the
 * secret moved on, so correcting a drift is never mistaken for a retry.
 */
export function requestToken(name: string, hash: string, currentVersionId: string | undefined): string {
  const hex = createHash('sha256').update(`${name}\0${hash}\0${currentVersionId ?? ''}`).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

/** The SDK's own count of attempts, so an error can say how often it was retried. */
export const awsRetries = (error: unknown): number => Math.max(0, ((error as {$metadata?: {attempts?: number}}).$metadata?.attempts ?? 1) - 1)

export const describeAwsError = (error: unknown): string => {
  const e = error as {name?: string; message?: string}
  return `${e.name ?? 'Error'}: ${e.message ?? String(error)}`
}

/**
 * Applies a plan's writes one by one, paced by the limiter. A failed write marks that change's `error` and the
 * rest go on; the result says which secrets now hold their desired value, for the applied record.
 */
export async function applyPlan(client: SecretsManagerClient, plan: TargetPlan, options: ApplyOptions): Promise<ApplyResult> {
  // Keyed by secret name, which is user data: no prototype, so a secret named `__proto__` is recorded too.
  const applied: AppliedRecord['secrets'] = ownRecord([])
  for (const entry of plan.unchanged) if (entry.versionId) applied[entry.name] = {hash: entry.hash, version_id: entry.versionId}
  const tags = [
    {Key: options.ownership.key, Value: options.ownership.value},
    {Key: TARGET_TAG, Value: options.target},
    ...Object.entries(options.tags).map(([Key, Value]) => ({Key, Value})),
  ]
  const write = async <T>(operation: string, subject: string, fn: () => Promise<T>): Promise<T> => {
    await options.limiter.acquire(options.limiterKey)
    const started = options.now()
    try {
      return await fn()
    } catch (error) {
      // DESIGN.md §4: every error says run, operation, secret, duration and retries; never a value.
      const context = {runId: options.runId, operation, subject, durationMs: options.now() - started, retries: awsRetries(error)}
      throw new Error(formatOperationError(context, describeAwsError(error)), {cause: error})
    }
  }

  // Several writes in flight so latency does not cap throughput; the limiter alone sets the pace.
  const inFlight = pLimit(8)
  const applyOne = async (change: PlannedChange): Promise<PlannedChange> => {
    if (change.error !== null || change.action === 'conflict') return change
    const desired = change.desired
    try {
      if (change.action === 'create' && desired) {
        const token = requestToken(desired.name, desired.hash, undefined)
        const response = await write('CreateSecret', desired.name, () =>
          client.send(new CreateSecretCommand({Name: desired.name, SecretString: stringifyJson(desired.value), Description: MANAGED_DESCRIPTION, KmsKeyId: options.kmsKeyId, Tags: tags, ClientRequestToken: token})),
        )
        if (response.VersionId) applied[desired.name] = {hash: desired.hash, version_id: response.VersionId}
      } else if ((change.action === 'update' || change.action === 'restore') && desired) {
        if (change.action === 'restore') await write('RestoreSecret', desired.name, () => client.send(new RestoreSecretCommand({SecretId: desired.name})))
        if (change.adopt) await write('TagResource', desired.name, () => client.send(new TagResourceCommand({SecretId: desired.name, Tags: tags})))
        const valueChanges = change.action === 'restore' || change.keys_added.length + change.keys_removed.length + change.keys_changed.length > 0 || !change.adopt
        if (valueChanges) {
          const token = requestToken(desired.name, desired.hash, change.currentVersionId)
          const response = await write('PutSecretValue', desired.name, () => client.send(new PutSecretValueCommand({SecretId: desired.name, SecretString: stringifyJson(desired.value), ClientRequestToken: token})))
          if (response.VersionId) applied[desired.name] = {hash: desired.hash, version_id: response.VersionId}
        } else if (change.currentVersionId) {
          applied[desired.name] = {hash: desired.hash, version_id: change.currentVersionId}
        }
      } else if (change.action === 'delete') {
        await write('DeleteSecret', change.name, () =>
          client.send(
            new DeleteSecretCommand(
              options.forceDelete ? {SecretId: change.name, ForceDeleteWithoutRecovery: true} : {SecretId: change.name, RecoveryWindowInDays: options.recoveryWindowDays},
            ),
          ),
        )
      }
      return change
    } catch (error) {
      return {...change, error: error instanceof Error ? error.message : String(error)}
    }
  }
  const changes = await Promise.all(plan.changes.map((change) => inFlight(() => applyOne(change))))
  return {changes, applied}
}
