import {hostname} from 'node:os'
import type {S3JsonObjects, StoredText} from './s3-json-objects.js'
import {StoreConflictError} from './store-errors.js'
import {FieldReader, parseStoredObject} from './stored-json.js'

/**
 * The body of `{prefix}locks/{target}.json`. `host` and `pid` are optional so records written by older versions
 * (and by other tools) still parse; without them only expiry frees the lock.
 */
export interface LockRecord {
  owner: string
  run_id: string
  /** ISO 8601; after it the lock is stale and the next run may take it over. */
  expires_at: string
  /** Host name of the holder: with `pid`, how a run on the same host sees that the holder died. */
  host?: string
  pid?: number
}

/** Who takes the lock. `host` + `pid` are recorded so a run on the same host can detect a dead holder. */
export interface LockOwner {
  /** Shown to other runs and by `unlock` (host:pid). */
  owner: string
  runId: string
  host?: string
  pid?: number
}

/** This process as a lock owner: `host:pid`, with host and pid recorded for dead-owner detection. */
export const thisProcess = (runId: string): LockOwner => ({
  owner: `${hostname()}:${process.pid}`,
  runId,
  host: hostname(),
  pid: process.pid,
})

export interface AcquireLockOptions extends LockOwner {
  ttlMs: number
}

/** A held lock. Release or renew it with the same handle: its ETag is how we know it is still ours. */
export interface RunLock {
  target: string
  key: string
  owner: string
  runId: string
  host?: string
  pid?: number
  expiresAt: Date
  etag: string
}

/** Whether a process id is alive on this host (the default asks the kernel with signal 0). */
export type PidProbe = (pid: number) => boolean

export const pidIsAlive: PidProbe = (pid) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but is not ours to signal; only ESRCH means there is no such process.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

export interface LockContext {
  objects: S3JsonObjects
  key: string
  target: string
  now: Date
  /** This run's host, to recognise holders that died on it. */
  host?: string
  isAlive?: PidProbe
}

export function parseLockRecord(body: string, location: string): LockRecord {
  const object = parseStoredObject(body, location)
  const fields = new FieldReader(object, location)
  fields.time('expires_at')
  const record: LockRecord = {
    owner: fields.string('owner'),
    run_id: fields.string('run_id'),
    expires_at: fields.string('expires_at'),
  }
  if (typeof object.host === 'string') record.host = object.host
  if (typeof object.pid === 'number' && Number.isSafeInteger(object.pid) && object.pid > 0) record.pid = object.pid
  return record
}

export interface StaleContext extends Pick<LockContext, 'now' | 'host' | 'isAlive'> {
  /** The process asking, when it runs on `host`: a lock naming its own pid under another run id is a dead one's. */
  self?: {pid: number; runId: string}
}

/** Why a lock found in the store may be taken or removed without asking: expired, or its holder died here. */
export function staleReason(record: LockRecord, context: StaleContext): string | undefined {
  if (Date.parse(record.expires_at) <= context.now.getTime()) return `expired at ${record.expires_at}`
  const sameHost = context.host !== undefined && record.host === context.host
  if (!sameHost || record.pid === undefined) return undefined
  // A container restarted in place keeps its host name and is PID 1 again: our own pid under another run id
  // can only be an earlier process that had it, and it is gone.
  const earlierSelf =
    context.self !== undefined && record.pid === context.self.pid && record.run_id !== context.self.runId
  if (earlierSelf || !(context.isAlive ?? pidIsAlive)(record.pid))
    return `its holder (pid ${record.pid} on ${record.host}) is no longer running`
  return undefined
}

const recordFor = (owner: LockOwner, expiresAt: Date): LockRecord => ({
  owner: owner.owner,
  run_id: owner.runId,
  expires_at: expiresAt.toISOString(),
  ...(owner.host !== undefined ? {host: owner.host} : {}),
  ...(owner.pid !== undefined ? {pid: owner.pid} : {}),
})

const handleFor = (context: LockContext, owner: LockOwner, expiresAt: Date, etag: string): RunLock => ({
  target: context.target,
  key: context.key,
  owner: owner.owner,
  runId: owner.runId,
  ...(owner.host !== undefined ? {host: owner.host} : {}),
  ...(owner.pid !== undefined ? {pid: owner.pid} : {}),
  expiresAt,
  etag,
})

/**
 * Creates the lock with If-None-Match. An existing lock that expired, or whose holder is a dead process on this
 * host, is taken over with If-Match on the ETag we read, so of two runs taking over the same stale lock only one
 * succeeds. A live lock is a StoreConflictError naming its holder.
 */
export async function acquireRunLock(context: LockContext, options: AcquireLockOptions): Promise<RunLock> {
  const {objects, key, target, now} = context
  const expiresAt = new Date(now.getTime() + options.ttlMs)
  const body = JSON.stringify(recordFor(options, expiresAt))
  const conflict = (detail: string): StoreConflictError => new StoreConflictError(target, objects.location(key), detail)

  const created = await objects.putIf(key, body, {ifNoneMatch: '*'})
  if (created.ok) return handleFor(context, options, expiresAt, created.etag)
  const existing = await objects.get(key)
  if (existing === undefined) {
    // Released between our create and our read: one more try, and a loss now is a real race.
    const retried = await objects.putIf(key, body, {ifNoneMatch: '*'})
    if (retried.ok) return handleFor(context, options, expiresAt, retried.etag)
    throw conflict('another run acquired the lock first')
  }
  const current = parseLockRecord(existing.body, objects.location(key))
  const self = options.pid !== undefined ? {pid: options.pid, runId: options.runId} : undefined
  if (staleReason(current, {...context, self}) === undefined) {
    throw conflict(`locked by ${current.owner} (run ${current.run_id}) until ${current.expires_at}`)
  }
  const taken = await objects.putIf(key, body, {ifMatch: existing.etag})
  if (taken.ok) return handleFor(context, options, expiresAt, taken.etag)
  throw conflict('another run took over the stale lock first')
}

/**
 * Moves the expiry of a lock we hold forward, with If-Match on its ETag: a lock that was taken over or removed
 * (`unlock --force`) is not ours any more, and the answer is undefined rather than a silent overwrite.
 */
export async function renewRunLock(
  objects: S3JsonObjects,
  lock: RunLock,
  now: Date,
  ttlMs: number,
): Promise<RunLock | undefined> {
  const expiresAt = new Date(now.getTime() + ttlMs)
  const owner: LockOwner = {owner: lock.owner, runId: lock.runId, host: lock.host, pid: lock.pid}
  const renewed = await objects.putIf(lock.key, JSON.stringify(recordFor(owner, expiresAt)), {ifMatch: lock.etag})
  return renewed.ok ? {...lock, expiresAt, etag: renewed.etag} : undefined
}

/**
 * Deletes the lock only if it is still the one we wrote (same ETag): after our lock expired another run may hold it.
 * Returns whether it was deleted.
 */
export async function releaseRunLock(objects: S3JsonObjects, lock: RunLock): Promise<boolean> {
  const current = await objects.get(lock.key)
  if (current === undefined || current.etag !== lock.etag) return false
  // If-Match closes the gap between our read and the delete where S3 supports conditional deletes.
  return objects.delete(lock.key, lock.etag)
}

/** The lock as stored, with its ETag so a removal deletes exactly what was inspected. */
export async function readRunLock(
  objects: S3JsonObjects,
  key: string,
): Promise<{record: LockRecord; stored: StoredText} | undefined> {
  const stored = await objects.get(key)
  return stored && {record: parseLockRecord(stored.body, objects.location(key)), stored}
}
