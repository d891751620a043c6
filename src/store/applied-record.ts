import {isPlainObject} from '../util/canonical-json.js'
import {StoreCorruptError} from './store-errors.js'
import {FieldReader, ownRecord, parseStoredObject} from './stored-json.js'

/** What secretsync last wrote for one secret name in one account-region. */
export interface AppliedSecret {
  /** `contentHash` of the value written. */
  hash: string
  /** The Secrets Manager VersionId that write created. */
  version_id: string
}

/** `{prefix}{target}/applied/{account}-{region}.json`: lets a run skip reading secrets that nobody changed. */
export interface AppliedRecord {
  /** The snapshot version that was applied. */
  version: number
  /** ISO 8601. */
  applied_at: string
  /** AWS secret name → what was applied. */
  secrets: Record<string, AppliedSecret>
  /**
   * The metadata secretsync last set on the target's secrets: which tag keys are its own (only those are ever
   * removed), and what to compare against to tell drift. Absent in records written before it existed.
   */
  metadata?: AppliedMetadata
}

export interface AppliedMetadata {
  tags: Record<string, string>
  kms_key_id: string | null
  description: string | null
}

function parseMetadata(value: unknown, location: string): AppliedMetadata {
  const ok =
    isPlainObject(value) &&
    isPlainObject(value.tags) &&
    Object.values(value.tags).every((v) => typeof v === 'string') &&
    (value.kms_key_id === null || typeof value.kms_key_id === 'string') &&
    (value.description === null || typeof value.description === 'string')
  if (!ok) throw new StoreCorruptError(location, '"metadata" must be {tags, kms_key_id, description}')
  return {
    tags: ownRecord(Object.entries(value.tags as Record<string, string>)),
    kms_key_id: value.kms_key_id as string | null,
    description: value.description as string | null,
  }
}

export function parseAppliedRecord(body: string, location: string): AppliedRecord {
  const raw = parseStoredObject(body, location)
  const fields = new FieldReader(raw, location)
  const secrets = Object.entries(fields.record('secrets')).map(([name, entry]) => {
    if (!isPlainObject(entry) || typeof entry.hash !== 'string' || typeof entry.version_id !== 'string') {
      throw new StoreCorruptError(location, `secrets."${name}" must be {hash, version_id} strings`)
    }
    return [name, {hash: entry.hash, version_id: entry.version_id}] as const
  })
  fields.time('applied_at')
  return {
    version: fields.positiveInteger('version'),
    applied_at: fields.string('applied_at'),
    secrets: ownRecord(secrets),
    ...(raw.metadata === undefined ? {} : {metadata: parseMetadata(raw.metadata, location)}),
  }
}
