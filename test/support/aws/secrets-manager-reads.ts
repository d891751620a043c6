import {decodeToken, encodeToken, epochSeconds} from './protocol.js'
import {matchesFilters, parseFilters} from './secrets-manager-filters.js'
import {
  invalidParameter,
  markedForDeletion,
  notFound,
  optBool,
  optEnum,
  optInt,
  optString,
  optStringList,
  readSecretId,
  validationError,
} from './secrets-manager-input.js'
import {
  currentVersion,
  type SecretsManagerState,
  type StoredSecret,
  type StoredVersion,
} from './secrets-manager-state.js'
import {replicationStatus} from './secrets-manager-replication.js'
import {AwsError, type AwsRequest} from './types.js'

/** Read operations of the Secrets Manager API. Each returns the JSON response body or throws an `AwsError`. */

const invalidToken = (): AwsError => new AwsError('InvalidNextTokenException', 'The NextToken value is invalid.')

/** Tokens are bound to the operation and account-region (and secret) that issued them. */
const scopeOf = (req: AwsRequest, ...parts: string[]): string =>
  [req.operation, req.accountId, req.region, ...parts].join('|')

function page<T>(items: T[], req: AwsRequest, scope: string, size: number): {items: T[]; nextToken?: string} {
  const offset = decodeToken(optString(req.json, 'NextToken'), scope)
  if (offset === undefined || offset < 0 || offset > items.length) throw invalidToken()
  const end = offset + size
  return {items: items.slice(offset, end), ...(end < items.length && {nextToken: encodeToken(end, scope)})}
}

const versionsToStages = (secret: StoredSecret): Record<string, string[]> =>
  Object.fromEntries(
    [...secret.versions.values()].filter((v) => v.stages.length > 0).map((v) => [v.versionId, [...v.stages]]),
  )

/** The metadata DescribeSecret and ListSecrets share; optional members are omitted when unset, as AWS does. */
function metadata(secret: StoredSecret, region: string): Record<string, unknown> {
  const out: Record<string, unknown> = {ARN: secret.arn, Name: secret.name}
  if (secret.description !== undefined) out.Description = secret.description
  if (secret.kmsKeyId !== undefined) out.KmsKeyId = secret.kmsKeyId
  out.LastChangedDate = epochSeconds(secret.lastChangedAt)
  if (secret.lastAccessedAt !== undefined) out.LastAccessedDate = epochSeconds(secret.lastAccessedAt)
  // DeletedDate is "the date the secret is scheduled for deletion" (DescribeSecret reference; moto agrees): the end of
  // the recovery window, the same instant as DeleteSecret's DeletionDate.
  if (secret.deletedAt !== undefined) out.DeletedDate = epochSeconds(secret.deletionDate ?? secret.deletedAt)
  if (secret.tags.length > 0) out.Tags = secret.tags.map((t) => ({...t}))
  if (secret.rotation) {
    out.RotationEnabled = true
    if (secret.rotation.lambdaArn !== undefined) out.RotationLambdaARN = secret.rotation.lambdaArn
    if (secret.rotation.rules !== undefined) out.RotationRules = {...secret.rotation.rules}
  }
  out.CreatedDate = epochSeconds(secret.createdAt)
  // A replica names its primary's region; a primary with replicas its own (omitted for a secret never replicated).
  if (secret.primaryRegion !== undefined) out.PrimaryRegion = secret.primaryRegion
  else if ((secret.replicas ?? []).length > 0) out.PrimaryRegion = region
  return out
}

function valueEntry(state: SecretsManagerState, secret: StoredSecret, version: StoredVersion): Record<string, unknown> {
  state.touch(secret, version)
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    ...(version.payload.string !== undefined && {SecretString: version.payload.string}),
    ...(version.payload.binary !== undefined && {SecretBinary: version.payload.binary}),
    VersionStages: [...version.stages],
    CreatedDate: epochSeconds(version.createdAt),
  }
}

const noValueFor = (kind: string, id: string): AwsError =>
  new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${kind}: ${id}`)

export function getSecretValue(state: SecretsManagerState, req: AwsRequest): unknown {
  const json = req.json
  const secretId = readSecretId(json)
  const versionId = optString(json, 'VersionId', {min: 32, max: 64})
  const stage = optString(json, 'VersionStage', {min: 1, max: 256})
  const secret = state.lookup(req.accountId, req.region, secretId)
  if (!secret) throw notFound()
  if (secret.deletedAt !== undefined) throw markedForDeletion()
  let version: StoredVersion | undefined
  if (versionId !== undefined) {
    version = secret.versions.get(versionId)
    if (!version) throw noValueFor('VersionId', versionId)
    if (stage !== undefined && !version.stages.includes(stage)) {
      throw new AwsError(
        'InvalidRequestException',
        'You provided a VersionStage that is not associated to the provided VersionId.',
      )
    }
  } else {
    const label = stage ?? 'AWSCURRENT'
    version = [...secret.versions.values()].find((v) => v.stages.includes(label))
    if (!version) throw noValueFor('staging label', label)
  }
  return valueEntry(state, secret, version)
}

type SortKey = 'created-date' | 'last-accessed-date' | 'last-changed-date' | 'name'

function sorted(secrets: StoredSecret[], by: SortKey, order: 'asc' | 'desc'): StoredSecret[] {
  const key = (s: StoredSecret): number | string =>
    by === 'name'
      ? s.name
      : by === 'last-changed-date'
        ? s.lastChangedAt
        : by === 'last-accessed-date'
          ? (s.lastAccessedAt ?? 0)
          : s.createdAt
  const out = [...secrets].sort((a, b) => {
    const ka = key(a)
    const kb = key(b)
    return ka < kb ? -1 : ka > kb ? 1 : a.seq - b.seq
  })
  return order === 'desc' ? out.reverse() : out
}

export function listSecrets(state: SecretsManagerState, req: AwsRequest): unknown {
  const json = req.json
  const includePlanned = optBool(json, 'IncludePlannedDeletion') ?? false
  const maxResults = optInt(json, 'MaxResults', {min: 1, max: 100}) ?? 100
  const filters = parseFilters(json.Filters)
  const order = optEnum(json, 'SortOrder', ['asc', 'desc'] as const) ?? 'asc'
  const by = optEnum(json, 'SortBy', ['created-date', 'last-accessed-date', 'last-changed-date', 'name'] as const)
  const matching = [...state.secretsIn(req.accountId, req.region).values()].filter(
    (s) => (includePlanned || s.deletedAt === undefined) && matchesFilters(s, filters),
  )
  const result = page(sorted(matching, by ?? 'created-date', order), req, scopeOf(req), maxResults)
  return {
    SecretList: result.items.map((s) => ({...metadata(s, req.region), SecretVersionsToStages: versionsToStages(s)})),
    ...(result.nextToken !== undefined && {NextToken: result.nextToken}),
  }
}

export function batchGetSecretValue(state: SecretsManagerState, req: AwsRequest): unknown {
  const json = req.json
  const ids = optStringList(json, 'SecretIdList', {min: 1, max: 20})
  // Like AWS, one over-long id fails the whole call, not just its entry.
  if (ids?.some((id) => id.length < 1 || id.length > 2048)) {
    throw validationError(
      "Value at 'secretIdList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater than or equal to 1]",
    )
  }
  const hasFilters = json.Filters !== undefined && json.Filters !== null
  const filters = parseFilters(json.Filters)
  const maxResults = optInt(json, 'MaxResults', {min: 1, max: 20})
  if (ids !== undefined && hasFilters) {
    throw invalidParameter("Either 'SecretIdList' or 'Filters' must be provided, but not both.")
  }
  if (ids === undefined && !hasFilters) throw invalidParameter("Either 'SecretIdList' or 'Filters' must be provided.")
  if (maxResults !== undefined && !hasFilters) {
    throw invalidParameter("'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.")
  }

  const values: unknown[] = []
  const errors: unknown[] = []
  const fetch = (secretId: string, secret: StoredSecret | undefined): void => {
    const error = (e: AwsError): void => void errors.push({SecretId: secretId, ErrorCode: e.code, Message: e.message})
    if (!secret) return error(notFound())
    if (secret.deletedAt !== undefined) return error(markedForDeletion())
    const version = currentVersion(secret)
    if (!version) return error(noValueFor('staging label', 'AWSCURRENT'))
    values.push(valueEntry(state, secret, version))
  }

  if (ids !== undefined) {
    for (const id of ids) fetch(id, state.lookup(req.accountId, req.region, id))
    return {SecretValues: values, Errors: errors}
  }
  const matching = [...state.secretsIn(req.accountId, req.region).values()].filter(
    (s) => s.deletedAt === undefined && matchesFilters(s, filters),
  )
  const result = page(sorted(matching, 'created-date', 'asc'), req, scopeOf(req), maxResults ?? 20)
  for (const secret of result.items) fetch(secret.name, secret)
  return {
    SecretValues: values,
    Errors: errors,
    ...(result.nextToken !== undefined && {NextToken: result.nextToken}),
  }
}

export function describeSecret(state: SecretsManagerState, req: AwsRequest): unknown {
  const secret = state.lookup(req.accountId, req.region, readSecretId(req.json))
  if (!secret) throw notFound()
  // ReplicationStatus only in DescribeSecret: ListSecrets' SecretListEntry has no such member.
  const replication = replicationStatus(secret)
  return {
    ...metadata(secret, req.region),
    VersionIdsToStages: versionsToStages(secret),
    ...(replication.length > 0 ? {ReplicationStatus: replication} : {}),
  }
}

export function listSecretVersionIds(state: SecretsManagerState, req: AwsRequest): unknown {
  const json = req.json
  const secretId = readSecretId(json)
  const maxResults = optInt(json, 'MaxResults', {min: 1, max: 100}) ?? 100
  const includeDeprecated = optBool(json, 'IncludeDeprecated') ?? false
  const secret = state.lookup(req.accountId, req.region, secretId)
  if (!secret) throw notFound()
  const versions = [...secret.versions.values()].filter((v) => includeDeprecated || v.stages.length > 0)
  const result = page(versions, req, scopeOf(req, secret.arn), maxResults)
  return {
    Versions: result.items.map((v) => ({
      VersionId: v.versionId,
      VersionStages: [...v.stages],
      ...(v.lastAccessedAt !== undefined && {LastAccessedDate: epochSeconds(v.lastAccessedAt)}),
      CreatedDate: epochSeconds(v.createdAt),
      ...(secret.kmsKeyId !== undefined && {KmsKeyIds: [secret.kmsKeyId]}),
    })),
    ...(result.nextToken !== undefined && {NextToken: result.nextToken}),
    ARN: secret.arn,
    Name: secret.name,
  }
}
