import {createHash} from 'node:crypto'
import pLimit from 'p-limit'
import {
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import {formatOperationError} from '../errors.js'
import {whileAllowed} from '../resilience/throttled-call.js'
import type {AppliedRecord} from '../store/index.js'
import {ownRecord} from '../store/stored-json.js'
import {describeAwsError} from './aws-error.js'
import {secretValueFields} from './secret-payload.js'
import type {SecretMetadata} from './metadata.js'
import type {MetadataWrites, PlannedChange} from './plan.js'
import {replicaStatuses} from './read-current.js'
import {
  desiredRegions,
  replicaFailure,
  replicasTagValue,
  REPLICAS_TAG,
  type ReplicaRegion,
  type ReplicaStatus,
  type ReplicaWrites,
} from './replicas.js'
import {POLICY_TAG, type PolicyWrites} from './resource-policy.js'

/** Anything that paces writes per account-region (docs/design.md `sync.write_rate`). */
export interface WriteLimiter {
  acquire(key: string): Promise<void>
}

export interface ApplyOptions {
  /** `account-region`, the key writes are paced by. */
  limiterKey: string
  /** Tags, KMS key and description a created secret carries. */
  metadata: SecretMetadata
  /** Regions a created secret is replicated to (AddReplicaRegions). */
  replicaRegions?: readonly ReplicaRegion[]
  recoveryWindowDays: number
  forceDelete: boolean
  limiter: WriteLimiter
  runId: string
  now: () => number
  /** Aborted when no new write may start (the run was asked to stop, or the target's lock was lost). */
  signal?: AbortSignal
}

export interface ApplyResult {
  changes: PlannedChange[]
  /** Name → {hash, version_id} of every secret these changes brought to its desired value and metadata. */
  applied: AppliedRecord['secrets']
}

/**
 * A ClientRequestToken that is the same for every retry of one write (same secret, same desired content,
 * same starting version), so a retried write never creates a second version — and different once the
 * secret moved on, so correcting a drift is never mistaken for a retry.
 */
export function requestToken(name: string, hash: string, currentVersionId: string | undefined): string {
  const hex = createHash('sha256')
    .update(`${name}\0${hash}\0${currentVersionId ?? ''}`)
    .digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

/** The SDK's own count of attempts, so an error can say how often it was retried. */
export const awsRetries = (error: unknown): number =>
  Math.max(0, ((error as {$metadata?: {attempts?: number}}).$metadata?.attempts ?? 1) - 1)

/**
 * Applies changes one by one, paced by the limiter. Conflicts, held deletions and changes that already carry an
 * error are left as they are; a failed write marks that change's `error` and the rest go on. The result says
 * which secrets now hold their desired value and metadata, for the applied record.
 */
export async function applyChanges(
  client: SecretsManagerClient,
  changes: readonly PlannedChange[],
  options: ApplyOptions,
): Promise<ApplyResult> {
  // Keyed by secret name, which is user data: no prototype, so a secret named `__proto__` is recorded too.
  const applied: AppliedRecord['secrets'] = ownRecord([])
  const createTags = Object.entries(options.metadata.tags).map(([Key, Value]) => ({Key, Value}))
  /** One call, its failure told as docs/design.md §4 asks: run, operation, secret, duration and retries; never a value. */
  const call = async <T>(operation: string, subject: string, fn: () => Promise<T>): Promise<T> => {
    const started = options.now()
    try {
      return await fn()
    } catch (error) {
      const context = {
        runId: options.runId,
        operation,
        subject,
        durationMs: options.now() - started,
        retries: awsRetries(error),
      }
      throw new Error(formatOperationError(context, describeAwsError(error)), {cause: error})
    }
  }
  const write = async <T>(operation: string, subject: string, fn: () => Promise<T>): Promise<T> => {
    await options.limiter.acquire(options.limiterKey)
    // After the wait, right before the call: a stop requested meanwhile starts no new write; calls already sent finish.
    if (options.signal?.aborted)
      throw new Error(`not applied: ${(options.signal.reason as Error | undefined)?.message ?? 'stopped'}`)
    // A throttled write waiting for its next turn is not sent again once the lock is lost.
    return call(operation, subject, () => whileAllowed(options.signal, fn))
  }

  // Tags first (an adopted secret may only be writable once it carries them), then key and description (so the
  // new value is encrypted with the desired key), then the value.
  const writeMetadata = async (name: string, writes: MetadataWrites): Promise<void> => {
    const tags = Object.entries(writes.tag).map(([Key, Value]) => ({Key, Value}))
    if (tags.length > 0)
      await write('TagResource', name, () => client.send(new TagResourceCommand({SecretId: name, Tags: tags})))
    if (writes.untag.length > 0)
      await write('UntagResource', name, () =>
        client.send(new UntagResourceCommand({SecretId: name, TagKeys: writes.untag})),
      )
    if (writes.kmsKeyId !== undefined || writes.description !== undefined) {
      await write('UpdateSecret', name, () =>
        client.send(
          new UpdateSecretCommand({SecretId: name, KmsKeyId: writes.kmsKeyId, Description: writes.description}),
        ),
      )
    }
  }

  const replicaRegionTypes = (regions: readonly ReplicaRegion[]) =>
    regions.map((entry) => ({
      Region: entry.region,
      ...(entry.kmsKeyId === undefined ? {} : {KmsKeyId: entry.kmsKeyId}),
    }))
  const failedOf = (statuses: readonly ReplicaStatus[], regions: readonly string[]): ReplicaStatus[] =>
    statuses.filter((entry) => entry.status === 'Failed' && regions.includes(entry.region))
  // The replicas tag records what was requested and not reported Failed, so a failure is described and reported again.
  const recordReplicas = async (name: string, value: string): Promise<void> => {
    if (value === '')
      await write('UntagResource', name, () =>
        client.send(new UntagResourceCommand({SecretId: name, TagKeys: [REPLICAS_TAG]})),
      )
    else
      await write('TagResource', name, () =>
        client.send(new TagResourceCommand({SecretId: name, Tags: [{Key: REPLICAS_TAG, Value: value}]})),
      )
  }
  // After the value: replicas copy the primary, so they are added once it holds what they should copy.
  const writeReplicas = async (name: string, writes: ReplicaWrites): Promise<ReplicaStatus[]> => {
    let failed: ReplicaStatus[] = []
    if (writes.add.length > 0) {
      const response = await write('ReplicateSecretToRegions', name, () =>
        client.send(
          new ReplicateSecretToRegionsCommand({SecretId: name, AddReplicaRegions: replicaRegionTypes(writes.add)}),
        ),
      )
      failed = failedOf(
        replicaStatuses(response.ReplicationStatus),
        writes.add.map((entry) => entry.region),
      )
    }
    if (writes.remove.length > 0)
      await write('RemoveRegionsFromReplication', name, () =>
        client.send(new RemoveRegionsFromReplicationCommand({SecretId: name, RemoveReplicaRegions: writes.remove})),
      )
    if (writes.tag !== undefined || failed.length > 0) {
      const failedRegions = new Set(failed.map((entry) => entry.region))
      await recordReplicas(
        name,
        // Out of what the tag says once done (written or not), so a failed add never drops the regions still in place.
        replicasTagValue(writes.recorded.split(' ').filter((r) => r && !failedRegions.has(r))),
      )
    }
    return failed
  }
  /** DeleteSecret fails on a primary with replicas: every replica AWS reports is removed first. */
  const removeAllReplicas = async (name: string): Promise<string[]> => {
    // A read: it takes no write turn.
    const described = await call('DescribeSecret', name, () => client.send(new DescribeSecretCommand({SecretId: name})))
    const regions = replicaStatuses(described.ReplicationStatus).map((entry) => entry.region)
    if (regions.length > 0)
      await write('RemoveRegionsFromReplication', name, () =>
        client.send(new RemoveRegionsFromReplicationCommand({SecretId: name, RemoveReplicaRegions: regions})),
      )
    return regions.sort()
  }
  // The policy, then its tag: a tag only ever vouches for a policy that is in place. BlockPublicPolicy always, so a
  // policy granting broad access is refused by AWS, for that secret alone.
  const writePolicy = async (name: string, writes: PolicyWrites): Promise<void> => {
    if (writes.put !== undefined) {
      const policy = writes.put
      await write('PutResourcePolicy', name, () =>
        client.send(new PutResourcePolicyCommand({SecretId: name, ResourcePolicy: policy, BlockPublicPolicy: true})),
      )
    }
    if (writes.delete)
      await write('DeleteResourcePolicy', name, () => client.send(new DeleteResourcePolicyCommand({SecretId: name})))
    if (writes.tag !== undefined) {
      const hash = writes.tag
      await write('TagResource', name, () =>
        client.send(new TagResourceCommand({SecretId: name, Tags: [{Key: POLICY_TAG, Value: hash}]})),
      )
    }
    if (writes.untag)
      await write('UntagResource', name, () =>
        client.send(new UntagResourceCommand({SecretId: name, TagKeys: [POLICY_TAG]})),
      )
  }

  // Several writes in flight so latency does not cap throughput; the limiter alone sets the pace.
  const inFlight = pLimit(8)
  const applyOne = async (change: PlannedChange): Promise<PlannedChange> => {
    // A replica failure alone does not stop the secret's own writes; it stays the change's error.
    const blocked = change.error !== null && change.replicaFailure !== true
    if (blocked || change.held || change.action === 'conflict' || change.action === 'skip') return change
    const desired = change.desired
    try {
      if (change.action === 'create' && desired) {
        const token = requestToken(desired.name, desired.hash, undefined)
        const {metadata} = options
        const replicas = desiredRegions(options.replicaRegions)
        const response = await write('CreateSecret', desired.name, () =>
          client.send(
            new CreateSecretCommand({
              Name: desired.name,
              ...secretValueFields(desired.value, desired.payload),
              Description: metadata.description,
              KmsKeyId: metadata.kmsKeyId,
              Tags:
                replicas.length > 0
                  ? [...createTags, {Key: REPLICAS_TAG, Value: replicasTagValue(replicas)}]
                  : createTags,
              ...(replicas.length > 0 ? {AddReplicaRegions: replicaRegionTypes(options.replicaRegions ?? [])} : {}),
              ClientRequestToken: token,
            }),
          ),
        )
        if (response.VersionId) applied[desired.name] = {hash: desired.hash, version_id: response.VersionId}
        if (change.policyWrites) await writePolicy(desired.name, change.policyWrites)
        const failed = failedOf(replicaStatuses(response.ReplicationStatus), replicas)
        if (failed.length > 0) {
          const failedRegions = new Set(failed.map((entry) => entry.region))
          await recordReplicas(desired.name, replicasTagValue(replicas.filter((region) => !failedRegions.has(region))))
          return {...change, error: replicaFailure(failed)}
        }
      } else if ((change.action === 'update' || change.action === 'restore') && desired) {
        if (change.action === 'restore')
          await write('RestoreSecret', desired.name, () =>
            client.send(new RestoreSecretCommand({SecretId: desired.name})),
          )
        if (change.metadataWrites) await writeMetadata(desired.name, change.metadataWrites)
        if (change.writeValue) {
          const token = requestToken(desired.name, desired.hash, change.currentVersionId)
          const response = await write('PutSecretValue', desired.name, () =>
            client.send(
              new PutSecretValueCommand({
                SecretId: desired.name,
                ...secretValueFields(desired.value, desired.payload),
                ClientRequestToken: token,
              }),
            ),
          )
          if (response.VersionId) applied[desired.name] = {hash: desired.hash, version_id: response.VersionId}
        } else if (change.currentVersionId) {
          applied[desired.name] = {hash: desired.hash, version_id: change.currentVersionId}
        }
        if (change.policyWrites) await writePolicy(desired.name, change.policyWrites)
        if (change.replicaWrites) {
          const failed = await writeReplicas(desired.name, change.replicaWrites)
          if (failed.length > 0) return {...change, error: replicaFailure(failed)}
        }
      } else if (change.action === 'delete') {
        const deleteSecret = () =>
          write('DeleteSecret', change.name, () =>
            client.send(
              new DeleteSecretCommand(
                options.forceDelete
                  ? {SecretId: change.name, ForceDeleteWithoutRecovery: true}
                  : {SecretId: change.name, RecoveryWindowInDays: options.recoveryWindowDays},
              ),
            ),
          )
        let removed = change.removeReplicasFirst ? await removeAllReplicas(change.name) : undefined
        try {
          await deleteSecret()
        } catch (error) {
          // Replicas no tag recorded (added outside secretsync): AWS refuses to delete their primary. They are
          // looked for only then, so deleting an unreplicated secret costs no DescribeSecret.
          if (removed !== undefined || !isInvalidRequest(error)) throw error
          removed = await removeAllReplicas(change.name)
          if (removed.length === 0) throw error
          await deleteSecret()
        }
        // What AWS held, which may be more than the tag recorded (replicas added outside secretsync).
        if (removed !== undefined) {
          const {replicas_removed: _planned, ...rest} = change
          return removed.length > 0 ? {...rest, replicas_removed: removed} : rest
        }
      }
      return change
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      // A replica failure found while planning stays beside the write error.
      return {...change, error: change.replicaFailure === true ? `${change.error}; ${message}` : message}
    }
  }
  return {changes: await Promise.all(changes.map((change) => inFlight(() => applyOne(change)))), applied}
}

/** A call AWS refused as not possible in the secret's state (InvalidRequestException), as `call` wraps it. */
const isInvalidRequest = (error: unknown): boolean =>
  (error as {cause?: {name?: string}} | undefined)?.cause?.name === 'InvalidRequestException'
