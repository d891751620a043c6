import {invalidParameter, notFound, optBool, readSecretId, validationError} from './secrets-manager-input.js'
import type {SecretsManagerState, StoredSecret} from './secrets-manager-state.js'
import {liveSecret} from './secrets-manager-writes.js'
import {AwsError, type AwsRequest} from './types.js'

/**
 * Replication operations of the Secrets Manager API (ReplicateSecretToRegions, RemoveRegionsFromReplication, and
 * CreateSecret's AddReplicaRegions), per the API reference: a replica lives in its own region, is listed and
 * described there with `PrimaryRegion`, can be read, and refuses every write; the primary reports its replicas in
 * `ReplicationStatus` and cannot be deleted while it has any.
 */

type Json = Record<string, unknown>

/** ReplicaRegionType's `Region` pattern. */
const REGION_PATTERN = /^([a-z]+-)+\d+$/

export const replicaWriteRefused = (): AwsError =>
  new AwsError(
    'InvalidRequestException',
    "Operation not permitted on a replica secret. Call must be made in primary secret's region.",
  )

/** `AddReplicaRegions`: a list of {Region, KmsKeyId?}; none of them the secret's own region or one it has. */
export function readReplicaRegions(
  json: Json,
  region: string,
  existing: StoredSecret | undefined,
): Array<{region: string; kmsKeyId?: string}> | undefined {
  const raw = json.AddReplicaRegions
  if (raw === undefined || raw === null) return undefined
  if (!Array.isArray(raw)) throw new AwsError('SerializationException', 'AddReplicaRegions must be a list')
  if (raw.length < 1)
    throw validationError(
      "Value at 'addReplicaRegions' failed to satisfy constraint: Member must have length greater than or equal to 1",
    )
  const seen = new Set((existing?.replicas ?? []).map((entry) => entry.region))
  return raw.map((entry: unknown) => {
    const item = (entry ?? {}) as Json
    const replicaRegion = item.Region
    if (typeof replicaRegion !== 'string' || !REGION_PATTERN.test(replicaRegion))
      throw validationError(
        "Value at 'addReplicaRegions.member.region' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([a-z]+-)+\\d+$",
      )
    if (replicaRegion === region) throw invalidParameter('Invalid replica region.')
    if (seen.has(replicaRegion)) throw invalidParameter(`The secret is already replicated to ${replicaRegion}.`)
    seen.add(replicaRegion)
    const kmsKeyId = item.KmsKeyId
    if (kmsKeyId !== undefined && kmsKeyId !== null && typeof kmsKeyId !== 'string')
      throw new AwsError('SerializationException', 'KmsKeyId must be a string')
    return {region: replicaRegion, ...(typeof kmsKeyId === 'string' && kmsKeyId !== '' ? {kmsKeyId} : {})}
  })
}

/** ReplicationStatus as CreateSecret, DescribeSecret and the replication operations report it. */
export const replicationStatus = (secret: StoredSecret): Array<Record<string, unknown>> =>
  (secret.replicas ?? []).map((entry) => ({
    Region: entry.region,
    KmsKeyId: entry.kmsKeyId ?? 'alias/aws/secretsmanager',
    Status: entry.status,
    StatusMessage: entry.statusMessage,
  }))

export function replicateSecretToRegions(state: SecretsManagerState, req: AwsRequest): unknown {
  const secret = liveSecret(state, req, readSecretId(req.json))
  const regions = readReplicaRegions(req.json, req.region, secret)
  if (regions === undefined)
    throw validationError("Value null at 'addReplicaRegions' failed to satisfy constraint: Member must not be null")
  state.replicate(req.accountId, req.region, secret, regions, optBool(req.json, 'ForceOverwriteReplicaSecret') ?? false)
  return {ARN: secret.arn, ReplicationStatus: replicationStatus(secret)}
}

export function removeRegionsFromReplication(state: SecretsManagerState, req: AwsRequest): unknown {
  const secret = state.lookup(req.accountId, req.region, readSecretId(req.json))
  if (!secret) throw notFound()
  const raw = req.json.RemoveReplicaRegions
  if (!Array.isArray(raw) || raw.length < 1)
    throw validationError(
      "Value at 'removeReplicaRegions' failed to satisfy constraint: Member must have length greater than or equal to 1",
    )
  const regions = raw.map((entry: unknown) => {
    if (typeof entry !== 'string' || !REGION_PATTERN.test(entry))
      throw validationError(
        "Value at 'removeReplicaRegions' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy regular expression pattern: ^([a-z]+-)+\\d+$]",
      )
    return entry
  })
  state.removeReplicas(req.accountId, req.region, secret, regions)
  return {ARN: secret.arn, ReplicationStatus: replicationStatus(secret)}
}
