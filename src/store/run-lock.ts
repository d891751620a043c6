import type {S3JsonObjects} from './s3-json-objects.js'
import {StoreConflictError} from './store-errors.js'
import {FieldReader, parseStoredObject} from './stored-json.js'

/** The body of `{prefix}locks/{target}.json`. */
export interface LockRecord {
  owner: string
  run_id: string
  /** ISO 8601; after it the lock is stale and the next run may take it over. */
  expires_at: string
}

export interface AcquireLockOptions {
  /** Who holds the lock, for the message another run prints (e.g. host and pid). */
  owner: string
  runId: string
  ttlMs: number
}

/** A held lock. Release it with the same handle: its ETag is how we know it is still ours. */
export interface RunLock {
  target: string
  key: string
  owner: string
  runId: string
  expiresAt: Date
  etag: string
}

export interface LockContext {
  objects: S3JsonObjects
  key: string
  target: string
  now: Date
}

export function parseLockRecord(body: string, location: string): LockRecord {
  const fields = new FieldReader(parseStoredObject(body, location), location)
  fields.time('expires_at')
  return {owner: fields.string('owner'), run_id: fields.string('run_id'), expires_at: fields.string('expires_at')}
}

/**
 * Creates the lock with If-None-Match; an existing lock that has expired is taken over with If-Match on the ETag
 * we read, so of two runs taking over the same stale lock only one succeeds. A live lock is a StoreConflictError.
 */
export async function acquireRunLock(context: LockContext, options: AcquireLockOptions): Promise<RunLock> {
  const {objects, key, target, now} = context
  const expiresAt = new Date(now.getTime() + options.ttlMs)
  const record: LockRecord = {owner: options.owner, run_id: options.runId, expires_at: expiresAt.toISOString()}
  const body = JSON.stringify(record)
  const held = (etag: string): RunLock => ({target, key, owner: options.owner, runId: options.runId, expiresAt, etag})
  const conflict = (detail: string): StoreConflictError => new StoreConflictError(target, objects.location(key), detail)

  const created = await objects.putIf(key, body, {ifNoneMatch: '*'})
  if (created.ok) return held(created.etag)
  const existing = await objects.get(key)
  if (existing === undefined) {
    // Released between our create and our read: one more try, and a loss now is a real race.
    const retried = await objects.putIf(key, body, {ifNoneMatch: '*'})
    if (retried.ok) return held(retried.etag)
    throw conflict('another run acquired the lock first')
  }
  const current = parseLockRecord(existing.body, objects.location(key))
  if (Date.parse(current.expires_at) > now.getTime()) {
    throw conflict(`locked by ${current.owner} (run ${current.run_id}) until ${current.expires_at}`)
  }
  const taken = await objects.putIf(key, body, {ifMatch: existing.etag})
  if (taken.ok) return held(taken.etag)
  throw conflict('another run took over the stale lock first')
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
