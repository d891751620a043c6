import type {AppliedRecord} from '../store/index.js'
import {contentHash, isPlainObject, jsonEqual, type JsonObject} from '../util/canonical-json.js'
import {nameProblem, secretName} from './secret-rules.js'
import {
  currentHash,
  holdsValue,
  payloadSizeProblem,
  shownPayload,
  shownValue,
  type SecretPayload,
} from './secret-payload.js'
import {
  DEFAULT_KMS_KEY,
  hasMetadataChange,
  metadataDiff,
  NO_METADATA_CHANGE,
  type MetadataDiff,
  type SecretMetadata,
} from './metadata.js'
import {
  desiredRegions,
  planReplicas,
  recordedReplicas,
  replicaFailure,
  replicasNeedDescribe,
  type ReplicaRegion,
  type ReplicaStatus,
  type ReplicaWrites,
} from './replicas.js'
import {planPolicy, POLICY_TAG, type DesiredPolicy, type PolicyPlan, type PolicyWrites} from './resource-policy.js'
import type {SecretChange} from './types.js'

export interface DesiredSecret {
  path: string
  /** With granularity key: the top-level key of the Vault secret this AWS secret holds. */
  key?: string
  name: string
  /** The JSON form (for keys_* and the default JSON format); `payload` when the format is raw or binary. */
  value: JsonObject
  payload?: SecretPayload
  hash: string
  /** Why this secret cannot be written at all (its name could not be rendered, or another path shares it). */
  problem?: string
}

/** A secret as listed (and, when needed, read) from Secrets Manager. */
export interface CurrentSecret {
  name: string
  /** Carries the ownership tag with the configured value. */
  owned: boolean
  /** Value of the `secretsync:target` tag, when present. */
  ownerTarget?: string
  scheduledForDeletion: boolean
  /** VersionId labelled AWSCURRENT; undefined when the secret has no current value (a placeholder). */
  currentVersionId?: string
  /** Tags, KMS key and description as ListSecrets reports them. */
  metadata: SecretMetadata
  /** Read value: a JSON object, or the raw string when it is not one; undefined when not read. */
  value?: JsonObject | string
  /** The SecretString exactly as read (compared byte for byte for format raw). */
  text?: string
  /** SecretBinary as read. */
  binary?: Uint8Array
  /** Why reading the value failed, when it did. */
  readError?: string
  /** ListSecrets' `RotationEnabled`: something else (a rotation Lambda) owns the value. */
  rotationEnabled?: boolean
  /** ListSecrets' `PrimaryRegion`: where the secret was created; another region than the target's for a replica. */
  primaryRegion?: string
  /** DescribeSecret's `ReplicationStatus` (empty: no replicas); undefined when not described. */
  replication?: ReplicaStatus[]
  /** Why describing the secret (for its replicas) failed, when it did. */
  describeError?: string
  /** GetResourcePolicy's `ResourcePolicy` (null: none); undefined when not read. */
  resourcePolicy?: string | null
  /** Why reading the resource policy failed, when it did. */
  policyReadError?: string
}

export interface PlanOptions {
  target: string
  prefix: string
  adopt: boolean
  deleteOrphans: boolean
  showValues: boolean
  /** Tags, KMS key and description every secret of the target should carry. */
  metadata: SecretMetadata
  /** Why the desired state may lack secrets (DesiredTarget.incomplete): orphan deletions are then held. */
  incomplete: readonly string[]
  /** A secret with rotation enabled in AWS: left alone and reported as skipped (default), or overwritten. */
  rotation?: 'skip' | 'overwrite'
  /** The target's region: a secret whose primary is elsewhere is a replica, never written. */
  region?: string
  /** Regions every secret of the target should be replicated to (README "Replica regions"). */
  replicaRegions?: readonly ReplicaRegion[]
  /** `resource_policy`, rendered for this account: put on every secret of the target. */
  resourcePolicy?: DesiredPolicy
}

/** A replica of a primary in another region: read-only in AWS, so never written or deleted from here. */
const isReplicaElsewhere = (secret: CurrentSecret, region: string | undefined): boolean =>
  region !== undefined && secret.primaryRegion !== undefined && secret.primaryRegion !== region

/** Rotation owns the value: secretsync neither reads nor writes it unless the target says `rotation: overwrite`. */
const leftToRotation = (secret: CurrentSecret, options: Pick<PlanOptions, 'rotation'>): boolean =>
  secret.rotationEnabled === true && options.rotation !== 'overwrite'

/** The metadata calls an update or restore needs; only what differs is written. */
export interface MetadataWrites {
  /** TagResource: tags to add or overwrite. */
  tag: Record<string, string>
  /** UntagResource: keys secretsync set before and no longer wants. */
  untag: string[]
  /** UpdateSecret: the key to switch to, when it differs. */
  kmsKeyId?: string
  /** UpdateSecret: the description to set, when it differs. */
  description?: string
}

/** A change plus what applying it needs; the extra fields never reach output. */
export interface PlannedChange extends SecretChange {
  desired?: DesiredSecret
  currentVersionId?: string
  /** Writes a new value version (false for a metadata-only update). */
  writeValue?: boolean
  metadataWrites?: MetadataWrites
  /** Replicas to add and remove, and the replicas tag to record afterwards. */
  replicaWrites?: ReplicaWrites
  /** `error` says only that a replica failed: the secret's own writes are still applied. */
  replicaFailure?: boolean
  /** A delete: describe the secret and remove its replicas first (DeleteSecret fails on a primary with replicas). */
  removeReplicasFirst?: boolean
  /** Resource policy calls, after the value. */
  policyWrites?: PolicyWrites
}

export interface TargetPlan {
  changes: PlannedChange[]
  /** In-sync secrets with the VersionId to record as applied. */
  unchanged: Array<{name: string; hash: string; versionId: string | undefined}>
}

export const desiredSecret = (path: string, prefix: string, value: JsonObject): DesiredSecret => ({
  path,
  name: secretName(prefix, path),
  value,
  hash: contentHash(value),
})

/**
 * The fast path of docs/design.md §4: a secret whose desired hash equals what secretsync last applied and whose
 * AWSCURRENT version is the one it wrote holds its desired value without reading it.
 */
export function isKnownInSync(
  desired: DesiredSecret,
  current: CurrentSecret,
  applied: AppliedRecord | undefined,
): boolean {
  const record = applied?.secrets[desired.name]
  return (
    record !== undefined &&
    record.hash === desired.hash &&
    current.currentVersionId !== undefined &&
    record.version_id === current.currentVersionId
  )
}

/** Owned by secretsync, but by another target: always a conflict, whatever `--adopt` says. */
const ownedByAnotherTarget = (existing: CurrentSecret, target: string): boolean =>
  existing.owned && existing.ownerTarget !== undefined && existing.ownerTarget !== target

/** Who asks which secrets a target may read: the target, `--adopt`, its rotation rule and (when known) its region. */
type TouchScope = Pick<PlanOptions, 'adopt' | 'target' | 'rotation' | 'region'>

/**
 * The listed secret behind `secret` when this target may read and write it: listed, not another target's, not a
 * replica of a primary elsewhere, ours (or unowned with `adopt`), not left to rotation. The one rule every read
 * before planning starts from.
 */
function touchable(
  secret: DesiredSecret,
  current: ReadonlyMap<string, CurrentSecret>,
  options: TouchScope,
): CurrentSecret | undefined {
  const existing = current.get(secret.name)
  if (secret.problem !== undefined || !existing) return undefined
  if (ownedByAnotherTarget(existing, options.target) || isReplicaElsewhere(existing, options.region)) return undefined
  if (!existing.owned && !options.adopt) return undefined
  return leftToRotation(existing, options) ? undefined : existing
}

/**
 * Names whose current value must be read before planning: this target's own (or, with `adopt`, unowned) secrets,
 * live, with a value, not provably in sync, and not a replica of another region's primary. A conflict is decided from ListSecrets' tags alone, so the value of a
 * secret that is not ours is never read (the IAM policy may then grant GetSecretValue on owned secrets only).
 */
export function namesToRead(
  desired: readonly DesiredSecret[],
  current: ReadonlyMap<string, CurrentSecret>,
  applied: AppliedRecord | undefined,
  options: TouchScope,
): string[] {
  return desired
    .filter((secret) => {
      const existing = touchable(secret, current, options)
      if (!existing || existing.scheduledForDeletion || existing.currentVersionId === undefined) return false
      return !isKnownInSync(secret, existing, applied)
    })
    .map((secret) => secret.name)
}

/**
 * Names to describe (DescribeSecret) for their replicas: this target's live-or-restorable secrets whose recorded
 * replica set (the `secretsync:replicas` tag) is not the desired one. A no-change run describes none.
 */
export function namesToDescribe(
  desired: readonly DesiredSecret[],
  current: ReadonlyMap<string, CurrentSecret>,
  options: TouchScope & Pick<PlanOptions, 'replicaRegions'>,
): string[] {
  return desired
    .filter((secret) => {
      const existing = touchable(secret, current, options)
      return existing !== undefined && replicasNeedDescribe(existing.metadata.tags, options.replicaRegions)
    })
    .map((secret) => secret.name)
}

/**
 * Names whose resource policy must be read (GetResourcePolicy, one call each): with `resource_policy`, every secret
 * the plan may write; without it, only those carrying POLICY_TAG (a policy secretsync set, to delete). A target
 * without a policy and without such secrets reads none, so its no-change run costs the listing alone.
 */
export function policyNamesToRead(
  desired: readonly DesiredSecret[],
  current: ReadonlyMap<string, CurrentSecret>,
  options: TouchScope & Pick<PlanOptions, 'resourcePolicy'>,
): string[] {
  return desired
    .filter((secret) => {
      const existing = touchable(secret, current, options)
      if (!existing || existing.scheduledForDeletion) return false
      return options.resourcePolicy !== undefined || Object.hasOwn(existing.metadata.tags, POLICY_TAG)
    })
    .map((secret) => secret.name)
}

interface ReplicaPart {
  fields: Pick<SecretChange, 'replicas_added' | 'replicas_removed'>
  writes?: ReplicaWrites
  failure?: string
}

const regionFields = (added: readonly string[], removed: readonly string[]): ReplicaPart['fields'] => ({
  ...(added.length > 0 ? {replicas_added: [...added]} : {}),
  ...(removed.length > 0 ? {replicas_removed: [...removed]} : {}),
})

/** The replica side of an update: nothing when the tag vouches for the desired set, else from DescribeSecret. */
function replicaPart(existing: CurrentSecret, options: PlanOptions): ReplicaPart {
  if (!replicasNeedDescribe(existing.metadata.tags, options.replicaRegions)) return {fields: {}}
  if (existing.describeError !== undefined)
    return {fields: {}, failure: `could not read the replicas: ${existing.describeError}`}
  if (existing.replication === undefined) throw new Error(`planTarget: the replicas of ${existing.name} were not read`)
  const planned = planReplicas(options.replicaRegions, existing.replication, existing.metadata.tags)
  return {
    fields: regionFields(planned.added, planned.removed),
    ...(planned.writes ? {writes: planned.writes} : {}),
    ...(planned.failed.length > 0 ? {failure: replicaFailure(planned.failed)} : {}),
  }
}

/** A change's error: the secret's own problem, else a replica failure (which still lets its own writes go). */
const withReplicaError = (problem: string | undefined, replicas: ReplicaPart) =>
  problem !== undefined
    ? {error: problem}
    : replicas.failure !== undefined
      ? {error: replicas.failure, replicaFailure: true}
      : {error: null}

/** The policy's own tag among the tag changes, so every output that lists tags shows it. */
function withPolicyTag(meta: MetadataDiff, plan: PolicyPlan): MetadataDiff {
  if (plan.tag === undefined) return meta
  const field = plan.tag === 'added' ? 'tags_added' : plan.tag === 'changed' ? 'tags_changed' : 'tags_removed'
  return {...meta, [field]: [...meta[field], POLICY_TAG].sort()}
}

const policyFields = (plan: PolicyPlan): Pick<PlannedChange, 'policy' | 'policyWrites'> => ({
  ...(plan.policy === undefined ? {} : {policy: plan.policy}),
  ...(plan.writes === undefined ? {} : {policyWrites: plan.writes}),
})

type KeyDiff = Pick<SecretChange, 'keys_added' | 'keys_removed' | 'keys_changed'>

function keyDiff(before: JsonObject | string | undefined, after: JsonObject | undefined): KeyDiff {
  const old = isPlainObject(before) ? (before as JsonObject) : {}
  const next = after ?? {}
  const sort = (keys: string[]): string[] => keys.sort()
  return {
    keys_added: sort(Object.keys(next).filter((key) => !Object.hasOwn(old, key))),
    keys_removed: sort(Object.keys(old).filter((key) => !Object.hasOwn(next, key))),
    keys_changed: sort(Object.keys(next).filter((key) => Object.hasOwn(old, key) && !jsonEqual(old[key], next[key]))),
  }
}

const NO_KEYS: KeyDiff = {keys_added: [], keys_removed: [], keys_changed: []}

/** A secret left alone because rotation owns it: listed so every output says so, never a failure. */
const skipped = (
  name: string,
  path: string,
  key?: string,
  reason: 'rotation' | 'replica' = 'rotation',
): PlannedChange => ({
  action: 'skip',
  name,
  path,
  ...(key === undefined ? {} : {key}),
  reason,
  drift: false,
  ...NO_KEYS,
  ...NO_METADATA_CHANGE,
  held: false,
  error: null,
})

/** A raw or binary value has no keys in AWS: a change to it is a change of the Vault key(s) it holds. */
const changedKeys = (secret: DesiredSecret): KeyDiff => ({...NO_KEYS, keys_changed: Object.keys(secret.value).sort()})

const recordedMetadata = (applied: AppliedRecord | undefined): SecretMetadata | undefined =>
  applied?.metadata && {
    tags: applied.metadata.tags,
    ...(applied.metadata.kms_key_id === null ? {} : {kmsKeyId: applied.metadata.kms_key_id}),
    ...(applied.metadata.description === null ? {} : {description: applied.metadata.description}),
  }

/** The calls that bring a secret's metadata to the desired one. */
function metadataWrites(diff: MetadataDiff, desired: SecretMetadata): MetadataWrites {
  const tag = Object.fromEntries(
    [...diff.tags_added, ...diff.tags_changed].sort().map((key) => [key, desired.tags[key] ?? '']),
  )
  return {
    tag,
    untag: [...diff.tags_removed],
    ...(diff.kms_key_changed ? {kmsKeyId: desired.kmsKeyId ?? DEFAULT_KMS_KEY} : {}),
    ...(diff.description_changed ? {description: desired.description ?? ''} : {}),
  }
}

/**
 * Plans one target: desired state vs what Secrets Manager holds vs what secretsync last applied. Values and
 * metadata (tags secretsync sets, KMS key, description) are both desired state. Pure: no clock, no I/O. Values
 * appear in the result only with `showValues`. Deletions are planned here; whether the run may apply them
 * (the run-wide `sync.max_deletions`) is decided by the sync phase once every target is planned.
 */
export function planTarget(
  desired: readonly DesiredSecret[],
  current: ReadonlyMap<string, CurrentSecret>,
  applied: AppliedRecord | undefined,
  options: PlanOptions,
): TargetPlan {
  const changes: PlannedChange[] = []
  const unchanged: TargetPlan['unchanged'] = []
  const values = (before: CurrentSecret | null, after: DesiredSecret) =>
    options.showValues
      ? {before: shownValue(before ?? undefined, after.payload), after: shownPayload(after.value, after.payload)}
      : {}
  const base = (secret: DesiredSecret) => ({
    name: secret.name,
    path: secret.path,
    ...(secret.key === undefined ? {} : {key: secret.key}),
    drift: false,
    held: false,
    error: null,
    desired: secret,
  })
  const recorded = recordedMetadata(applied)
  const managedTagKeys = Object.keys(recorded?.tags ?? {})
  const conflict = (secret: DesiredSecret, error: string): PlannedChange => ({
    ...base(secret),
    action: 'conflict',
    ...NO_KEYS,
    ...NO_METADATA_CHANGE,
    error,
  })

  for (const secret of desired) {
    const existing = current.get(secret.name)
    if (secret.problem !== undefined) {
      // Not written, not read: the secret fails alone, whatever AWS holds under that name.
      changes.push({
        ...base(secret),
        action: existing ? 'update' : 'create',
        ...NO_KEYS,
        ...NO_METADATA_CHANGE,
        error: secret.problem,
      })
      continue
    }
    // Only a secret that is written needs it: measuring the size serialises the value.
    const writeProblem = (): string | undefined =>
      nameProblem(secret.name) ?? payloadSizeProblem(secret.value, secret.payload)
    if (!existing) {
      // CreateSecret sets every tag, the key and the description at once: no metadata change to list.
      changes.push({
        ...base(secret),
        action: 'create',
        ...keyDiff(undefined, secret.value),
        ...NO_METADATA_CHANGE,
        ...regionFields(desiredRegions(options.replicaRegions), []),
        error: writeProblem() ?? null,
        writeValue: true,
        ...(options.resourcePolicy === undefined
          ? {}
          : policyFields(planPolicy(options.resourcePolicy, null, undefined, options.adopt))),
        ...values(null, secret),
      })
      continue
    }
    if (isReplicaElsewhere(existing, options.region)) {
      changes.push(
        conflict(
          secret,
          `is a replica of the secret in ${existing.primaryRegion}; replicas follow their primary and are never written`,
        ),
      )
      continue
    }
    if (ownedByAnotherTarget(existing, options.target)) {
      changes.push(
        conflict(secret, `managed by secretsync target "${existing.ownerTarget}"; two targets write the same secret`),
      )
      continue
    }
    if (!existing.owned && !options.adopt) {
      changes.push(
        conflict(
          secret,
          `exists without the ownership tag${existing.scheduledForDeletion ? ' and is scheduled for deletion' : ''}; not written (use --adopt or sync.adopt to take it over)`,
        ),
      )
      continue
    }
    if (leftToRotation(existing, options)) {
      changes.push(skipped(existing.name, secret.path, secret.key))
      continue
    }
    if (existing.policyReadError !== undefined) {
      changes.push({
        ...base(secret),
        action: 'update',
        ...NO_KEYS,
        ...NO_METADATA_CHANGE,
        error: `could not read the resource policy: ${existing.policyReadError}`,
      })
      continue
    }
    // A secret scheduled for deletion cannot be read: once restored it gets the desired policy (or loses secretsync's).
    const policy = planPolicy(
      options.resourcePolicy,
      existing.scheduledForDeletion ? undefined : existing.resourcePolicy,
      existing.metadata.tags[POLICY_TAG],
      options.adopt,
    )
    if (policy.conflict !== undefined) {
      changes.push(conflict(secret, policy.conflict))
      continue
    }
    const ownMeta = metadataDiff(existing.metadata, options.metadata, managedTagKeys)
    const metaChanged = hasMetadataChange(ownMeta)
    const writes = metaChanged ? {metadataWrites: metadataWrites(ownMeta, options.metadata)} : {}
    // Reported with the policy's tag; that tag is written with the policy, not with the metadata.
    const meta = withPolicyTag(ownMeta, policy)
    const record = applied?.secrets[secret.name]
    // Metadata drift: what secretsync set last time (the record) is no longer what the secret carries.
    const metaDrift =
      record !== undefined && recorded !== undefined && hasMetadataChange(metadataDiff(existing.metadata, recorded))
    if (existing.scheduledForDeletion || existing.currentVersionId === undefined) {
      // Scheduled for deletion: restore, then write. No current version (a placeholder): write its first value.
      const action = existing.scheduledForDeletion ? 'restore' : 'update'
      const replicas = replicaPart(existing, options)
      changes.push({
        ...base(secret),
        action,
        drift: metaDrift || policy.drift,
        ...keyDiff(undefined, secret.value),
        ...meta,
        ...replicas.fields,
        ...withReplicaError(writeProblem(), replicas),
        currentVersionId: existing.currentVersionId,
        writeValue: true,
        ...writes,
        ...(replicas.writes ? {replicaWrites: replicas.writes} : {}),
        ...policyFields(policy),
        ...values(null, secret),
      })
      continue
    }
    if (existing.readError !== undefined) {
      changes.push({
        ...base(secret),
        action: 'update',
        ...NO_KEYS,
        ...meta,
        error: `could not read the current value: ${existing.readError}`,
      })
      continue
    }
    const known = isKnownInSync(secret, existing, applied)
    if (!known && existing.value === undefined) throw new Error(`planTarget: the value of ${secret.name} was not read`)
    const valueInSync = known || holdsValue(existing, secret.value, secret.payload)
    const replicas = replicaPart(existing, options)
    if (
      valueInSync &&
      !metaChanged &&
      policy.writes === undefined &&
      !replicas.writes &&
      replicas.failure === undefined
    ) {
      unchanged.push({name: secret.name, hash: secret.hash, versionId: existing.currentVersionId})
      continue
    }
    const valueDrift =
      !known &&
      record !== undefined &&
      record.version_id !== existing.currentVersionId &&
      currentHash(existing, secret.payload) !== record.hash
    changes.push({
      ...base(secret),
      action: 'update',
      drift: valueDrift || metaDrift || policy.drift,
      ...(valueInSync ? NO_KEYS : secret.payload ? changedKeys(secret) : keyDiff(existing.value, secret.value)),
      ...meta,
      ...replicas.fields,
      // A metadata-only update writes no value: only its name is checked.
      ...withReplicaError(valueInSync ? nameProblem(secret.name) : writeProblem(), replicas),
      currentVersionId: existing.currentVersionId,
      writeValue: !valueInSync,
      ...writes,
      ...(replicas.writes ? {replicaWrites: replicas.writes} : {}),
      ...policyFields(policy),
      ...(valueInSync ? {} : values(existing, secret)),
    })
  }

  const wanted = new Set(desired.map((secret) => secret.name))
  const orphans =
    options.deleteOrphans && desired.length > 0
      ? [...current.values()].filter(
          (secret) =>
            secret.owned &&
            secret.ownerTarget === options.target &&
            !secret.scheduledForDeletion &&
            !wanted.has(secret.name) &&
            secret.name.startsWith(options.prefix),
        )
      : []
  // docs/design.md §4: a target deletes only what a complete walk of every source feeding it did not see.
  const held =
    options.incomplete.length > 0
      ? `held: the desired state may be incomplete (${options.incomplete.join('; ')}); orphans are deleted only after a complete walk`
      : null
  const sorted = orphans.sort((a, b) => (a.name < b.name ? -1 : 1))
  // Skips before deletions: the sync phase applies deletions last, and the applied changes keep the plan's order.
  for (const orphan of sorted.filter((secret) => isReplicaElsewhere(secret, options.region)))
    changes.push(skipped(orphan.name, orphan.name.slice(options.prefix.length), undefined, 'replica'))
  const deletable = sorted.filter((secret) => !isReplicaElsewhere(secret, options.region))
  for (const orphan of deletable.filter((secret) => leftToRotation(secret, options)))
    changes.push(skipped(orphan.name, orphan.name.slice(options.prefix.length)))
  for (const orphan of deletable.filter((secret) => !leftToRotation(secret, options))) {
    const replicas = recordedReplicas(orphan.metadata.tags)
    changes.push({
      action: 'delete',
      name: orphan.name,
      path: orphan.name.slice(options.prefix.length),
      drift: false,
      ...NO_KEYS,
      ...NO_METADATA_CHANGE,
      ...regionFields([], replicas),
      held: held !== null,
      error: held,
      currentVersionId: orphan.currentVersionId,
      // A replicated primary, as its tag says. Not from PrimaryRegion: ListSecrets may name it for any secret (the
      // region it originated in); replicas no tag recorded are found when AWS refuses the delete (apply.ts).
      ...(replicas.length > 0 ? {removeReplicasFirst: true} : {}),
    })
  }
  return {changes, unchanged}
}
