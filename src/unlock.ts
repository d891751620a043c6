import {compose, type Surroundings} from './composition-root.js'
import {loadProject} from './config/index.js'
import {ExitCode, SecretSyncError, UsageError} from './errors.js'
import {discoverProject} from './pipeline/discovery-stage.js'
import {selectTargets} from './pipeline/select-targets.js'
import {
  pidIsAlive,
  staleReason,
  StoreCorruptError,
  type LockRecord,
  type PidProbe,
  type SnapshotStore,
} from './store/index.js'

export interface UnlockOptions {
  configPath: string
  target: string
  /** Remove the lock even while it looks live (its holder then loses it at its next renewal and stops writing). */
  force: boolean
  surroundings: Surroundings
}

export interface UnlockResult {
  target: string
  /** `s3://bucket/{prefix}locks/{target}.json` */
  location: string
  status: 'removed' | 'none'
  /** The lock that was removed (null when there was none, or it was unreadable). */
  removed: LockRecord | null
  /** Why it could be removed: expired, dead holder on this host, forced, unreadable. */
  reason: string
}

/** A live lock, and no --force: nothing removed. */
export class LockHeldError extends SecretSyncError {
  constructor(location: string, detail: string) {
    super('LOCK_HELD', `${location} is held: ${detail}; nothing removed`, ExitCode.failure, {
      hint: 'Wait for that run, or, if you are sure it is gone (e.g. its pod ran on another host), run unlock again with --force: its next lock renewal then fails and it stops writing.',
    })
  }
}

/** `secretsync unlock --target T [--force]`: loads the project and removes T's run lock if it may. */
export async function unlockTarget(options: UnlockOptions): Promise<UnlockResult> {
  const loaded = await loadProject(options.configPath, {env: options.surroundings.env})
  if (!loaded.config.merge_store?.enabled) {
    throw new UsageError('the merge store is not configured: there are no run locks', {code: 'NO_MERGE_STORE'})
  }
  const {runtime, adapters} = compose(loaded.config, options.surroundings)
  // Discovered targets hold locks too: resolve them as the pipeline does (a fresh cache answers; nothing is written).
  const {graph} = await discoverProject(loaded.config, loaded.graph, runtime, adapters, {noCache: false, dryRun: true})
  selectTargets(graph, options.target, '--target')
  return removeRunLock(adapters.store as SnapshotStore, options.target, {
    force: options.force,
    now: new Date(runtime.now()),
  })
}

/**
 * Removes a target's run lock when it is stale (expired, or its holder is a dead process on this host) or when
 * forced. The delete is If-Match on the ETag inspected, so a lock another run took meanwhile is never removed.
 */
export async function removeRunLock(
  store: SnapshotStore,
  target: string,
  options: {force: boolean; now: Date; host?: string; isAlive?: PidProbe},
): Promise<UnlockResult> {
  const location = store.lockLocation(target)
  let found: Awaited<ReturnType<SnapshotStore['readLock']>>
  try {
    found = await store.readLock(target)
  } catch (error) {
    if (!(error instanceof StoreCorruptError)) throw error
    if (!options.force) throw new LockHeldError(location, `it is unreadable (${error.message})`)
    await store.removeLock(target)
    return {target, location, status: 'removed', removed: null, reason: 'forced: the lock was unreadable'}
  }
  if (found === undefined) return {target, location, status: 'none', removed: null, reason: 'no lock is held'}
  const {record} = found
  // `unlock` holds no lock itself: a record naming this very pid on this host is an earlier process's.
  const stale = staleReason(record, {
    now: options.now,
    host: options.host ?? store.lockHost,
    isAlive: options.isAlive ?? pidIsAlive,
    self: {pid: process.pid, runId: ''},
  })
  if (stale === undefined && !options.force) {
    throw new LockHeldError(location, `locked by ${record.owner} (run ${record.run_id}) until ${record.expires_at}`)
  }
  if (!(await store.removeLock(target, found.etag))) {
    throw new SecretSyncError(
      'LOCK_CHANGED',
      `${location} changed while unlocking (another run took it); nothing removed`,
      ExitCode.failure,
      {hint: 'Run unlock again to see who holds it now.'},
    )
  }
  return {
    target,
    location,
    status: 'removed',
    removed: record,
    reason: stale ?? `forced: it was live until ${record.expires_at}`,
  }
}
