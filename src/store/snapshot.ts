import {contentHash, inPropertyOrder, isPlainObject, secretHash, type JsonObject} from '../util/canonical-json.js'
import {isJsonObject, jsonObject, stringifyJson, type JsonValue} from '../util/exact-json.js'
import {StoreCorruptError} from './store-errors.js'
import {FieldReader, ownRecord, parseStoredObject} from './stored-json.js'

export const SNAPSHOT_FORMAT = 1

/** One immutable version of a target's merged secrets, as stored in `{prefix}{target}/v{N}.json`. */
export interface Snapshot {
  format: typeof SNAPSHOT_FORMAT
  target: string
  version: number
  /** ISO 8601. */
  created_at: string
  run_id: string
  /** The vault sources the content was merged from, in import order. */
  sources: string[]
  /** Relative secret path → the secret's JSON object. */
  secrets: Record<string, JsonObject>
  /** Relative secret path → `contentHash` of the secret (sha256 of its canonical JSON). */
  hashes: Record<string, string>
  /**
   * Why the content may lack secrets that exist in Vault (a feeding source was not walked completely), so a
   * later `--sync-only` holds deletions too. Written only when non-empty.
   */
  incomplete?: string[]
}

/** Secret paths that differ between two contents, each list sorted. */
export interface SnapshotChanges {
  added: string[]
  removed: string[]
  changed: string[]
}

export interface BuildSnapshotOptions {
  target: string
  version: number
  createdAt: Date
  runId: string
  sources: readonly string[]
  secrets: Readonly<Record<string, JsonObject>>
  /** `hashSecrets(secrets)`, when the caller has it already (hashing is most of a snapshot's cost). */
  hashes?: Readonly<Record<string, string>>
  incomplete?: readonly string[]
}

const sortedEntries = <T>(record: Readonly<Record<string, T>>): Array<[string, T]> =>
  Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

/** Hash of every secret, by path: equal hashes mean equal content whatever the key order. */
export function hashSecrets(secrets: Readonly<Record<string, JsonObject>>): Record<string, string> {
  const hashes = Object.create(null) as Record<string, string>
  for (const path of Object.keys(secrets).sort()) hashes[path] = secretHash(secrets[path] as JsonObject)
  return hashes
}

/** Builds snapshot `version` of a target with paths in sorted order, so equal contents serialise alike. */
export function buildSnapshot(options: BuildSnapshotOptions): Snapshot {
  return {
    format: SNAPSHOT_FORMAT,
    target: options.target,
    version: options.version,
    created_at: options.createdAt.toISOString(),
    run_id: options.runId,
    sources: [...options.sources],
    secrets: ownRecord(sortedEntries(options.secrets)),
    hashes: options.hashes ? ownRecord(sortedEntries(options.hashes)) : hashSecrets(options.secrets),
    ...(options.incomplete && options.incomplete.length > 0 ? {incomplete: [...options.incomplete]} : {}),
  }
}

/** Whether two snapshots record the same reasons for being incomplete (none equals none). */
export const sameIncomplete = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean =>
  JSON.stringify(a ?? []) === JSON.stringify(b ?? [])

/** Exact: the numbers and keys of every secret are written as they are held, so a read gives them back. */
export const serializeSnapshot = (snapshot: Snapshot): string => stringifyJson(snapshot)

// About 64 KiB of text per chunk: small enough to stay out of V8's large-object space, which only a full GC
// frees, so a written snapshot leaves no big strings behind, only its one Buffer.
const CHUNK_CHARS = 1 << 16

/** Text appended piece by piece, turned into UTF-8 chunk by chunk, and finally into one Buffer. */
class Utf8Writer {
  private pending = ''
  private readonly chunks: Buffer[] = []
  private bytes = 0

  write(text: string): void {
    this.pending += text
    if (this.pending.length >= CHUNK_CHARS) this.flush()
  }

  toBuffer(): Buffer {
    this.flush()
    return Buffer.concat(this.chunks, this.bytes)
  }

  private flush(): void {
    if (this.pending === '') return
    const chunk = Buffer.from(this.pending, 'utf8')
    this.chunks.push(chunk)
    this.bytes += chunk.length
    this.pending = ''
  }
}

/**
 * `serializeSnapshot(buildSnapshot(options))`, handed to `write` piece by piece, secret by secret: no sorted copy
 * of the secrets and hashes, no second tree to serialise and no snapshot-sized string, which is most of what a
 * snapshot write allocates (issue 12). Paths come in the order the built snapshot's records list them
 * (inPropertyOrder).
 */
function writeSnapshotBody(options: BuildSnapshotOptions, write: (text: string) => void): void {
  const hashes = options.hashes ?? hashSecrets(options.secrets)
  // `hashes` holds exactly the paths of `secrets` (it is hashSecrets(secrets)), so one sorted list serves both.
  const paths = inPropertyOrder(Object.keys(options.secrets).sort())
  const head = stringifyJson({
    format: SNAPSHOT_FORMAT,
    target: options.target,
    version: options.version,
    created_at: options.createdAt.toISOString(),
    run_id: options.runId,
    sources: [...options.sources],
  })
  write(head.slice(0, -1))
  write(SECRETS_FIELD)
  paths.forEach((path, index) => {
    write(`${index > 0 ? ',' : ''}${JSON.stringify(path)}:${stringifyJson(options.secrets[path])}`)
  })
  write('},"hashes":{')
  paths.forEach((path, index) => {
    write(`${index > 0 ? ',' : ''}${JSON.stringify(path)}:${JSON.stringify(hashes[path])}`)
  })
  write('}')
  if (options.incomplete && options.incomplete.length > 0)
    write(`,"incomplete":${JSON.stringify([...options.incomplete])}`)
  write('}')
}

// Where the head ends. JSON.stringify escapes every quote inside a string, so in a body secretsync wrote the first
// occurrence is this field's.
const SECRETS_FIELD = ',"secrets":{'

/**
 * The snapshot body as UTF-8 in one Buffer. Every string JSON.stringify writes is well-formed (lone surrogates
 * are escaped), so the UTF-8 is exact.
 */
export function snapshotBodyBytes(options: BuildSnapshotOptions): Buffer {
  const out = new Utf8Writer()
  writeSnapshotBody(options, (text) => out.write(text))
  return out.toBuffer()
}

/**
 * Whether `body`, the stored snapshot `version` of `target`, is exactly the snapshot secretsync would write for
 * `content` with the stored head (created_at, run_id, sources): every secret, every hash and the incompleteness,
 * character for character. The unchanged case of every everyday run is decided this way without parsing the
 * stored secrets and re-hashing them, which was most of what a re-run allocated per target (issue 12); since
 * every byte is compared, it checks more than the hash re-check it replaces. False whenever anything differs or
 * the head is not what secretsync writes: the caller then parses and validates the body as before.
 */
export function bodyHoldsContent(
  body: string,
  content: Pick<BuildSnapshotOptions, 'target' | 'version' | 'secrets' | 'hashes' | 'incomplete'>,
): boolean {
  const headEnd = body.indexOf(SECRETS_FIELD)
  if (headEnd < 0) return false
  let head: unknown
  try {
    head = JSON.parse(`${body.slice(0, headEnd)}}`)
  } catch {
    return false
  }
  if (!isPlainObject(head)) return false
  const {target, version, created_at: createdAt, run_id: runId, sources} = head
  if (target !== content.target || version !== content.version || typeof runId !== 'string') return false
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) return false
  if (!Array.isArray(sources) || !sources.every((source) => typeof source === 'string')) return false
  let offset = 0
  try {
    writeSnapshotBody({...content, createdAt: new Date(createdAt), runId, sources}, (text) => {
      if (!body.startsWith(text, offset)) throw DIFFERS
      offset += text.length
    })
  } catch (error) {
    if (error === DIFFERS) return false
    throw error
  }
  return offset === body.length
}

// Thrown from the comparing writer to stop at the first difference instead of serialising the rest.
const DIFFERS = Symbol('differs')

/** `serializeSnapshot(buildSnapshot(options))`, byte for byte: snapshotBodyBytes as text. */
export const snapshotBody = (options: BuildSnapshotOptions): string => snapshotBodyBytes(options).toString('utf8')

// Releases before exact keys hashed secrets without their `__proto__` keys (the key was lost while hashing), so
// a snapshot they wrote for such a secret carries that hash. It is still theirs and intact: accept it, and the
// next merge, hashing every key, writes a new version.
const hasProtoKey = (value: JsonValue): boolean =>
  Array.isArray(value)
    ? value.some(hasProtoKey)
    : isJsonObject(value) &&
      Object.keys(value).some((key) => key === '__proto__' || hasProtoKey(value[key] as JsonValue))
const withoutProtoKeys = (value: JsonValue): JsonValue =>
  Array.isArray(value)
    ? value.map(withoutProtoKeys)
    : isJsonObject(value)
      ? jsonObject(
          Object.keys(value)
            .filter((key) => key !== '__proto__')
            .map((key) => [key, withoutProtoKeys(value[key] as JsonValue)] as const),
        )
      : value
const matchesHash = (secret: JsonObject, hash: unknown): boolean =>
  hash === contentHash(secret) || (hasProtoKey(secret) && hash === contentHash(withoutProtoKeys(secret)))

/**
 * What changed from `previous` (nothing: every path is added) to `secrets`, by content hash; `hashes` is
 * `hashSecrets(secrets)` when the caller has it already.
 */
export function changedPaths(
  previous: Pick<Snapshot, 'hashes'> | undefined,
  secrets: Readonly<Record<string, JsonObject>>,
  hashes: Readonly<Record<string, string>> = hashSecrets(secrets),
): SnapshotChanges {
  // Looked up in the records themselves: no entry pairs or Maps of every path (issue 12).
  const before: Readonly<Record<string, string>> = previous?.hashes ?? {}
  const changes: SnapshotChanges = {added: [], removed: [], changed: []}
  for (const path of Object.keys(hashes)) {
    if (!Object.hasOwn(before, path)) changes.added.push(path)
    else if (before[path] !== hashes[path]) changes.changed.push(path)
  }
  for (const path of Object.keys(before)) if (!Object.hasOwn(hashes, path)) changes.removed.push(path)
  for (const list of Object.values(changes)) list.sort()
  return changes
}

export const hasChanges = (changes: SnapshotChanges): boolean =>
  changes.added.length + changes.removed.length + changes.changed.length > 0

/**
 * Parses and validates a stored snapshot. Anything secretsync would not have written (bad JSON, unknown format,
 * wrong field types, a hash that does not match its secret) is a `StoreCorruptError` naming `location`.
 */
export function parseSnapshot(body: string, location: string): Snapshot {
  const object = parseStoredObject(body, location)
  const fields = new FieldReader(object, location)
  if (object.format !== SNAPSHOT_FORMAT) {
    throw new StoreCorruptError(
      location,
      `unsupported snapshot format ${JSON.stringify(object.format ?? null)} (expected ${SNAPSHOT_FORMAT})`,
    )
  }
  const secrets = fields.record('secrets')
  const hashes = fields.record('hashes')
  for (const [path, secret] of Object.entries(secrets)) {
    if (!isPlainObject(secret)) throw new StoreCorruptError(location, `secret "${path}" must be a JSON object`)
    if (!Object.hasOwn(hashes, path)) throw new StoreCorruptError(location, `secret "${path}" has no hash`)
    if (!matchesHash(secret, hashes[path]))
      throw new StoreCorruptError(location, `the hash of "${path}" does not match its content`)
  }
  const extra = Object.keys(hashes).find((path) => !Object.hasOwn(secrets, path))
  if (extra !== undefined) throw new StoreCorruptError(location, `hash for "${extra}" has no secret`)
  fields.time('created_at')
  const incomplete = object.incomplete === undefined ? [] : fields.stringArray('incomplete')
  return {
    format: SNAPSHOT_FORMAT,
    target: fields.string('target'),
    version: fields.positiveInteger('version'),
    created_at: fields.string('created_at'),
    run_id: fields.string('run_id'),
    sources: fields.stringArray('sources'),
    secrets: ownRecord(Object.entries(secrets as Record<string, JsonObject>)),
    hashes: ownRecord(Object.entries(hashes as Record<string, string>)),
    ...(incomplete.length > 0 ? {incomplete} : {}),
  }
}
