import pLimit from 'p-limit'
import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  paginateListSecrets,
  type ReplicationStatusType,
  type SecretListEntry,
  type SecretsManagerClient,
  type Tag,
} from '@aws-sdk/client-secrets-manager'
import type {Redactor} from '../observability/redact.js'
import {isPlainObject, type JsonObject} from '../util/canonical-json.js'
import {parseJson} from '../util/exact-json.js'
import {describeAwsError} from './aws-error.js'
import {TARGET_TAG} from './metadata.js'
import type {CurrentSecret} from './plan.js'
import type {ReplicaStatus} from './replicas.js'
import type {ReadValue} from './secret-payload.js'

export {TARGET_TAG} from './metadata.js'
const BATCH = 20
/** ListSecrets accepts at most 10 values per filter. */
const NAME_FILTER_VALUES = 10

export interface OwnershipTag {
  key: string
  value: string
}

export interface ReadCurrentOptions {
  target: string
  prefix: string
  ownership: OwnershipTag
  redactor: Redactor
}

function tagsOf(tags: Tag[] | undefined): Record<string, string> {
  // No prototype: a tag named `__proto__` (or `constructor`) is a key like any other.
  const record = Object.create(null) as Record<string, string>
  for (const tag of tags ?? []) record[tag.Key ?? ''] = tag.Value ?? ''
  return record
}

const currentVersionOf = (stages: Record<string, string[]> | undefined): string | undefined =>
  Object.entries(stages ?? {}).find(([, labels]) => labels.includes('AWSCURRENT'))?.[0]

function parseValue(text: string | undefined, redactor: Redactor): JsonObject | string {
  redactor.add(text)
  if (text === undefined) return ''
  try {
    // Exact, like the desired value, so equal JSON text compares equal and nothing is rounded into a false diff.
    const parsed: unknown = parseJson(text)
    return isPlainObject(parsed) ? parsed : text
  } catch {
    return text
  }
}

/** The parsed value (as the planner always compared it), plus the exact text or bytes for raw and binary. */
function readValue(text: string | undefined, binary: Uint8Array | undefined, redactor: Redactor): ReadValue {
  if (binary === undefined) return {value: parseValue(text, redactor), ...(text === undefined ? {} : {text})}
  redactor.add(Buffer.from(binary).toString('base64'))
  return {value: '', binary}
}

function describeOwnership(tags: Record<string, string>, ownership: OwnershipTag) {
  return {owned: tags[ownership.key] === ownership.value, ownerTarget: tags[TARGET_TAG]}
}

/** A ListSecrets entry as the planner sees it: ownership, deletion state, AWSCURRENT version and metadata. */
function currentOf(entry: SecretListEntry, ownership: OwnershipTag, tags = tagsOf(entry.Tags)): CurrentSecret {
  return {
    name: entry.Name ?? '',
    ...describeOwnership(tags, ownership),
    scheduledForDeletion: entry.DeletedDate !== undefined,
    ...(entry.RotationEnabled === true ? {rotationEnabled: true} : {}),
    ...(entry.PrimaryRegion ? {primaryRegion: entry.PrimaryRegion} : {}),
    currentVersionId: currentVersionOf(entry.SecretVersionsToStages),
    metadata: {
      tags,
      ...(entry.KmsKeyId ? {kmsKeyId: entry.KmsKeyId} : {}),
      ...(entry.Description !== undefined ? {description: entry.Description} : {}),
    },
  }
}

/**
 * Lists the secrets this target owns in one account-region: `ListSecrets` filtered to its `secretsync:target`
 * tag (100 a page, planned deletions included), which also gives each AWSCURRENT VersionId, the tags, the KMS key
 * and the description. No values are read.
 */
export async function listOwnedSecrets(
  client: SecretsManagerClient,
  options: ReadCurrentOptions,
): Promise<Map<string, CurrentSecret>> {
  const filters = [
    {Key: 'tag-key' as const, Values: [TARGET_TAG]},
    {Key: 'tag-value' as const, Values: [options.target]},
    ...(options.prefix ? [{Key: 'name' as const, Values: [options.prefix]}] : []),
  ]
  const found = new Map<string, CurrentSecret>()
  for await (const page of paginateListSecrets(
    {client, pageSize: 100},
    {Filters: filters, IncludePlannedDeletion: true, MaxResults: 100},
  )) {
    for (const entry of page.SecretList ?? []) {
      // Filters match by prefix: a target named "prod" also matches "production", so check exactly.
      const tags = tagsOf(entry.Tags)
      if (!entry.Name || tags[TARGET_TAG] !== options.target) continue
      found.set(entry.Name, currentOf(entry, options.ownership, tags))
    }
  }
  return found
}

/**
 * For desired names the listing did not return: finds out whether a same-named secret exists anyway (not ours,
 * another target's, scheduled for deletion, or without any value). BatchGetSecretValue cannot tell: it answers
 * ResourceNotFoundException both for a missing secret and for one without an AWSCURRENT version. ListSecrets'
 * name filter matches prefixes, case-insensitively, so names are checked exactly.
 *
 * Looking names up costs one call per 10 names (a first sync of 2,000 secrets: 200 calls). Every desired name lies
 * under the target's prefix, so one listing of that prefix, 100 a page, answers for all of them at once: it is
 * tried first when there are more than 10 names, and given up for the lookups once it has cost one call fewer than
 * they would (an account holding many other secrets under the same prefix), so it never costs more than twice.
 */
export async function findUnlistedSecrets(
  client: SecretsManagerClient,
  names: readonly string[],
  options: ReadCurrentOptions,
): Promise<Map<string, CurrentSecret>> {
  const lookups = Math.ceil(names.length / NAME_FILTER_VALUES)
  if (lookups > 1) {
    const listed = await listUnderPrefix(client, new Set(names), options, lookups - 1)
    if (listed) return listed
  }
  const found = new Map<string, CurrentSecret>()
  for (let i = 0; i < names.length; i += NAME_FILTER_VALUES) {
    const batch = new Set(names.slice(i, i + NAME_FILTER_VALUES))
    collectNamed(await listEntries(client, [{Key: 'name', Values: [...batch]}]), batch, options, found)
  }
  return found
}

type NameFilter = {Key: 'name'; Values: string[]}

async function listEntries(
  client: SecretsManagerClient,
  filters: NameFilter[],
  maxPages = Infinity,
): Promise<SecretListEntry[] | undefined> {
  const entries: SecretListEntry[] = []
  let pages = 0
  for await (const page of paginateListSecrets(
    {client, pageSize: 100},
    {...(filters.length > 0 ? {Filters: filters} : {}), IncludePlannedDeletion: true, MaxResults: 100},
  )) {
    entries.push(...(page.SecretList ?? []))
    pages += 1
    if (pages >= maxPages && page.NextToken !== undefined) return undefined
  }
  return entries
}

/** Every secret under the target's prefix, or undefined once that took `maxPages` pages without ending. */
async function listUnderPrefix(
  client: SecretsManagerClient,
  names: ReadonlySet<string>,
  options: ReadCurrentOptions,
  maxPages: number,
): Promise<Map<string, CurrentSecret> | undefined> {
  const entries = await listEntries(client, options.prefix ? [{Key: 'name', Values: [options.prefix]}] : [], maxPages)
  if (!entries) return undefined
  return collectNamed(entries, names, options, new Map())
}

function collectNamed(
  entries: readonly SecretListEntry[] | undefined,
  names: ReadonlySet<string>,
  options: ReadCurrentOptions,
  found: Map<string, CurrentSecret>,
): Map<string, CurrentSecret> {
  for (const entry of entries ?? []) {
    if (entry.Name && names.has(entry.Name)) found.set(entry.Name, currentOf(entry, options.ownership))
  }
  return found
}

/** How many per-secret reads (GetResourcePolicy, DescribeSecret) one target has in flight at once, each. */
const PER_SECRET_READS = 8

/**
 * One call per named secret (the API has no batch form), a few at a time: `read` keeps what the call answered; a
 * secret whose call fails fails alone, `failed` keeping the reason (`<operation>: <ErrorName>: <message>`).
 */
async function eachSecret(
  names: readonly string[],
  operation: string,
  read: (name: string) => Promise<void>,
  failed: (name: string, reason: string) => void,
): Promise<void> {
  const limit = pLimit(PER_SECRET_READS)
  await Promise.all(
    names.map((name) =>
      limit(async () => {
        try {
          await read(name)
        } catch (error) {
          failed(name, `${operation}: ${describeAwsError(error)}`)
        }
      }),
    ),
  )
}

/** Reads the resource policies of the named secrets (GetResourcePolicy each). `null`: the secret has none. */
export async function readPolicies(
  client: SecretsManagerClient,
  names: readonly string[],
): Promise<{policies: Map<string, string | null>; errors: Map<string, string>}> {
  const policies = new Map<string, string | null>()
  const errors = new Map<string, string>()
  await eachSecret(
    names,
    'GetResourcePolicy',
    async (name) => {
      const response = await client.send(new GetResourcePolicyCommand({SecretId: name}))
      policies.set(name, response.ResourcePolicy ?? null)
    },
    (name, reason) => errors.set(name, reason),
  )
  return {policies, errors}
}

/**
 * Reads the values of the named secrets with BatchGetSecretValue, 20 a call; values are registered for redaction.
 * A secret that cannot be read (gone since the listing, denied, undecryptable) fails alone, with the reason.
 */
export async function readValues(
  client: SecretsManagerClient,
  names: readonly string[],
  redactor: Redactor,
): Promise<{values: Map<string, ReadValue>; errors: Map<string, string>}> {
  const values = new Map<string, ReadValue>()
  const errors = new Map<string, string>()
  for (let i = 0; i < names.length; i += BATCH) {
    const response = await client.send(new BatchGetSecretValueCommand({SecretIdList: names.slice(i, i + BATCH)}))
    for (const value of response.SecretValues ?? [])
      if (value.Name) values.set(value.Name, readValue(value.SecretString, value.SecretBinary, redactor))
    for (const error of response.Errors ?? [])
      if (error.SecretId) errors.set(error.SecretId, `BatchGetSecretValue: ${error.ErrorCode ?? 'error'}`)
  }
  return {values, errors}
}

/** `ReplicationStatus` as the planner sees it (CreateSecret, DescribeSecret and ReplicateSecretToRegions share it). */
export const replicaStatuses = (statuses: readonly ReplicationStatusType[] | undefined): ReplicaStatus[] =>
  (statuses ?? []).flatMap((entry) =>
    entry.Region
      ? [
          {
            region: entry.Region,
            status: entry.Status ?? 'InProgress',
            ...(entry.StatusMessage === undefined ? {} : {message: entry.StatusMessage}),
          },
        ]
      : [],
  )

/**
 * Describes the named secrets for their replicas (DescribeSecret's `ReplicationStatus`; ListSecrets does not report
 * it). Called only for secrets whose recorded replica set differs from the desired one.
 */
export async function describeReplicas(
  client: SecretsManagerClient,
  names: readonly string[],
): Promise<Map<string, Pick<CurrentSecret, 'replication' | 'describeError'>>> {
  const found = new Map<string, Pick<CurrentSecret, 'replication' | 'describeError'>>()
  await eachSecret(
    names,
    'DescribeSecret',
    async (name) => {
      const described = await client.send(new DescribeSecretCommand({SecretId: name}))
      found.set(name, {replication: replicaStatuses(described.ReplicationStatus)})
    },
    (name, describeError) => found.set(name, {describeError}),
  )
  return found
}
