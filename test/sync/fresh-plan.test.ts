import {S3Client} from '@aws-sdk/client-s3'
import {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {SnapshotStore, type LockOwner} from '../../src/store/index.js'
import {syncTarget, type SyncSettings} from '../../src/sync/sync-target.js'
import type {JsonObject} from '../../src/util/canonical-json.js'
import {recordingRuntime} from '../support/runtime.js'
import {startTestStack, type TestStack} from '../support/stack.js'

/**
 * Defect 5 (issue 10): a run that planned before another run applied newer values must not write the older
 * ones. Two runs of one target, interleaved at the worst moment — after run A planned, before it takes the lock —
 * with the real store, Secrets Manager client and the test stack over HTTP.
 */

const BUCKET = 'merge-store'
const TARGET = 'app'
const REGION = 'us-east-1'

let stack: TestStack
let s3: S3Client
const clients: SecretsManagerClient[] = []

/** A store that runs `beforeLock` once, right before the lock is taken: where the other run slips in. */
class InterleavingStore extends SnapshotStore {
  beforeLock?: () => Promise<void>

  override async holdLock(target: string, owner: LockOwner, options?: Parameters<SnapshotStore['holdLock']>[2]) {
    const hook = this.beforeLock
    this.beforeLock = undefined
    await hook?.()
    return super.holdLock(target, owner, options)
  }
}

const storeOptions = {bucket: BUCKET, prefix: 'merged/', retainVersions: 20, now: () => new Date()}
const settings: SyncSettings = {
  dryRun: false,
  adopt: false,
  showValues: false,
  deleteOrphans: true,
  maxDeletions: 25,
  recoveryWindowDays: 7,
  forceDelete: false,
  ownership: {key: 'managed-by', value: 'secretsync'},
}

beforeEach(async () => {
  stack = await startTestStack({aws: {buckets: [BUCKET]}})
  s3 = new S3Client({endpoint: stack.aws.url, region: REGION, forcePathStyle: true, credentials: stack.aws.base})
})
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy()
  s3.destroy()
  await stack.close()
})

/** One run syncing `desired` (snapshot `version`) through `store`. */
const run = (
  store: SnapshotStore,
  desired: Record<string, JsonObject>,
  version: number,
  overrides: Partial<SyncSettings> = {},
) =>
  syncTarget({
    target: {name: TARGET, region: REGION, prefix: 'app/', tags: {}},
    desired: new Map(Object.entries(desired)),
    snapshotVersion: version,
    incomplete: [],
    settings: {...settings, ...overrides},
    runtime: recordingRuntime('info'),
    store,
    limiter: {acquire: async () => {}},
    connect: async () => {
      const client = new SecretsManagerClient({endpoint: stack.aws.url, region: REGION, credentials: stack.aws.base})
      clients.push(client)
      return {client, accountId: stack.aws.base.accountId}
    },
  }).then((staged) => staged.finish({allowed: true}))

const commit = (store: SnapshotStore, secrets: Record<string, JsonObject>, runId: string) =>
  store.commit(TARGET, {secrets, sources: ['base'], runId})
const valueOf = (name: string) =>
  JSON.parse(stack.aws.secretsManager.getSecret(stack.aws.base.accountId, REGION, name)?.value ?? 'null') as unknown
const calls = (operation: string) => stack.controls.count({service: 'secretsmanager', operation})

const INIT = {db: {password: 'init'}, api: {key: 'k-init'}}
const OLD = {db: {password: 'old'}, api: {key: 'k-old'}}
const NEW = {db: {password: 'new'}, api: {key: 'k-new'}}

describe('a plan made before another run applied newer values', () => {
  it('is re-validated under the lock: AWS ends on the newer values and the older run writes nothing', async () => {
    // Given AWS holds INIT (snapshot v1, applied), and run A plans v2 (OLD values) as updates
    const store = new InterleavingStore(s3, storeOptions)
    await commit(store, INIT, 'run-0')
    await run(new SnapshotStore(s3, storeOptions), INIT, 1)
    await commit(store, OLD, 'run-a')
    // When, after A planned and before A locks, run B commits v3 (NEW) and syncs it completely
    store.beforeLock = async () => {
      const other = new SnapshotStore(s3, storeOptions)
      const committed = await commit(other, NEW, 'run-b')
      expect(await run(other, NEW, committed.version)).toMatchObject({status: 'applied', snapshot_version: 3})
    }
    stack.controls.resetCounters()
    const a = await run(store, OLD, 2)

    // Then AWS holds NEW, run A re-planned from v3 and found nothing to do, and only B wrote
    expect(valueOf('app/db')).toEqual({password: 'new'})
    expect(valueOf('app/api')).toEqual({key: 'k-new'})
    expect(a).toMatchObject({status: 'applied', snapshot_version: 3, error: null, changes: []})
    expect(calls('PutSecretValue')).toBe(2)
    // ... and the applied record names the snapshot AWS now holds
    expect((await store.readApplied(TARGET, stack.aws.base.accountId, REGION))?.version).toBe(3)
  })

  it('a newer snapshot committed by a run that did not sync it (it lost the lock race) is what A applies', async () => {
    // Given AWS holds OLD from an earlier run of v1
    const store = new InterleavingStore(s3, storeOptions)
    await commit(store, OLD, 'run-0')
    await run(new SnapshotStore(s3, storeOptions), OLD, 1)
    const aPlans = {db: {password: 'a-version'}, api: {key: 'k-a'}}
    await commit(store, aPlans, 'run-a')

    // When run B commits v3 (NEW) between A's plan and A's lock, and does not get to sync it
    store.beforeLock = async () => {
      await commit(new SnapshotStore(s3, storeOptions), NEW, 'run-b')
    }
    const a = await run(store, aPlans, 2)

    // Then A applies the newest snapshot, never its own older one
    expect(a).toMatchObject({status: 'applied', snapshot_version: 3, error: null})
    expect(a.changes.map((c) => [c.action, c.name, c.error])).toEqual([
      ['update', 'app/api', null],
      ['update', 'app/db', null],
    ])
    expect(valueOf('app/db')).toEqual({password: 'new'})
    expect(
      stack.aws.secretsManager
        .writeCalls({operation: 'PutSecretValue'})
        .map((w) => w.secretId)
        .sort(),
    ).toEqual(['app/api', 'app/db'])
  })

  it('--version N (pinned) syncs snapshot N even though a newer one is latest', async () => {
    const store = new SnapshotStore(s3, storeOptions)
    await commit(store, OLD, 'run-1')
    await commit(store, NEW, 'run-2')
    expect(await run(store, OLD, 1, {pinnedVersion: true})).toMatchObject({
      status: 'applied',
      snapshot_version: 1,
      error: null,
    })
    expect(valueOf('app/db')).toEqual({password: 'old'})
    // ... while an unpinned run holding v1 content is superseded by v2
    expect(await run(store, OLD, 1)).toMatchObject({status: 'applied', snapshot_version: 2})
    expect(valueOf('app/db')).toEqual({password: 'new'})
  })

  it('the same snapshot applied by another run in between: A re-lists and creates nothing twice', async () => {
    // Given two runs planning the same snapshot v1 against an empty account
    const store = new InterleavingStore(s3, storeOptions)
    await commit(store, NEW, 'run-a')
    store.beforeLock = async () => {
      await run(new SnapshotStore(s3, storeOptions), NEW, 1)
    }

    // When B creates everything after A planned its creates
    const a = await run(store, NEW, 1)

    // Then A sees B's writes under the lock: no second CreateSecret, no error, nothing left to do
    expect(a).toMatchObject({status: 'applied', error: null, changes: []})
    expect(calls('CreateSecret')).toBe(2)
    expect(calls('PutSecretValue')).toBe(0)
  })
})

describe('a lock lost while applying', () => {
  it("stops the target's writes, reports why, and leaves the applied record to the run that holds the lock now", async () => {
    // Given locks that live 300 ms (renewed every 100 ms) and slow creates, 8 in flight at a time
    const store = new SnapshotStore(s3, {...storeOptions, lockTtlMs: 300})
    const many = Object.fromEntries(
      Array.from({length: 24}, (_, i) => [`s${String(i).padStart(2, '0')}`, {n: String(i)}]),
    )
    await commit(store, many, 'run-a')
    stack.controls.setLatency({service: 'secretsmanager', operation: 'CreateSecret', ms: 1500})

    // When, while the first writes are in flight, someone removes the lock and another run takes it
    const syncing = run(store, many, 1)
    await vi.waitFor(() => expect(calls('CreateSecret')).toBeGreaterThan(0), {timeout: 30_000, interval: 10})
    stack.aws.s3.deleteObject(BUCKET, `merged/locks/${TARGET}.json`)
    await new SnapshotStore(s3, storeOptions).acquireLock(TARGET, {owner: 'other:1', runId: 'run-b'})
    const a = await syncing

    // Then A started no write after it lost the lock, says so, and wrote no applied record
    const written = a.changes.filter((change) => change.error === null)
    expect(written.length).toBeGreaterThan(0)
    expect(written.length).toBeLessThan(24)
    expect(calls('CreateSecret')).toBe(written.length)
    expect(
      a.changes
        .filter((change) => change.error !== null)
        .every((change) => change.error?.startsWith('not applied: the run lock')),
    ).toBe(true)
    expect(a).toMatchObject({
      status: 'failed',
      error: expect.stringContaining(
        `removed or taken over by another run; stopped writing after ${written.length} change(s)`,
      ),
    })
    expect(await store.readApplied(TARGET, stack.aws.base.accountId, REGION)).toBeUndefined()
    expect(
      JSON.parse(stack.aws.s3.getObject(BUCKET, `merged/locks/${TARGET}.json`)?.body.toString('utf8') ?? '{}'),
    ).toMatchObject({run_id: 'run-b'})
  })
})
