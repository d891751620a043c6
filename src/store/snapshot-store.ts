import type {S3Client} from '@aws-sdk/client-s3'
import type {JsonObject} from '../util/canonical-json.js'
import {stringifyJson} from '../util/exact-json.js'
import {parseAppliedRecord, type AppliedRecord} from './applied-record.js'
import {keepRunLock, type HeldLock, type KeepLockOptions} from './lock-keeper.js'
import {
  acquireRunLock,
  readRunLock,
  releaseRunLock,
  renewRunLock,
  type LockOwner,
  type LockRecord,
  type PidProbe,
  type RunLock,
} from './run-lock.js'
import {S3JsonObjects} from './s3-json-objects.js'
import {
  bodyHoldsContent,
  changedPaths,
  hashSecrets,
  hasChanges,
  parseSnapshot,
  sameIncomplete,
  snapshotBodyBytes,
  type Snapshot,
  type SnapshotChanges,
} from './snapshot.js'
import {SnapshotNotFoundError, StoreConflictError, StoreCorruptError, type StoreFailedError} from './store-errors.js'
import {storeKeys, type StoreKeys} from './store-keys.js'
import {FieldReader, parseStoredObject} from './stored-json.js'

export interface SnapshotStoreOptions {
  bucket: string
  /** Key prefix, used as given (`merged/`). */
  prefix: string
  /** SSE-KMS key for every write; without it SSE-S3 (AES256). */
  kmsKeyId?: string
  /** How many snapshot versions a target keeps; older ones are deleted after each commit. */
  retainVersions: number
  now: () => Date
  /** ListObjectsV2 page size (default and maximum 1000). */
  listPageSize?: number
  /** Run id that S3 failure messages start with (`[run=<id>]`). */
  runId?: string
  /** How long a run lock lives without renewal (`merge_store.lock_ttl`, default 10 minutes). */
  lockTtlMs?: number
  /** This host's name, to take over locks whose holder died here (default: none, only expiry frees a lock). */
  host?: string
  isAlive?: PidProbe
}

export const DEFAULT_LOCK_TTL_MS = 10 * 60 * 1000

/** `latest.json` as read: the version it points at and the ETag to replace it conditionally. */
export interface LatestPointer {
  version: number
  etag: string
}

export interface CommitInput {
  secrets: Readonly<Record<string, JsonObject>>
  sources: readonly string[]
  runId: string
  /** Why the content may be missing secrets (recorded in the snapshot when non-empty). */
  incomplete?: readonly string[]
}

export type CommitResult =
  | {status: 'unchanged'; version: number; changes: SnapshotChanges}
  | {
      status: 'created'
      version: number
      previousVersion: number | undefined
      changes: SnapshotChanges
      /** Versions deleted by retention, oldest first. */
      pruned: number[]
      /** Retention failed after the commit landed: the snapshot stands, old versions stay until the next commit. */
      pruneError?: StoreFailedError
    }

/** What `commit` would do, computed without writing (`--dry-run`). */
export interface CommitPlan {
  status: 'unchanged' | 'created'
  /** The latest version when unchanged, else the version a commit would create. */
  version: number
  previousVersion: number | undefined
  changes: SnapshotChanges
}

/** What commit needs besides the plan; `hashes` is computed once and serves both the diff and the snapshot. */
type Prepared = CommitPlan & {latest: LatestPointer | undefined; versions: number[]; hashes: Record<string, string>}

/**
 * The S3 merge store: versioned, immutable snapshots per target, a `latest.json` pointer, per account-region
 * applied records and a run lock (docs/design.md §4). Every write is encrypted and every snapshot and pointer write is
 * conditional, so two runs racing on one target never overwrite each other: the loser gets a StoreConflictError.
 */
export class SnapshotStore {
  private readonly objects: S3JsonObjects
  private readonly keys: StoreKeys

  constructor(
    s3: S3Client,
    private readonly options: SnapshotStoreOptions,
  ) {
    this.objects = new S3JsonObjects(s3, {
      bucket: options.bucket,
      kmsKeyId: options.kmsKeyId,
      listPageSize: options.listPageSize,
      runId: options.runId,
    })
    this.keys = storeKeys(options.prefix)
  }

  async latest(target: string): Promise<LatestPointer | undefined> {
    const key = this.keys.latest(target)
    const stored = await this.objects.get(key)
    if (stored === undefined) return undefined
    const location = this.objects.location(key)
    return {
      version: new FieldReader(parseStoredObject(stored.body, location), location).positiveInteger('version'),
      etag: stored.etag,
    }
  }

  /** Snapshot `version` of `target`; a missing one is a SnapshotNotFoundError, a malformed one a StoreCorruptError. */
  async read(target: string, version: number): Promise<Snapshot> {
    return this.parsed(target, version, await this.body(target, version))
  }

  private async body(target: string, version: number): Promise<string> {
    const key = this.keys.snapshot(target, version)
    const stored = await this.objects.get(key)
    if (stored === undefined) throw new SnapshotNotFoundError(target, version, this.objects.location(key))
    return stored.body
  }

  private parsed(target: string, version: number, body: string): Snapshot {
    const location = this.objects.location(this.keys.snapshot(target, version))
    const snapshot = parseSnapshot(body, location)
    if (snapshot.target !== target || snapshot.version !== version) {
      throw new StoreCorruptError(location, `holds snapshot ${snapshot.version} of target "${snapshot.target}"`)
    }
    return snapshot
  }

  async readLatest(target: string): Promise<Snapshot | undefined> {
    const latest = await this.latest(target)
    return latest && this.read(target, latest.version)
  }

  /** Stored snapshot versions of the target, ascending. */
  async listVersions(target: string): Promise<number[]> {
    const keys = await this.objects.listKeys(this.keys.targetFolder(target))
    return keys
      .map((key) => this.keys.versionOf(target, key))
      .filter((version): version is number => version !== undefined)
      .sort((a, b) => a - b)
  }

  async plan(
    target: string,
    secrets: Readonly<Record<string, JsonObject>>,
    incomplete?: readonly string[],
  ): Promise<CommitPlan> {
    const {status, version, previousVersion, changes} = await this.prepare(target, secrets, incomplete)
    return {status, version, previousVersion, changes}
  }

  /**
   * Stores `secrets` as the target's next snapshot, unless they equal the latest one (by hash: key order does not
   * matter), then applies retention. Throws StoreConflictError when another run wrote first; nothing is overwritten.
   */
  async commit(target: string, input: CommitInput): Promise<CommitResult> {
    const prepared = await this.prepare(target, input.secrets, input.incomplete)
    const {version, previousVersion, changes, hashes} = prepared
    if (prepared.status === 'unchanged') return {status: 'unchanged', version, changes}

    const snapshotKey = this.keys.snapshot(target, version)
    const body = snapshotBodyBytes({
      target,
      version,
      createdAt: this.options.now(),
      runId: input.runId,
      sources: input.sources,
      secrets: input.secrets,
      hashes,
      incomplete: input.incomplete,
    })
    const written = await this.objects.putIf(snapshotKey, body, {ifNoneMatch: '*'})
    if (!written.ok && !(await this.holds(snapshotKey, body))) {
      throw new StoreConflictError(
        target,
        this.objects.location(snapshotKey),
        `version ${version} was created by another run`,
      )
    }

    const latestKey = this.keys.latest(target)
    const pointer = JSON.stringify({version})
    const moved = await this.objects.putIf(
      latestKey,
      pointer,
      prepared.latest ? {ifMatch: prepared.latest.etag} : {ifNoneMatch: '*'},
    )
    if (!moved.ok && (await this.latest(target))?.version !== version) {
      // Our snapshot is complete but nothing points at it. Delete it so `version list` shows only snapshots that
      // were latest; if that fails it is harmless: it is immutable, and numbering continues above the highest
      // stored version, so no later commit ever collides with it.
      await this.objects.delete(snapshotKey).catch(() => false)
      throw new StoreConflictError(
        target,
        this.objects.location(latestKey),
        `another run moved it from version ${previousVersion ?? 'none'}`,
      )
    }

    return {
      status: 'created',
      version,
      previousVersion,
      changes,
      ...(await this.prune(target, [...prepared.versions, version], version)),
    }
  }

  async readApplied(target: string, account: string, region: string): Promise<AppliedRecord | undefined> {
    const key = this.keys.applied(target, account, region)
    const stored = await this.objects.get(key)
    return stored && parseAppliedRecord(stored.body, this.objects.location(key))
  }

  async writeApplied(target: string, account: string, region: string, record: AppliedRecord): Promise<void> {
    await this.objects.put(this.keys.applied(target, account, region), stringifyJson(record))
  }

  /** Takes the target's run lock for `ttlMs` (default `lockTtlMs`); a live lock is a StoreConflictError. */
  acquireLock(target: string, owner: LockOwner & {ttlMs?: number}): Promise<RunLock> {
    const {host, isAlive} = this.options
    return acquireRunLock(
      {objects: this.objects, key: this.keys.lock(target), target, now: this.options.now(), host, isAlive},
      {...owner, ttlMs: owner.ttlMs ?? this.lockTtlMs},
    )
  }

  /** Takes the lock and keeps renewing it until released; its `signal` aborts if it is lost meanwhile. */
  async holdLock(target: string, owner: LockOwner, options: Omit<KeepLockOptions, 'ttlMs'> = {}): Promise<HeldLock> {
    const lock = await this.acquireLock(target, owner)
    return keepRunLock({renew: (held) => this.renewLock(held), release: (held) => this.releaseLock(held)}, lock, {
      ...options,
      ttlMs: this.lockTtlMs,
    })
  }

  /** Moves the lock's expiry a TTL ahead; undefined when it is no longer ours. */
  renewLock(lock: RunLock): Promise<RunLock | undefined> {
    return renewRunLock(this.objects, lock, this.options.now(), this.lockTtlMs)
  }

  /** Deletes the lock if it is still ours; false when it was gone or another run had taken it over. */
  releaseLock(lock: RunLock): Promise<boolean> {
    return releaseRunLock(this.objects, lock)
  }

  /** The target's lock as stored (with its ETag), or undefined when none is held. */
  readLock(target: string): Promise<{record: LockRecord; etag: string; location: string} | undefined> {
    const key = this.keys.lock(target)
    return readRunLock(this.objects, key).then(
      (found) => found && {record: found.record, etag: found.stored.etag, location: this.objects.location(key)},
    )
  }

  /** Deletes the target's lock: only the version with `etag` when given (false if it changed meanwhile). */
  removeLock(target: string, etag?: string): Promise<boolean> {
    return this.objects.delete(this.keys.lock(target), etag)
  }

  /** The host name locks are recognised by (dead holders on it are taken over). */
  get lockHost(): string | undefined {
    return this.options.host
  }

  /** Where the target's lock lives, for messages. */
  lockLocation(target: string): string {
    return this.objects.location(this.keys.lock(target))
  }

  private get lockTtlMs(): number {
    return this.options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS
  }

  private async prepare(
    target: string,
    secrets: Readonly<Record<string, JsonObject>>,
    incomplete?: readonly string[],
  ): Promise<Prepared> {
    const latest = await this.latest(target)
    const hashes = hashSecrets(secrets)
    const body = latest && (await this.body(target, latest.version))
    const unchanged = (version: number, changes: SnapshotChanges): Prepared => ({
      status: 'unchanged',
      version,
      previousVersion: version,
      changes,
      latest,
      versions: [],
      hashes,
    })
    // The everyday run: the stored latest is byte for byte what this content would be stored as.
    if (
      latest &&
      body !== undefined &&
      bodyHoldsContent(body, {target, version: latest.version, secrets, hashes, incomplete})
    )
      return unchanged(latest.version, {added: [], removed: [], changed: []})
    const previous = latest && body !== undefined ? this.parsed(target, latest.version, body) : undefined
    const changes = changedPaths(previous, secrets, hashes)
    // Same content from a walk that saw more (or less) is still a new version: completeness decides deletions.
    if (previous && !hasChanges(changes) && sameIncomplete(previous.incomplete, incomplete))
      return unchanged(previous.version, changes)
    // Next = above every stored version, not just latest + 1: a run that died between writing its snapshot and
    // moving latest.json leaves an orphan there, and If-None-Match would refuse that number forever.
    const versions = await this.listVersions(target)
    const highest = versions.reduce((max, v) => Math.max(max, v), latest?.version ?? 0)
    return {
      status: 'created',
      version: highest + 1,
      previousVersion: latest?.version,
      changes,
      latest,
      versions,
      hashes,
    }
  }

  /** Whether the key holds exactly `body`: our own write whose success answer was lost and whose retry got a 412. */
  private async holds(key: string, body: Buffer): Promise<boolean> {
    const stored = await this.objects.get(key)
    return stored !== undefined && body.equals(Buffer.from(stored.body, 'utf8'))
  }

  /** Deletes the oldest versions beyond `retainVersions`, oldest first, never `latest`. */
  private async prune(
    target: string,
    versions: number[],
    latest: number,
  ): Promise<{pruned: number[]; pruneError?: StoreFailedError}> {
    const sorted = [...new Set(versions)].sort((a, b) => a - b)
    const excess = sorted.slice(0, Math.max(0, sorted.length - Math.max(1, this.options.retainVersions)))
    const pruned: number[] = []
    for (const version of excess.filter((v) => v !== latest)) {
      try {
        await this.objects.delete(this.keys.snapshot(target, version))
      } catch (error) {
        return {pruned, pruneError: error as StoreFailedError}
      }
      pruned.push(version)
    }
    return {pruned}
  }
}
