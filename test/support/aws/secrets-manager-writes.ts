import {randomUUID} from 'node:crypto'
import {epochSeconds} from './protocol.js'
import {
  invalidParameter,
  markedForDeletion,
  notFound,
  optBool,
  optInt,
  optString,
  optStringList,
  readName,
  readPayload,
  readSecretId,
  readTags,
  readToken,
  validationError,
} from './secrets-manager-input.js'
import {
  mergeTags,
  samePayload,
  type SecretPayload,
  type SecretsManagerState,
  type StoredSecret,
} from './secrets-manager-state.js'
import {readReplicaRegions, replicationStatus} from './secrets-manager-replication.js'
import {AwsError, type AwsRequest} from './types.js'

/** Write operations of the Secrets Manager API. Each returns the JSON response body or throws an `AwsError`. */

const DEFAULT_RECOVERY_DAYS = 30

const versionExists = (): AwsError =>
  new AwsError('ResourceExistsException', "You can't modify an existing version, you can only create new versions.")

/** Finds a secret that is not scheduled for deletion, as every write but Delete/Restore requires. */
export function liveSecret(state: SecretsManagerState, req: AwsRequest, secretId: string): StoredSecret {
  const secret = state.lookup(req.accountId, req.region, secretId)
  if (!secret) throw notFound()
  if (secret.deletedAt !== undefined) throw markedForDeletion()
  return secret
}

/**
 * ClientRequestToken idempotency, as documented for every operation that creates a version: an unknown token
 * creates a version; a known token with the same value is ignored (the existing version is the answer); a known
 * token with another value fails, since a version can never change.
 */
function putVersion(
  state: SecretsManagerState,
  secret: StoredSecret,
  token: string | undefined,
  payload: SecretPayload,
  stages: string[],
): {versionId: string; stages: string[]} {
  const versionId = token ?? randomUUID()
  const existing = secret.versions.get(versionId)
  if (existing) {
    if (!samePayload(existing.payload, payload)) throw versionExists()
    return {versionId, stages: [...existing.stages]}
  }
  const version = state.addVersion(secret, versionId, payload, stages)
  return {versionId, stages: [...version.stages]}
}

export function createSecret(state: SecretsManagerState, req: AwsRequest): unknown {
  const json = req.json
  const name = readName(json)
  const token = readToken(json)
  const payload = readPayload(json)
  const description = optString(json, 'Description', {max: 2048})
  const kmsKeyId = optString(json, 'KmsKeyId', {max: 2048})
  const tags = readTags(json)
  const replicaRegions = readReplicaRegions(json, req.region, undefined)

  const existing = state.lookup(req.accountId, req.region, name)
  if (existing) {
    if (existing.deletedAt !== undefined) {
      throw new AwsError(
        'InvalidRequestException',
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
      )
    }
    // A retry of a CreateSecret that succeeded: same token, same value → the same answer, no second version.
    const retried = token === undefined ? undefined : existing.versions.get(token)
    if (retried && payload && samePayload(retried.payload, payload)) {
      return {ARN: existing.arn, Name: existing.name, VersionId: retried.versionId}
    }
    if (retried) throw versionExists()
    throw new AwsError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`)
  }

  const secret = state.create(req.accountId, req.region, {
    name,
    ...(description !== undefined && {description}),
    ...(kmsKeyId !== undefined && {kmsKeyId}),
    ...(tags !== undefined && {tags}),
  })
  const response: Record<string, unknown> = {ARN: secret.arn, Name: secret.name}
  if (payload) response.VersionId = putVersion(state, secret, token, payload, ['AWSCURRENT']).versionId
  if (replicaRegions) {
    state.replicate(
      req.accountId,
      req.region,
      secret,
      replicaRegions,
      optBool(json, 'ForceOverwriteReplicaSecret') ?? false,
    )
    response.ReplicationStatus = replicationStatus(secret)
  }
  return response
}

export function putSecretValue(state: SecretsManagerState, req: AwsRequest): unknown {
  const json = req.json
  const secretId = readSecretId(json)
  const token = readToken(json)
  const payload = readPayload(json)
  const stages = optStringList(json, 'VersionStages', {min: 1, max: 20})
  for (const stage of stages ?? []) {
    if (stage.length < 1 || stage.length > 256) {
      throw validationError(
        "Value at 'versionStages' failed to satisfy constraint: Member must have length between 1 and 256",
      )
    }
  }
  const secret = liveSecret(state, req, secretId)
  if (!payload) throw invalidParameter('You must provide either SecretString or SecretBinary.')
  const version = putVersion(state, secret, token, payload, stages ?? ['AWSCURRENT'])
  return {ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: version.stages}
}

export function updateSecret(state: SecretsManagerState, req: AwsRequest): unknown {
  const json = req.json
  const secretId = readSecretId(json)
  const token = readToken(json)
  const payload = readPayload(json)
  const description = optString(json, 'Description', {max: 2048})
  const kmsKeyId = optString(json, 'KmsKeyId', {max: 2048})
  const secret = liveSecret(state, req, secretId)
  const response: Record<string, unknown> = {ARN: secret.arn, Name: secret.name}
  if (payload) response.VersionId = putVersion(state, secret, token, payload, ['AWSCURRENT']).versionId
  if (description !== undefined) secret.description = description
  if (kmsKeyId !== undefined) secret.kmsKeyId = kmsKeyId
  secret.lastChangedAt = state.now()
  return response
}

export function deleteSecret(state: SecretsManagerState, req: AwsRequest): unknown {
  const json = req.json
  const secretId = readSecretId(json)
  const days = optInt(json, 'RecoveryWindowInDays')
  const force = optBool(json, 'ForceDeleteWithoutRecovery') ?? false
  if (force && days !== undefined) {
    throw invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
  }
  if (days !== undefined && (days < 7 || days > 30)) {
    throw invalidParameter('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).')
  }
  const secret = state.lookup(req.accountId, req.region, secretId)
  if (!secret) {
    // Documented: forcibly deleting a deleted or nonexistent secret does not return ResourceNotFoundException.
    if (!force) throw notFound()
    return {[secretId.startsWith('arn:') ? 'ARN' : 'Name']: secretId, DeletionDate: epochSeconds(state.now())}
  }
  if ((secret.replicas ?? []).length > 0) {
    const regions = (secret.replicas ?? []).map((entry) => entry.region).join(',')
    throw new AwsError(
      'InvalidRequestException',
      `You can't delete secret ${secret.name} that still has replica regions [${regions}]`,
    )
  }
  if (!force && secret.deletedAt !== undefined) {
    throw new AwsError(
      'InvalidRequestException',
      "You can't perform this operation on the secret because it was already scheduled for deletion.",
    )
  }
  const deletionDate = state.scheduleDeletion(
    req.accountId,
    req.region,
    secret,
    force ? 0 : (days ?? DEFAULT_RECOVERY_DAYS),
  )
  return {ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(deletionDate)}
}

export function restoreSecret(state: SecretsManagerState, req: AwsRequest): unknown {
  const secret = state.lookup(req.accountId, req.region, readSecretId(req.json))
  if (!secret) throw notFound()
  if (secret.deletedAt !== undefined) state.restore(secret)
  return {ARN: secret.arn, Name: secret.name}
}

export function tagResource(state: SecretsManagerState, req: AwsRequest): unknown {
  const secretId = readSecretId(req.json)
  const tags = readTags(req.json)
  if (tags === undefined) {
    throw validationError("Value null at 'tags' failed to satisfy constraint: Member must not be null")
  }
  const secret = liveSecret(state, req, secretId)
  mergeTags(secret, tags)
  secret.lastChangedAt = state.now()
  return {}
}

export function untagResource(state: SecretsManagerState, req: AwsRequest): unknown {
  const secretId = readSecretId(req.json)
  const keys = optStringList(req.json, 'TagKeys')
  if (keys === undefined) {
    throw validationError("Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
  }
  const secret = liveSecret(state, req, secretId)
  secret.tags = secret.tags.filter((t) => !keys.includes(t.Key))
  secret.lastChangedAt = state.now()
  return {}
}

/**
 * RotateSecret: configures rotation (RotationLambdaARN, RotationRules), which ListSecrets and DescribeSecret then
 * report as `RotationEnabled`. The test stack runs no Lambda, so only `RotateImmediately: false` is served (the
 * reference: rotation then starts at the next scheduled window); an immediate rotation is refused, saying why.
 */
export function rotateSecret(state: SecretsManagerState, req: AwsRequest): unknown {
  const json = req.json
  const secret = liveSecret(state, req, readSecretId(json))
  const lambdaArn = optString(json, 'RotationLambdaARN', {max: 2048}) ?? secret.rotation?.lambdaArn
  const rules = json.RotationRules
  if (rules !== undefined && (rules === null || typeof rules !== 'object' || Array.isArray(rules)))
    throw invalidParameter('RotationRules must be a structure.')
  if (optBool(json, 'RotateImmediately') ?? true)
    throw new AwsError(
      'InvalidRequestException',
      'The test server runs no rotation Lambda: call RotateSecret with RotateImmediately: false.',
    )
  secret.rotation = {
    ...(lambdaArn === undefined ? {} : {lambdaArn}),
    ...(rules === undefined
      ? secret.rotation?.rules
        ? {rules: secret.rotation.rules}
        : {}
      : {rules: rules as Record<string, unknown>}),
  }
  secret.lastChangedAt = state.now()
  return {ARN: secret.arn, Name: secret.name}
}
