/**
 * A secret's metadata as desired state (docs/design.md §4): the tags secretsync sets, the KMS key and the description.
 * Pure comparisons; the planner turns them into change fields and the applier into Tag/Untag/UpdateSecret calls.
 */

export const TARGET_TAG = 'secretsync:target'
export const MANAGED_DESCRIPTION = 'Managed by secretsync — changes made here are overwritten'
/** What Secrets Manager uses when no key is given; AWS then omits `KmsKeyId` from ListSecrets/DescribeSecret. */
export const DEFAULT_KMS_KEY = 'alias/aws/secretsmanager'

export interface SecretMetadata {
  tags: Readonly<Record<string, string>>
  /** Undefined: the default key (aws/secretsmanager). */
  kmsKeyId?: string
  description?: string
}

export interface MetadataDiff {
  tags_added: string[]
  tags_changed: string[]
  tags_removed: string[]
  kms_key_changed: boolean
  description_changed: boolean
}

export const NO_METADATA_CHANGE: MetadataDiff = {
  tags_added: [],
  tags_changed: [],
  tags_removed: [],
  kms_key_changed: false,
  description_changed: false,
}

/** The metadata every secret of a target should carry: its tags, then the ownership and target tags (those win). */
export function desiredMetadata(options: {
  target: string
  ownership: {key: string; value: string}
  tags: Readonly<Record<string, string>>
  kmsKeyId?: string
}): SecretMetadata {
  return {
    tags: {...options.tags, [options.ownership.key]: options.ownership.value, [TARGET_TAG]: options.target},
    ...(options.kmsKeyId ? {kmsKeyId: options.kmsKeyId} : {}),
    description: MANAGED_DESCRIPTION,
  }
}

/**
 * One comparable form of a KMS key reference. AWS reports `KmsKeyId` as it was given (a key ID, an alias, or
 * either as an ARN) and omits it for the default key, so `arn:aws:kms:…:key/<id>` equals `<id>`,
 * `arn:aws:kms:…:alias/<name>` equals `alias/<name>`, and unset equals `alias/aws/secretsmanager`. A key ID and an
 * alias of the same key cannot be told apart without KMS: configure `kms_key_id` in the form AWS reports.
 */
export function kmsKeyRef(id: string | undefined): string {
  if (id === undefined || id === '') return ''
  const resource = id.startsWith('arn:') ? id.split(':').slice(5).join(':') : id
  const ref = resource.startsWith('key/') ? resource.slice('key/'.length) : resource
  return ref === DEFAULT_KMS_KEY ? '' : ref
}

const sorted = (keys: string[]): string[] => keys.sort()

/**
 * What differs between a secret's metadata and the desired one. Tags are compared only for the keys secretsync
 * sets: `managedTagKeys` are the keys it set before (from the applied record), so a key dropped from the config is
 * removed, while tags someone else added are never touched.
 */
export function metadataDiff(
  current: SecretMetadata,
  desired: SecretMetadata,
  managedTagKeys: readonly string[] = [],
): MetadataDiff {
  // Checked first without building anything: almost every secret of an everyday run is in step (issue 12).
  if (sameMetadata(current, desired, managedTagKeys)) return NO_METADATA_CHANGE
  const has = (key: string): boolean => Object.hasOwn(current.tags, key)
  const wanted = Object.keys(desired.tags)
  return {
    tags_added: sorted(wanted.filter((key) => !has(key))),
    tags_changed: sorted(wanted.filter((key) => has(key) && current.tags[key] !== desired.tags[key])),
    tags_removed: sorted(managedTagKeys.filter((key) => !Object.hasOwn(desired.tags, key) && has(key))),
    kms_key_changed: kmsKeyRef(current.kmsKeyId) !== kmsKeyRef(desired.kmsKeyId),
    description_changed: (current.description ?? '') !== (desired.description ?? ''),
  }
}

function sameMetadata(current: SecretMetadata, desired: SecretMetadata, managedTagKeys: readonly string[]): boolean {
  for (const key in desired.tags)
    if (
      Object.hasOwn(desired.tags, key) &&
      (!Object.hasOwn(current.tags, key) || current.tags[key] !== desired.tags[key])
    )
      return false
  for (const key of managedTagKeys)
    if (!Object.hasOwn(desired.tags, key) && Object.hasOwn(current.tags, key)) return false
  return (
    kmsKeyRef(current.kmsKeyId) === kmsKeyRef(desired.kmsKeyId) &&
    (current.description ?? '') === (desired.description ?? '')
  )
}

export const hasMetadataChange = (diff: MetadataDiff): boolean =>
  diff.tags_added.length + diff.tags_changed.length + diff.tags_removed.length > 0 ||
  diff.kms_key_changed ||
  diff.description_changed
