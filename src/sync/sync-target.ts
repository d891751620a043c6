import {isDeepStrictEqual} from 'node:util'
import type {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {formatOperationError, SecretSyncError} from '../errors.js'
import type {Runtime} from '../runtime.js'
import {
  thisProcess,
  type AppliedMetadata,
  type AppliedRecord,
  type HeldLock,
  type SnapshotStore,
} from '../store/index.js'
import {ownRecord} from '../store/stored-json.js'
import type {JsonObject} from '../util/canonical-json.js'
import {applyChanges, awsRetries, type ApplyOptions, type WriteLimiter} from './apply.js'
import {describeAwsError} from './aws-error.js'
import {readPlanBasis, revalidateBasis, type BasisQuery, type PlanBasis} from './fresh-plan.js'
import {desiredMetadata, type SecretMetadata} from './metadata.js'
import {
  namesToDescribe,
  namesToRead,
  planTarget,
  policyNamesToRead,
  type PlannedChange,
  type TargetPlan,
} from './plan.js'
import {
  describeReplicas,
  findUnlistedSecrets,
  listOwnedSecrets,
  readPolicies,
  readValues,
  type OwnershipTag,
} from './read-current.js'
import {renderPolicy} from './resource-policy.js'
import {isSendableName} from './secret-rules.js'
import {DEFAULT_SHAPE, shapeSecrets, type TargetShape} from './shape-secrets.js'
import type {SecretChange, TargetSyncResult} from './types.js'

// Only the documented fields leave the planner: `desired` holds values, and they never reach output unasked.
const publicChange = ({
  desired: _d,
  currentVersionId: _v,
  writeValue: _w,
  metadataWrites: _m,
  replicaWrites: _r,
  replicaFailure: _f,
  removeReplicasFirst: _x,
  policyWrites: _p,
  ...change
}: PlannedChange): SecretChange => change

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
  /** How desired secrets become AWS names and values; the default is `secret_prefix` + path, as JSON. */
  shape?: TargetShape
  /** `resource_policy`, its `{{variables}}` not yet rendered. */
  resourcePolicy?: JsonObject
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
  /** `--version N`: sync exactly that snapshot even when a newer one exists. */
  pinnedVersion?: boolean
}

export interface SyncTargetInput {
  target: ResolvedTarget
  desired: ReadonlyMap<string, JsonObject>
  snapshotVersion: number | null
  /** Why the desired state may be incomplete (DesiredTarget.incomplete); non-empty holds the orphan deletions. */
  incomplete: readonly string[]
  settings: SyncSettings
  runtime: Runtime
  store?: SnapshotStore
  limiter: WriteLimiter
  /** Assumes the target's role, checks its account, and returns a Secrets Manager client acting there. */
  connect(target: ResolvedTarget): Promise<{client: SecretsManagerClient; accountId: string}>
}

/** The run-wide deletion decision (docs/design.md §4: one `sync.max_deletions` budget, checked before any deletion). */
export type DeletionVerdict = {allowed: true} | {allowed: false; reason: string}

/**
 * A target whose creates, updates and restores are applied (or planned) and whose deletions wait for the run's
 * verdict. `finish` applies or holds them, records what was applied and releases the lock; it never throws.
 */
export interface StagedTarget {
  /** Orphan deletions this target would apply if the run allows (deletions already held are not counted). */
  deletions: number
  finish(verdict: DeletionVerdict): Promise<TargetSyncResult>
}

const recordedMetadata = (metadata: SecretMetadata): AppliedMetadata => ({
  tags: {...metadata.tags},
  kms_key_id: metadata.kmsKeyId ?? null,
  description: metadata.description ?? null,
})

const appliedRecordIsCurrent = (
  applied: AppliedRecord | undefined,
  plan: TargetPlan,
  version: number | null,
  metadata: AppliedMetadata,
): boolean =>
  applied !== undefined &&
  applied.version === (version ?? 0) &&
  applied.metadata !== undefined &&
  // Compared as plain data: a parsed record's objects have no prototype.
  isDeepStrictEqual({...applied.metadata, tags: {...applied.metadata.tags}}, metadata) &&
  Object.keys(applied.secrets).length === plan.unchanged.length &&
  plan.unchanged.every(
    (entry) =>
      applied.secrets[entry.name]?.hash === entry.hash && applied.secrets[entry.name]?.version_id === entry.versionId,
  )

const isPendingDeletion = (change: SecretChange): boolean =>
  change.action === 'delete' && !change.held && change.error === null

/** Marks the deletions still pending as held, with the reason as their error. */
const hold = <T extends SecretChange>(changes: readonly T[], reason: string): T[] =>
  changes.map((change) => (isPendingDeletion(change) ? {...change, held: true, error: `held: ${reason}`} : change))

/** The target-level line for held deletions, so a summary that lists no secrets still says what was not done. */
function heldError(changes: readonly SecretChange[]): string | null {
  const held = changes.filter((change) => change.held)
  if (held.length === 0) return null
  const reasons = [...new Set(held.map((change) => (change.error ?? '').replace(/^held: /, '')))]
  return `${held.length} orphan ${held.length === 1 ? 'deletion' : 'deletions'} held, nothing deleted: ${reasons.join('; ')}`
}

const joinErrors = (...errors: Array<string | null>): string | null =>
  errors.filter((e): e is string => e !== null).join('; ') || null

/** A target that is already done (or never started): its result stands whatever the verdict. */
export const settled = (result: TargetSyncResult): StagedTarget => ({
  deletions: 0,
  finish: () => Promise.resolve(result),
})

interface FailureContext {
  runtime: Runtime
  target: ResolvedTarget
  started: number
}

/** A target-level failure as one line: ours as they are, AWS's with run, operation, subject, duration, retries. */
const failureMessage = (error: unknown, {runtime, target, started}: FailureContext): string =>
  error instanceof SecretSyncError
    ? error.message
    : formatOperationError(
        {
          runId: runtime.runId,
          operation: `sync ${target.name}`,
          subject: `${target.accountId ?? 'base'}/${target.region}`,
          durationMs: runtime.now() - started,
          retries: awsRetries(error),
        },
        describeAwsError(error),
      )

// The staged targets below are built at module level on purpose: a closure made inside syncTarget would keep its
// whole scope alive until the run's verdict, the desired state and the plan's values with it. What a staged target
// holds is its result so far, its pending deletions and the applied record to write: nothing per secret value.

/** A dry-run target: its planned changes (without values unless shown), deletions held if the verdict says so. */
function stagedPlan(result: TargetSyncResult, changes: readonly SecretChange[]): StagedTarget {
  return {
    deletions: changes.filter(isPendingDeletion).length,
    finish: (verdict) => {
      const final = verdict.allowed ? [...changes] : hold(changes, verdict.reason)
      return Promise.resolve({...result, changes: final, error: heldError(final)})
    },
  }
}

interface AppliedStage {
  result: TargetSyncResult
  client: SecretsManagerClient
  lock: HeldLock | undefined
  store: SnapshotStore | undefined
  account: string
  region: string
  /** The creates, updates and restores as applied. */
  applied: readonly SecretChange[]
  /** The planned deletions, applied or held at the verdict. */
  deletions: readonly PlannedChange[]
  applyOptions: ApplyOptions
  /** The applied record's secrets: the unchanged ones and those the first pass brought in step. */
  recordSecrets: AppliedRecord['secrets']
  version: number
  metadata: AppliedMetadata
  failure: FailureContext
}

/** A target whose first pass ran under its lock; `finish` applies or holds the deletions, records, unlocks. */
function stagedApply(stage: AppliedStage): StagedTarget {
  const {result, lock: held, store} = stage
  const {runtime} = stage.failure
  return {
    deletions: stage.deletions.filter(isPendingDeletion).length,
    finish: async (verdict) => {
      try {
        const secondPass = verdict.allowed
          ? await applyChanges(stage.client, stage.deletions, stage.applyOptions)
          : {changes: hold(stage.deletions, verdict.reason), applied: {}}
        const changes = [...stage.applied, ...secondPass.changes.map(publicChange)]
        const done: TargetSyncResult = {...result, changes, error: heldError(changes)}
        if (held?.lostReason !== undefined) {
          // Another run may hold the lock now: the record is theirs to write. The next run re-reads what we wrote.
          const written = changes.filter(
            (change) => change.error === null && change.action !== 'conflict' && change.action !== 'skip',
          ).length
          return {
            ...done,
            status: 'failed',
            error: joinErrors(
              `${held.lostReason}; stopped writing after ${written} change(s); the applied record was not updated`,
              done.error,
            ),
          }
        }
        if (!store) return done
        try {
          await store.writeApplied(result.name, stage.account, stage.region, {
            version: stage.version,
            applied_at: new Date(runtime.now()).toISOString(),
            secrets: stage.recordSecrets,
            metadata: stage.metadata,
          })
        } catch (error) {
          // The writes happened: report them as applied, and the record failure beside them (the next run reads the values again).
          const message = `the changes were applied, but the applied record could not be written: ${failureMessage(error, stage.failure)}`
          runtime.logger.error('applied record not written', {target: result.name, error: message})
          return {...done, error: joinErrors(done.error, message)}
        }
        return done
      } finally {
        await held?.release()
        stage.client.destroy()
      }
    },
  }
}

/**
 * Syncs one target up to its deletions: read what AWS holds (listing, then values only where the applied record
 * cannot vouch), plan, and unless dry-running take the lock and apply every change but the deletions. `finish`
 * then applies or holds the deletions (the run's verdict), writes the applied record and releases the lock.
 */
export async function syncTarget(input: SyncTargetInput): Promise<StagedTarget> {
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
  let lock: HeldLock | undefined
  const started = runtime.now()
  const failure = (error: unknown): string => failureMessage(error, {runtime, target, started})
  const release = async (): Promise<void> => {
    await lock?.release()
    client?.destroy()
  }
  const failed = async (error: unknown): Promise<StagedTarget> => {
    const message = failure(error)
    runtime.logger.error('target failed', {target: target.name, error: message})
    await release()
    return settled({...result, status: 'failed', error: message})
  }

  try {
    const connected = await input.connect(target)
    client = connected.client
    const account = connected.accountId
    const metadata = desiredMetadata({
      target: target.name,
      ownership: settings.ownership,
      tags: target.tags,
      kmsKeyId: target.kmsKeyId,
    })
    const readOptions = {
      target: target.name,
      prefix: target.prefix,
      ownership: settings.ownership,
      redactor: runtime.redactor,
    }
    const resourcePolicy =
      target.resourcePolicy &&
      renderPolicy(target.resourcePolicy, {
        target: target.name,
        account_id: account,
        region: target.region,
        ...(target.shape?.accountName === undefined ? {} : {account_name: target.shape.accountName}),
      })
    const planFrom = async (basis: PlanBasis): Promise<TargetPlan> => {
      const sm = connected.client
      const {applied} = basis
      const desired = shapeSecrets(basis.desired, target.shape ?? DEFAULT_SHAPE, {
        target: target.name,
        prefix: target.prefix,
        accountId: account,
        region: target.region,
      })
      const current = await listOwnedSecrets(sm, readOptions)
      // A name AWS would reject fails alone in the plan; looking it up would fail the whole lookup call.
      const unlisted = desired
        .filter((secret) => !current.has(secret.name) && secret.problem === undefined && isSendableName(secret.name))
        .map((secret) => secret.name)
      for (const [name, secret] of await findUnlistedSecrets(sm, unlisted, readOptions)) current.set(name, secret)
      const rotation = target.shape?.rotation
      const scope = {adopt: settings.adopt, target: target.name, rotation, region: target.region}
      // Each read needs only the listing, so the three run at once; they are merged in this order afterwards.
      const [read, policies, replicas] = await Promise.all([
        readValues(sm, namesToRead(desired, current, applied, scope), runtime.redactor),
        readPolicies(sm, policyNamesToRead(desired, current, {...scope, resourcePolicy})),
        // Replicas: described only where the recorded set (the replicas tag) is not the desired one.
        describeReplicas(
          sm,
          namesToDescribe(desired, current, {...scope, replicaRegions: target.shape?.replicaRegions}),
        ),
      ])
      for (const [name, secret] of current) {
        const value = read.values.get(name)
        const readError = read.errors.get(name)
        const policy = policies.policies.get(name)
        const policyReadError = policies.errors.get(name)
        if (value !== undefined || readError !== undefined || policy !== undefined || policyReadError !== undefined)
          current.set(name, {
            ...secret,
            ...value,
            ...(readError !== undefined ? {readError} : {}),
            ...(policy !== undefined ? {resourcePolicy: policy} : {}),
            ...(policyReadError !== undefined ? {policyReadError} : {}),
          })
      }
      for (const [name, described] of replicas) {
        const secret = current.get(name)
        if (secret) current.set(name, {...secret, ...described})
      }
      // Orphans are deleted only from this run's own desired state, never from a newer snapshot another run wrote.
      const deleteOrphans = settings.deleteOrphans && basis.desired === input.desired
      const planned = planTarget(desired, current, applied, {
        ...settings,
        deleteOrphans,
        target: target.name,
        prefix: target.prefix,
        metadata,
        incomplete: input.incomplete,
        rotation,
        region: target.region,
        replicaRegions: target.shape?.replicaRegions,
        ...(resourcePolicy ? {resourcePolicy} : {}),
      })
      result.snapshot_version = basis.snapshotVersion
      result.unchanged = planned.unchanged.length
      return planned
    }

    // Plan without the lock, then re-validate under it (docs/design.md §4 allows either). Taking the lock first would
    // cost an S3 write on every run, and a run with nothing to change writes nothing; what the plan depends on in
    // the store (latest snapshot, applied record) is read again under the lock and the target re-planned if it moved.
    const query: BasisQuery | undefined =
      store && !settings.dryRun
        ? {store, target: target.name, account, region: target.region, pinned: settings.pinnedVersion ?? false}
        : undefined
    let basis: PlanBasis = query
      ? await readPlanBasis(query, input.desired, input.snapshotVersion)
      : {
          desired: input.desired,
          snapshotVersion: input.snapshotVersion,
          latestVersion: undefined,
          applied: store ? await store.readApplied(target.name, account, target.region) : undefined,
        }
    let plan = await planFrom(basis)
    if (settings.dryRun) {
      await release()
      return stagedPlan(result, plan.changes.map(publicChange))
    }
    const record = recordedMetadata(metadata)
    // Skipped secrets (rotation) are reported on every run and write nothing.
    const writes = plan.changes.filter((change) => change.action !== 'skip')
    if (writes.length === 0 && appliedRecordIsCurrent(basis.applied, plan, basis.snapshotVersion, record)) {
      // Nothing to write and the record already vouches for every secret: no lock, no store write.
      await release()
      return settled({...result, changes: plan.changes.map(publicChange)})
    }
    if (runtime.stop.aborted) {
      await release()
      return settled({...result, status: 'skipped', error: 'interrupted'})
    }

    lock = query
      ? await query.store.holdLock(target.name, thisProcess(runtime.runId), {
          onLost: (reason) =>
            runtime.logger.error('run lock lost; no further writes for this target', {target: target.name, reason}),
        })
      : undefined
    const moved = query ? await revalidateBasis(query, basis) : undefined
    if (moved) {
      runtime.logger.warn('re-planning under the lock', {target: target.name, reason: moved.reason})
      basis = moved.basis
      plan = await planFrom(basis)
    }
    const held = lock
    const applyOptions = {
      limiterKey: `${account}-${target.region}`,
      metadata,
      replicaRegions: target.shape?.replicaRegions,
      recoveryWindowDays: settings.recoveryWindowDays,
      forceDelete: settings.forceDelete,
      limiter: input.limiter,
      runId: runtime.runId,
      now: runtime.now,
      signal: held ? AbortSignal.any([runtime.stop, held.signal]) : runtime.stop,
    }
    const sm = client
    const firstPass = await applyChanges(
      sm,
      plan.changes.filter((change) => change.action !== 'delete'),
      applyOptions,
    )
    const unchanged = plan.unchanged.flatMap((entry) =>
      entry.versionId ? [[entry.name, {hash: entry.hash, version_id: entry.versionId}] as const] : [],
    )
    return stagedApply({
      result,
      client: sm,
      lock: held,
      store,
      account,
      region: target.region,
      applied: firstPass.changes.map(publicChange),
      deletions: plan.changes.filter((change) => change.action === 'delete'),
      applyOptions,
      // Keyed by secret name, which is user data: no prototype, so a secret named `__proto__` is recorded too.
      recordSecrets: ownRecord([...unchanged, ...Object.entries(firstPass.applied)]),
      version: basis.snapshotVersion ?? 0,
      metadata: record,
      failure: {runtime, target, started},
    })
  } catch (error) {
    return failed(error)
  }
}
