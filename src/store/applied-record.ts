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
}

export function parseAppliedRecord(body: string, location: string): AppliedRecord {
  const fields = new FieldReader(parseStoredObject(body, location), location)
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
  }
}
