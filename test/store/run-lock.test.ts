import {S3Client} from '@aws-sdk/client-s3'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {SnapshotStore, StoreConflictError, type SnapshotStoreOptions} from '../../src/store/index.js'
import {LockHeldError, removeRunLock} from '../../src/unlock.js'
import {startAwsServer} from '../support/aws/aws-server.js'

/**
 * The run lock beyond acquire/release (snapshot-store.test.ts): host and pid for dead-owner detection, renewal
 * while held, loss when someone removes it, and what `unlock` may remove. Real S3 client, in-process S3 over HTTP.
 */

type Server = Awaited<ReturnType<typeof startAwsServer>>

const BUCKET = 'secretsync-merge-store'
const TARGET = 'production-us-east-1'
const LOCK_KEY = `merged/locks/${TARGET}.json`

let server: Server
let s3: S3Client
let clock: Date

beforeEach(async () => {
  server = await startAwsServer()
  server.s3.createBucket(BUCKET)
  s3 = new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
  })
  clock = new Date('2024-05-01T12:00:00.000Z')
})

afterEach(async () => {
  s3.destroy()
  await server.close()
})

/** A store on host-a where pid 4242 has died and every other pid is alive. */
const storeWith = (options: Partial<SnapshotStoreOptions> = {}): SnapshotStore =>
  new SnapshotStore(s3, {
    bucket: BUCKET,
    prefix: 'merged/',
    retainVersions: 20,
    now: () => clock,
    host: 'host-a',
    isAlive: (pid) => pid !== 4242,
    lockTtlMs: 60_000,
    ...options,
  })

const lockJson = (): Record<string, unknown> | undefined => {
  const object = server.s3.getObject(BUCKET, LOCK_KEY)
  return object && (JSON.parse(object.body.toString('utf8')) as Record<string, unknown>)
}

const holder = (host: string, pid: number, runId: string) => ({owner: `${host}:${pid}`, runId, host, pid})

describe('dead-owner detection', () => {
  it('records host and pid, and a live lock whose holder died on this host is taken over at once', async () => {
    // Given run-1 (pid 4242 on host-a) took the lock for a minute and was killed
    await storeWith().acquireLock(TARGET, holder('host-a', 4242, 'run-1'))
    expect(lockJson()).toEqual({
      owner: 'host-a:4242',
      run_id: 'run-1',
      expires_at: '2024-05-01T12:01:00.000Z',
      host: 'host-a',
      pid: 4242,
    })

    // When run-2 on the same host asks ten seconds later, long before expiry
    clock = new Date(clock.getTime() + 10_000)
    const lock = await storeWith().acquireLock(TARGET, holder('host-a', 5000, 'run-2'))

    // Then it holds the lock, taken over with If-Match on the dead holder's ETag
    expect(lock.runId).toBe('run-2')
    expect(lockJson()).toMatchObject({run_id: 'run-2', pid: 5000})
    expect(server.s3.putRecords().at(-1)).toMatchObject({key: LOCK_KEY, ifMatch: expect.any(String), status: 200})
  })

  it('a live holder on this host, or any holder on another host, keeps its lock', async () => {
    // Given a live holder on this host: refused
    const alive = await storeWith().acquireLock(TARGET, holder('host-a', 7, 'run-alive'))
    await expect(storeWith().acquireLock(TARGET, holder('host-a', 5000, 'run-2'))).rejects.toBeInstanceOf(
      StoreConflictError,
    )
    await storeWith().releaseLock(alive)

    // Given pid 4242 holds it on host-b: that pid is dead here, but host-a cannot know about host-b's processes
    await storeWith({host: 'host-b'}).acquireLock(TARGET, holder('host-b', 4242, 'run-x'))
    const error = await storeWith()
      .acquireLock(TARGET, holder('host-a', 5000, 'run-2'))
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StoreConflictError)
    expect((error as Error).message).toContain('host-b:4242 (run run-x)')
  })

  it('a container restarted in place (same host name, PID 1 again) takes over the lock its earlier process left', async () => {
    // Given the earlier process, pid 1 on pod-7, died holding the lock (pid 1 is alive: it is the new process)
    const store = storeWith({host: 'pod-7', isAlive: () => true})
    await store.acquireLock(TARGET, holder('pod-7', 1, 'run-before-restart'))

    // When the restarted process (pid 1, a new run) asks, and another live process on that host asks too
    const other = await store.acquireLock(TARGET, holder('pod-7', 2, 'run-other')).catch((e: unknown) => e)
    const lock = await store.acquireLock(TARGET, holder('pod-7', 1, 'run-after-restart'))

    // Then only the restarted process may take it: its own pid under another run id cannot be running
    expect(other).toBeInstanceOf(StoreConflictError)
    expect(lock.runId).toBe('run-after-restart')
  })

  it('a lock written without host and pid (an older secretsync) still parses and is respected until it expires', async () => {
    server.s3.putObject(
      BUCKET,
      LOCK_KEY,
      JSON.stringify({owner: 'old-host:1', run_id: 'run-old', expires_at: '2024-05-01T12:30:00.000Z'}),
    )
    await expect(storeWith().acquireLock(TARGET, holder('host-a', 5000, 'run-2'))).rejects.toBeInstanceOf(
      StoreConflictError,
    )
    clock = new Date('2024-05-01T12:30:00.001Z')
    await expect(storeWith().acquireLock(TARGET, holder('host-a', 5000, 'run-2'))).resolves.toMatchObject({
      runId: 'run-2',
    })
  })
})

describe('a held lock', () => {
  it('is renewed with If-Match while held, so a run longer than the TTL keeps it, and released at the end', async () => {
    // Given a store whose locks live 300 ms
    const store = storeWith({lockTtlMs: 300})
    const held = await store.holdLock(TARGET, holder('host-a', 7, 'run-1'))
    const first = lockJson()?.expires_at

    // When the clock moves past the first expiry while the run works
    clock = new Date(clock.getTime() + 1_000)
    await vi.waitFor(() => expect(lockJson()?.expires_at).not.toBe(first), {timeout: 10_000, interval: 20})

    // Then the lock was extended conditionally, is still ours, and another run is refused
    expect(lockJson()).toMatchObject({run_id: 'run-1', expires_at: '2024-05-01T12:00:01.300Z'})
    const renewals = server.s3.putRecords().filter((put) => put.key === LOCK_KEY && put.ifMatch !== undefined)
    expect(renewals.length).toBeGreaterThan(0)
    expect(held.signal.aborted).toBe(false)
    await expect(storeWith().acquireLock(TARGET, holder('host-a', 8, 'run-2'))).rejects.toBeInstanceOf(
      StoreConflictError,
    )
    expect(await held.release()).toBe(true)
    expect(lockJson()).toBeUndefined()
  })

  it('is lost when someone removes it (unlock --force): its signal aborts, and its release leaves the next holder alone', async () => {
    const store = storeWith({lockTtlMs: 300})
    const lost: string[] = []
    const held = await store.holdLock(TARGET, holder('host-a', 7, 'run-1'), {onLost: (reason) => lost.push(reason)})

    // When the lock is removed and another run takes it
    await removeRunLock(storeWith(), TARGET, {force: true, now: clock})
    await storeWith().acquireLock(TARGET, holder('host-a', 8, 'run-2'))

    // Then the next renewal is refused and the holder learns it lost the lock
    await vi.waitFor(() => expect(held.signal.aborted).toBe(true), {timeout: 10_000, interval: 20})
    expect(held.lostReason).toContain('removed or taken over')
    expect(lost).toHaveLength(1)
    expect(await held.release()).toBe(false)
    expect(lockJson()).toMatchObject({run_id: 'run-2'})
  })
})

describe('unlock', () => {
  it('with no lock says so and removes nothing', async () => {
    await expect(removeRunLock(storeWith(), TARGET, {force: false, now: clock})).resolves.toMatchObject({
      status: 'none',
      removed: null,
    })
  })

  it('refuses a live lock without --force, naming its holder, and removes it with --force', async () => {
    await storeWith().acquireLock(TARGET, holder('host-b', 9, 'run-live'))
    const refused = await removeRunLock(storeWith(), TARGET, {force: false, now: clock}).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(LockHeldError)
    expect((refused as Error).message).toContain('host-b:9 (run run-live)')
    expect(lockJson()).toMatchObject({run_id: 'run-live'})

    const forced = await removeRunLock(storeWith(), TARGET, {force: true, now: clock})
    expect(forced).toMatchObject({
      status: 'removed',
      removed: {run_id: 'run-live'},
      reason: expect.stringContaining('forced'),
    })
    expect(lockJson()).toBeUndefined()
  })

  it('removes an expired lock, and one whose holder died on this host, without --force', async () => {
    await storeWith().acquireLock(TARGET, holder('host-b', 9, 'run-old'))
    clock = new Date(clock.getTime() + 61_000)
    await expect(removeRunLock(storeWith(), TARGET, {force: false, now: clock})).resolves.toMatchObject({
      status: 'removed',
      reason: 'expired at 2024-05-01T12:01:00.000Z',
    })

    await storeWith().acquireLock(TARGET, holder('host-a', 4242, 'run-killed'))
    await expect(removeRunLock(storeWith(), TARGET, {force: false, now: clock})).resolves.toMatchObject({
      status: 'removed',
      reason: expect.stringContaining('pid 4242 on host-a'),
    })
    expect(lockJson()).toBeUndefined()
  })

  it('an unreadable lock is refused without --force and removed with it', async () => {
    server.s3.putObject(BUCKET, LOCK_KEY, 'not json')
    await expect(removeRunLock(storeWith(), TARGET, {force: false, now: clock})).rejects.toBeInstanceOf(LockHeldError)
    await expect(removeRunLock(storeWith(), TARGET, {force: true, now: clock})).resolves.toMatchObject({
      status: 'removed',
      removed: null,
    })
    expect(lockJson()).toBeUndefined()
  })
})
