import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  paginateListSecrets,
  type SecretsManagerClient,
  type Tag,
} from '@aws-sdk/client-secrets-manager'
import type {Redactor} from '../observability/redact.js'
import {isPlainObject, type JsonObject} from '../util/canonical-json.js'
import {parseJson} from '../util/exact-json.js'
import type {CurrentSecret} from './plan.js'

export const TARGET_TAG = 'secretsync:target'
const BATCH = 20

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

const tagsOf = (tags: Tag[] | undefined): Record<string, string> => Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']))

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

function describeOwnership(tags: Record<string, string>, ownership: OwnershipTag) {
  return {owned: tags[ownership.key] === ownership.value, ownerTarget: tags[TARGET_TAG]}
}

/**
 * Lists the secrets this target owns in one account-region: `ListSecrets` filtered to its `secretsync:target`
 * tag (100 a page, planned deletions included), which also gives each AWSCURRENT VersionId. No values are read.
 */
export async function listOwnedSecrets(client: SecretsManagerClient, options: ReadCurrentOptions): Promise<Map<string, CurrentSecret>> {
  const filters = [
    {Key: 'tag-key' as const, Values: [TARGET_TAG]},
    {Key: 'tag-value' as const, Values: [options.target]},
    ...(options.prefix ? [{Key: 'name' as const, Values: [options.prefix]}] : []),
  ]
  const found = new Map<string, CurrentSecret>()
  for await (const page of paginateListSecrets({client, pageSize: 100}, {Filters: filters, IncludePlannedDeletion: true, MaxResults: 100})) {
    for (const entry of page.SecretList ?? []) {
      const tags = tagsOf(entry.Tags)
      // Filters match by prefix: a target named "prod" also matches "production", so check exactly.
      if (!entry.Name || tags[TARGET_TAG] !== options.target) continue
      found.set(entry.Name, {
        name: entry.Name,
        ...describeOwnership(tags, options.ownership),
        scheduledForDeletion: entry.DeletedDate !== undefined,
        currentVersionId: currentVersionOf(entry.SecretVersionsToStages),
      })
    }
  }
  return found
}

/**
 * For desired names the listing did not return: finds out whether a same-named secret exists anyway (not
 * ours, another target's, or scheduled for deletion) with BatchGetSecretValue (20 a call), and describes
 * the ones that exist to learn their tags.
 */
export async function findUnlistedSecrets(client: SecretsManagerClient, names: readonly string[], options: ReadCurrentOptions): Promise<Map<string, CurrentSecret>> {
  const found = new Map<string, CurrentSecret>()
  const existing: Array<{name: string; value?: JsonObject | string}> = []
  for (let i = 0; i < names.length; i += BATCH) {
    const batch = names.slice(i, i + BATCH)
    const response = await client.send(new BatchGetSecretValueCommand({SecretIdList: batch}))
    for (const value of response.SecretValues ?? []) if (value.Name) existing.push({name: value.Name, value: parseValue(value.SecretString, options.redactor)})
    for (const error of response.Errors ?? []) {
      if (error.SecretId && error.ErrorCode !== 'ResourceNotFoundException') existing.push({name: error.SecretId})
    }
  }
  for (const {name, value} of existing) {
    try {
      const description = await client.send(new DescribeSecretCommand({SecretId: name}))
      found.set(name, {
        name,
        ...describeOwnership(tagsOf(description.Tags), options.ownership),
        scheduledForDeletion: description.DeletedDate !== undefined,
        currentVersionId: currentVersionOf(description.VersionIdsToStages),
        value,
      })
    } catch {
      // Not even describable (e.g. denied by an IAM condition on our tag): it exists and is not ours.
      found.set(name, {name, owned: false, scheduledForDeletion: false, value})
    }
  }
  return found
}

/** Reads the values of the named secrets with BatchGetSecretValue, 20 a call; values are registered for redaction. */
export async function readValues(client: SecretsManagerClient, names: readonly string[], redactor: Redactor): Promise<Map<string, JsonObject | string>> {
  const values = new Map<string, JsonObject | string>()
  for (let i = 0; i < names.length; i += BATCH) {
    const response = await client.send(new BatchGetSecretValueCommand({SecretIdList: names.slice(i, i + BATCH)}))
    for (const value of response.SecretValues ?? []) if (value.Name) values.set(value.Name, parseValue(value.SecretString, redactor))
    const failed = (response.Errors ?? []).filter((e) => e.SecretId)
    if (failed.length > 0) {
      const first = failed[0]
      throw new Error(`BatchGetSecretValue could not read ${failed.length} secret(s), e.g. ${first?.SecretId}: ${first?.ErrorCode ?? 'error'}`)
    }
  }
  return values
}
