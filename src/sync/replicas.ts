/**
 * Replica regions as desired state (README "Replica regions"). Secrets Manager keeps a read-only copy of a primary
 * secret in each replica region and keeps it in step by itself; secretsync only says which regions. ListSecrets does
 * not report a secret's replicas (SecretListEntry has no ReplicationStatus), so the set secretsync last requested is
 * recorded in the `secretsync:replicas` tag, which ListSecrets does report: a secret whose tag matches the desired
 * set costs nothing more, and only one whose tag differs is described (DescribeSecret) to learn what AWS holds.
 */

export const REPLICAS_TAG = 'secretsync:replicas'

export interface ReplicaRegion {
  region: string
  /** The key a replica is encrypted with in its region; undefined: that region's aws/secretsmanager. */
  kmsKeyId?: string
}

/** One entry of `ReplicationStatus` (CreateSecret, DescribeSecret, ReplicateSecretToRegions). */
export interface ReplicaStatus {
  region: string
  /** `InSync`, `InProgress` or `Failed`. */
  status: string
  /** AWS's text (untrusted): why a replication failed. */
  message?: string
}

export const replicaRegionOf = (entry: {region: string; kms_key_id?: string}): ReplicaRegion => ({
  region: entry.region,
  ...(entry.kms_key_id === undefined ? {} : {kmsKeyId: entry.kms_key_id}),
})

const sortedUnique = (regions: Iterable<string>): string[] => [...new Set(regions)].sort()

/** The tag value for a replica set: region codes, sorted, space-separated (tag values allow no commas). */
export const replicasTagValue = (regions: Iterable<string>): string => sortedUnique(regions).join(' ')

/** The regions the tag says secretsync requested; none when the tag is absent. */
export const recordedReplicas = (tags: Readonly<Record<string, string>>): string[] =>
  Object.hasOwn(tags, REPLICAS_TAG) ? sortedUnique((tags[REPLICAS_TAG] ?? '').split(' ').filter(Boolean)) : []

export const desiredRegions = (desired: readonly ReplicaRegion[] | undefined): string[] =>
  sortedUnique((desired ?? []).map((entry) => entry.region))

/** Whether the recorded set differs from the desired one: only then is the secret described. */
export const replicasNeedDescribe = (
  tags: Readonly<Record<string, string>>,
  desired: readonly ReplicaRegion[] | undefined,
): boolean =>
  // No tag and no replicas wanted, the everyday case, is decided without building the two sets.
  (Object.hasOwn(tags, REPLICAS_TAG) || (desired ?? []).length > 0) &&
  replicasTagValue(recordedReplicas(tags)) !== replicasTagValue(desiredRegions(desired))

/** What brings one secret's replicas to the desired set, and what to record in the tag afterwards. */
export interface ReplicaWrites {
  /** ReplicateSecretToRegions. */
  add: ReplicaRegion[]
  /** RemoveRegionsFromReplication. */
  remove: string[]
  /** The tag value once done (`''`: untag); undefined when the tag already holds it. */
  tag?: string
  /** The tag value once done, written or not: what a failed add is taken out of. */
  recorded: string
}

export interface ReplicaPlan {
  added: string[]
  removed: string[]
  /** Replicas AWS reports as Failed that are still wanted: the secret fails, with AWS's message. */
  failed: ReplicaStatus[]
  writes?: ReplicaWrites
}

/**
 * Plans one secret's replicas from what DescribeSecret reported (`actual`). A Failed replica that is still wanted
 * is reported, not retried: re-adding would fail the same way until its cause (a same-named secret in that region,
 * a KMS key it cannot use) is fixed, and ForceOverwriteReplicaSecret is never sent (it would overwrite a secret
 * secretsync does not own). It stays out of the tag, so every run describes and reports it until it is fixed.
 */
export function planReplicas(
  desired: readonly ReplicaRegion[] | undefined,
  actual: readonly ReplicaStatus[],
  tags: Readonly<Record<string, string>>,
): ReplicaPlan {
  const have = new Set(actual.map((entry) => entry.region))
  const wanted = desired ?? []
  const wantedRegions = new Set(wanted.map((entry) => entry.region))
  const add = wanted.filter((entry) => !have.has(entry.region)).sort((a, b) => (a.region < b.region ? -1 : 1))
  const remove = sortedUnique(actual.filter((entry) => !wantedRegions.has(entry.region)).map((entry) => entry.region))
  const failed = actual.filter((entry) => entry.status === 'Failed' && wantedRegions.has(entry.region))
  const failedRegions = new Set(failed.map((entry) => entry.region))
  const tag = replicasTagValue([...wantedRegions].filter((region) => !failedRegions.has(region)))
  const current = Object.hasOwn(tags, REPLICAS_TAG) ? replicasTagValue(recordedReplicas(tags)) : ''
  const retag = tag !== current || (tag === '' && Object.hasOwn(tags, REPLICAS_TAG))
  const changed = add.length > 0 || remove.length > 0 || retag
  return {
    added: add.map((entry) => entry.region),
    removed: remove,
    failed,
    ...(changed ? {writes: {add, remove, recorded: tag, ...(retag ? {tag} : {})}} : {}),
  }
}

/** The line a Failed replica is reported with; the caller sanitises AWS's message like any untrusted text. */
export const replicaFailure = (failed: readonly ReplicaStatus[]): string =>
  failed
    .map(
      (entry) =>
        `replication to ${entry.region} failed: ${entry.message ?? 'no reason given'} (fix the cause, then remove the region from replication for secretsync to add it again)`,
    )
    .join('; ')
