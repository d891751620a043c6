import {S3Client} from '@aws-sdk/client-s3'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {
  SnapshotStore,
  StoreConflictError,
  StoreCorruptError,
  StoreFailedError,
  SnapshotNotFoundError,
  type CommitResult,
  type SnapshotStoreOptions,
} from '../../src/store/index.js'
import {contentHash, type JsonObject} from '../../src/util/canonical-json.js'
import {startAwsServer} from '../support/aws/aws-server.js'

/**
 * The S3 merge store against the in-process AWS test server, through the real S3 client over HTTP. Every test
 * starts its own server and bucket, with a clock it can move.
 */

type Server = Awaited<ReturnType<typeof startAwsServer>>

const BUCKET = 'secretsync-merge-store'
const PREFIX = 'merged/'
const TARGET = 'production-us-east-1'

let server: Server
let s3: S3Client
let clock: Date

const clientOptions = () => ({
  endpoint: server.url,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
})

beforeEach(async () => {
  server = await startAwsServer()
  server.s3.createBucket(BUCKET)
  s3 = new S3Client(clientOptions())
  clock = new Date('2024-05-01T12:00:00.000Z')
})

afterEach(async () => {
  s3.destroy()
  await server.close()
})

const storeWith = (options: Partial<SnapshotStoreOptions> = {}, client: S3Client = s3): SnapshotStore =>
  new SnapshotStore(client, {bucket: BUCKET, prefix: PREFIX, retainVersions: 20, now: () => clock, ...options})

const putCount = (): number => server.controls.count({service: 's3', operation: 'PutObject'})

const keyOf = (name: string, target = TARGET): string => `${PREFIX}${target}/${name}`

function storedText(key: string): string {
  const object = server.s3.getObject(BUCKET, key)
  if (!object) throw new Error(`expected ${key} in the bucket; it holds ${server.s3.listKeys(BUCKET).join(', ')}`)
  return object.body.toString('utf8')
}

const storedJson = (key: string): Record<string, unknown> => JSON.parse(storedText(key)) as Record<string, unknown>

/** The rejection of a call that must fail. */
async function rejectionOf(call: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await call
  } catch (error) {
    return error as Error & Record<string, unknown>
  }
  throw new Error('expected the call to fail, it succeeded')
}

const base: Record<string, JsonObject> = {
  'app/db': {username: 'app', password: 'pw-one', port: 5432},
  'app/api': {token: 'tok-one', scopes: ['read', 'write']},
}

const commitOf = (store: SnapshotStore, secrets: Record<string, JsonObject>, runId = 'run-1', target = TARGET) =>
  store.commit(target, {secrets, sources: ['base', 'production'], runId})

describe('committing snapshots', () => {
  it('the first commit writes v1 and a latest.json that points at it', async () => {
    // Given an empty merge store
    const store = storeWith()

    // When the first merge result is committed
    const result = await commitOf(store, base)

    // Then v1 and latest.json exist, and v1 holds the content with its hashes
    expect(result).toMatchObject({status: 'created', version: 1, previousVersion: undefined})
    expect(result.changes).toEqual({added: ['app/api', 'app/db'], removed: [], changed: []})
    expect(server.s3.listKeys(BUCKET)).toEqual([keyOf('latest.json'), keyOf('v1.json')])
    expect(storedJson(keyOf('latest.json'))).toEqual({version: 1})
    expect(storedJson(keyOf('v1.json'))).toEqual({
      format: 1,
      target: TARGET,
      version: 1,
      created_at: '2024-05-01T12:00:00.000Z',
      run_id: 'run-1',
      sources: ['base', 'production'],
      secrets: base,
      hashes: {'app/api': contentHash(base['app/api']), 'app/db': contentHash(base['app/db'])},
    })
    expect(server.s3.getObject(BUCKET, keyOf('v1.json'))?.contentType).toBe('application/json')
    // ... both written conditionally: create-only, since there was no latest.json yet
    expect(server.s3.putRecords().map((r) => [r.key, r.ifNoneMatch, r.ifMatch])).toEqual([
      [keyOf('v1.json'), '*', undefined],
      [keyOf('latest.json'), '*', undefined],
    ])
  })

  it('re-committing the same content writes nothing', async () => {
    // Given a store whose latest snapshot holds the content
    const store = storeWith()
    await commitOf(store, base)
    const puts = putCount()

    // When the same content is committed by a later run
    const result = await commitOf(store, base, 'run-2')

    // Then it is unchanged and no PutObject was sent
    expect(result).toEqual({status: 'unchanged', version: 1, changes: {added: [], removed: [], changed: []}})
    expect(putCount()).toBe(puts)
    expect(await store.listVersions(TARGET)).toEqual([1])
  })

  it('the same content from a walk that was incomplete (or complete again) is a new version recording it', async () => {
    // Given v1 from a complete walk
    const store = storeWith()
    await commitOf(store, base)
    const reasons = ['source "base": 1 folder denied (403): secret/base/x/']

    // When the same content comes from an incomplete walk, then the same again, then from a complete walk
    const partial = await store.commit(TARGET, {secrets: base, sources: ['base'], runId: 'run-2', incomplete: reasons})
    const again = await store.commit(TARGET, {secrets: base, sources: ['base'], runId: 'run-3', incomplete: reasons})
    const whole = await store.commit(TARGET, {secrets: base, sources: ['base'], runId: 'run-4', incomplete: []})

    // Then v2 records why (read back by --sync-only), the repeat is unchanged, and v3 is complete again
    expect([partial.status, again.status, whole.status]).toEqual(['created', 'unchanged', 'created'])
    expect(storedJson(keyOf('v2.json')).incomplete).toEqual(reasons)
    expect((await store.read(TARGET, 2)).incomplete).toEqual(reasons)
    expect(storedJson(keyOf('v3.json'))).not.toHaveProperty('incomplete')
  })

  it('a change writes the next version, reports the changed paths and moves latest.json with If-Match', async () => {
    // Given v1
    const store = storeWith()
    await commitOf(store, base)
    const latestEtag = server.s3.getObject(BUCKET, keyOf('latest.json'))?.etag

    // When a secret changes, one is removed and one is added
    const next = {'app/db': {...base['app/db'], password: 'pw-two'}, 'app/cache': {url: 'redis://cache'}}
    const result = await commitOf(store, next, 'run-2')

    // Then v2 is created with exactly those changes, latest points at it and v1 is untouched
    expect(result).toMatchObject({status: 'created', version: 2, previousVersion: 1})
    expect(result.changes).toEqual({added: ['app/cache'], removed: ['app/api'], changed: ['app/db']})
    expect(storedJson(keyOf('latest.json'))).toEqual({version: 2})
    expect((await store.readLatest(TARGET))?.secrets).toEqual(next)
    expect((await store.read(TARGET, 1)).secrets).toEqual(base)
    expect(server.s3.putRecords().at(-1)).toMatchObject({key: keyOf('latest.json'), ifMatch: latestEtag})
  })

  it('a change of key order only is unchanged', async () => {
    // Given v1
    const store = storeWith()
    await commitOf(store, base)
    const puts = putCount()

    // When the same secrets arrive with their keys (and paths) in another order
    const reordered: Record<string, JsonObject> = {
      'app/api': {scopes: ['read', 'write'], token: 'tok-one'},
      'app/db': {port: 5432, password: 'pw-one', username: 'app'},
    }
    const result = await commitOf(store, reordered, 'run-2')

    // Then nothing is written
    expect(result.status).toBe('unchanged')
    expect(putCount()).toBe(puts)
  })

  it('a list reordered is a change (order of list items is content)', async () => {
    // Given v1
    const store = storeWith()
    await commitOf(store, base)

    // When only the order of a list's items changes
    const result = await commitOf(store, {...base, 'app/api': {token: 'tok-one', scopes: ['write', 'read']}}, 'run-2')

    // Then that secret changed
    expect(result).toMatchObject({status: 'created', version: 2, changes: {changed: ['app/api']}})
  })

  it('an orphaned snapshot above latest (a run that died before moving latest.json) does not block later commits', async () => {
    // Given v1 is latest and a crashed run left v2 behind
    const store = storeWith()
    await commitOf(store, base)
    server.s3.putObject(BUCKET, keyOf('v2.json'), storedText(keyOf('v1.json')))

    // When the next change is committed
    const result = await commitOf(store, {...base, 'app/new': {a: 1}}, 'run-3')

    // Then it takes the number above the orphan instead of failing on it, and the orphan is left alone
    expect(result).toMatchObject({status: 'created', version: 3, previousVersion: 1})
    expect(storedJson(keyOf('latest.json'))).toEqual({version: 3})
    expect(storedJson(keyOf('v2.json'))).toEqual(storedJson(keyOf('v1.json')))
  })
})

describe('two runs committing one target at once', () => {
  const contentOf = (run: string): Record<string, JsonObject> => ({'app/db': {password: `from-${run}`}})

  async function race(target: string, existing: boolean): Promise<void> {
    // Given two runs with their own store objects (and connections) on the same bucket
    const other = new S3Client(clientOptions())
    try {
      if (existing) await commitOf(storeWith(), {'app/db': {password: 'before'}}, 'run-0', target)
      const runs = ['run-a', 'run-b']

      // When both commit different content at the same time
      const settled = await Promise.allSettled([
        commitOf(storeWith(), contentOf('run-a'), 'run-a', target),
        commitOf(storeWith({}, other), contentOf('run-b'), 'run-b', target),
      ])

      // Then exactly one created a snapshot and the other failed with a conflict naming the target and the key
      const created = settled.flatMap((s, i) => (s.status === 'fulfilled' && s.value.status === 'created' ? [i] : []))
      const rejected = settled.flatMap((s, i) => (s.status === 'rejected' ? [{i, reason: s.reason as unknown}] : []))
      expect(created).toHaveLength(1)
      expect(rejected).toHaveLength(1)
      const winner = runs[created[0] ?? -1] ?? ''
      const loss = rejected[0]?.reason
      expect(loss).toBeInstanceOf(StoreConflictError)
      expect(loss).toMatchObject({code: 'STORE_CONFLICT', exitCode: 1})
      expect((loss as Error).message).toContain(`"${target}"`)
      expect((loss as Error).message).toMatch(new RegExp(`s3://${BUCKET}/${PREFIX}${target}/(v\\d+|latest)\\.json`))
      expect((loss as StoreConflictError).hint).toBe(
        'another secretsync run is active for this target; wait for it or check for a stale lock',
      )

      // ... and the store holds the winner's content, with nothing of the loser's anywhere
      const store = storeWith()
      const won = (settled[created[0] ?? -1] as PromiseFulfilledResult<CommitResult>).value
      expect(storedJson(`${PREFIX}${target}/latest.json`)).toEqual({version: won.version})
      expect((await store.read(target, won.version)).secrets).toEqual(contentOf(winner))
      const loser = runs.find((run) => run !== winner) ?? ''
      const bodies = server.s3.listKeys(BUCKET, `${PREFIX}${target}/`).map(storedText)
      expect(bodies.filter((body) => body.includes(`from-${loser}`))).toEqual([])
      expect(await store.listVersions(target)).toEqual(existing ? [1, won.version] : [won.version])
    } finally {
      other.destroy()
    }
  }

  it('on an empty store: one creates v1, the other is refused and writes nothing that stays', async () => {
    for (const round of [1, 2, 3]) await race(`race-empty-${round}`, false)
  })

  it('on an existing v1: one creates the next version, the other is refused', async () => {
    for (const round of [1, 2, 3]) await race(`race-existing-${round}`, true)
  })
})

/**
 * A client that, on the first PutObject of `key`, runs `around` with a `send` that forwards the request: tests use
 * it to slip another run in just before the write, or to send the write twice as a retry after a lost answer does.
 */
function clientInterceptingPut(key: string, around: (send: () => Promise<unknown>) => Promise<unknown>): S3Client {
  const client = new S3Client(clientOptions())
  let intercepted = false
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (intercepted || context.commandName !== 'PutObjectCommand' || (args.input as {Key?: string}).Key !== key) {
        return next(args)
      }
      intercepted = true
      return (await around(() => next(args))) as Awaited<ReturnType<typeof next>>
    },
    {step: 'initialize', name: 'interceptPut'},
  )
  return client
}

describe('lost races and lost answers', () => {
  it('a run whose snapshot landed but whose latest.json write lost removes its snapshot and fails', async () => {
    // Given run-b is about to move latest.json when run-a commits completely
    const contentA = {'app/db': {password: 'from-a'}}
    const client = clientInterceptingPut(keyOf('latest.json'), async (send) => {
      await commitOf(storeWith(), contentA, 'run-a')
      return send()
    })
    try {
      // When run-b finishes its commit
      const error = await rejectionOf(commitOf(storeWith({}, client), {'app/db': {password: 'from-b'}}, 'run-b'))

      // Then run-b fails on latest.json, its v1 is gone, and run-a's v2 is the only and latest snapshot
      expect(error).toBeInstanceOf(StoreConflictError)
      expect(error.message).toContain(`s3://${BUCKET}/${keyOf('latest.json')}`)
      expect(await storeWith().listVersions(TARGET)).toEqual([2])
      expect((await storeWith().readLatest(TARGET))?.secrets).toEqual(contentA)
    } finally {
      client.destroy()
    }
  })

  it('a write retried after its answer was lost (412 on the retry) is recognised as our own', async () => {
    // Given a client whose first snapshot write and first latest.json write are each sent twice, like a retry
    // after the first answer was lost: the second send fails its precondition because the first one landed
    const resend = async (send: () => Promise<unknown>) => {
      await send()
      return send()
    }
    const snapshotClient = clientInterceptingPut(keyOf('v1.json'), resend)
    const pointerClient = clientInterceptingPut(keyOf('latest.json'), resend)
    try {
      // When each commits
      const first = await commitOf(storeWith({}, snapshotClient), base)
      const second = await commitOf(storeWith({}, pointerClient), {...base, 'app/x': {a: 1}}, 'run-2')

      // Then both commits succeed and the store is consistent
      expect(server.s3.putRecords().filter((r) => r.status === 412)).toHaveLength(2)
      expect(first).toMatchObject({status: 'created', version: 1})
      expect(second).toMatchObject({status: 'created', version: 2})
      expect(storedJson(keyOf('latest.json'))).toEqual({version: 2})
    } finally {
      snapshotClient.destroy()
      pointerClient.destroy()
    }
  })
})

describe('server-side encryption', () => {
  async function writeEverything(store: SnapshotStore): Promise<void> {
    await commitOf(store, base)
    await commitOf(store, {...base, 'app/x': {a: 1}}, 'run-2')
    await store.writeApplied(TARGET, '111111111111', 'us-east-1', {
      version: 2,
      applied_at: clock.toISOString(),
      secrets: {},
    })
    const lock = await store.acquireLock(TARGET, {owner: 'host-1', runId: 'run-2', ttlMs: 60_000})
    await store.releaseLock(lock)
  }

  it('without a KMS key every PutObject asks for SSE-S3 (AES256)', async () => {
    // Given a store without kms_key_id
    // When it writes snapshots, pointers, an applied record and a lock
    await writeEverything(storeWith())

    // Then every PutObject carried AES256 and no KMS key
    const records = server.s3.putRecords()
    expect(records.length).toBeGreaterThanOrEqual(6)
    expect(records.map((r) => [r.serverSideEncryption, r.kmsKeyId])).toEqual(records.map(() => ['AES256', undefined]))
  })

  it('with a KMS key every PutObject asks for SSE-KMS with that key', async () => {
    // Given a store with kms_key_id
    // When it writes snapshots, pointers, an applied record and a lock
    await writeEverything(storeWith({kmsKeyId: 'alias/secretsync'}))

    // Then every PutObject carried aws:kms and the key id, and S3 stored them so
    const records = server.s3.putRecords()
    expect(records.length).toBeGreaterThanOrEqual(6)
    expect(records.map((r) => [r.serverSideEncryption, r.kmsKeyId])).toEqual(
      records.map(() => ['aws:kms', 'alias/secretsync']),
    )
    expect(server.s3.getObject(BUCKET, keyOf('v2.json'))?.sse).toMatchObject({
      serverSideEncryption: 'aws:kms',
      kmsKeyId: 'alias/secretsync',
    })
  })
})

describe('retention', () => {
  it('keeps the newest retain_versions snapshots, deleting the oldest first', async () => {
    // Given a store that keeps 3 versions
    const store = storeWith({retainVersions: 3})

    // When five different contents are committed
    const results: CommitResult[] = []
    for (const n of [1, 2, 3, 4, 5]) results.push(await commitOf(store, {'app/db': {password: `pw-${n}`}}, `run-${n}`))

    // Then versions 3..5 remain, each commit past the third pruned the oldest one, and latest is 5
    expect(await store.listVersions(TARGET)).toEqual([3, 4, 5])
    expect(results.map((r) => (r.status === 'created' ? r.pruned : undefined))).toEqual([[], [], [], [1], [2]])
    expect(storedJson(keyOf('latest.json'))).toEqual({version: 5})
  })

  it('never deletes the latest version, even with retain_versions 1', async () => {
    // Given a store that keeps 1 version
    const store = storeWith({retainVersions: 1})

    // When two contents are committed
    await commitOf(store, base)
    await commitOf(store, {'app/db': {password: 'other'}}, 'run-2')

    // Then only the latest remains and it reads back
    expect(await store.listVersions(TARGET)).toEqual([2])
    expect((await store.readLatest(TARGET))?.version).toBe(2)
  })

  it('a failed deletion does not undo the commit: it is reported with the result', async () => {
    // Given a store that keeps 1 version, v1, and S3 failing DeleteObject
    const client = new S3Client({...clientOptions(), maxAttempts: 1})
    try {
      const store = storeWith({retainVersions: 1}, client)
      await commitOf(store, base)
      server.controls.injectFault({service: 's3', operation: 'DeleteObject', kind: '5xx', count: 1})

      // When v2 is committed
      const result = await commitOf(store, {'app/db': {password: 'other'}}, 'run-2')

      // Then v2 is latest, v1 stays for the next commit to prune, and the failure is in the result
      expect(result).toMatchObject({status: 'created', version: 2, pruned: []})
      expect(result.status === 'created' && result.pruneError).toMatchObject({
        code: 'STORE_FAILED',
        operation: 'DeleteObject',
        key: keyOf('v1.json'),
      })
      expect(storedJson(keyOf('latest.json'))).toEqual({version: 2})
      expect(await store.listVersions(TARGET)).toEqual([1, 2])
    } finally {
      client.destroy()
    }
  })
})

describe('listing versions', () => {
  it('follows every page and sorts numerically, ignoring other keys and other targets', async () => {
    // Given snapshot files out of lexical order, latest.json, applied records, and a target sharing a name prefix
    for (const n of [1, 2, 9, 10, 11]) server.s3.putObject(BUCKET, keyOf(`v${n}.json`), '{}')
    server.s3.putObject(BUCKET, keyOf('latest.json'), '{"version": 11}')
    server.s3.putObject(BUCKET, keyOf('applied/111111111111-us-east-1.json'), '{}')
    server.s3.putObject(BUCKET, keyOf('v3.json.tmp'), '{}')
    server.s3.putObject(BUCKET, keyOf('v7.json', `${TARGET}-staging`), '{}')
    server.s3.putObject(BUCKET, `${PREFIX}locks/${TARGET}.json`, '{}')
    const store = storeWith({listPageSize: 2})

    // When the versions are listed two keys per page
    const versions = await store.listVersions(TARGET)

    // Then all of them come back in numeric order, over several pages
    expect(versions).toEqual([1, 2, 9, 10, 11])
    expect(server.controls.count({service: 's3', operation: 'ListObjectsV2'})).toBeGreaterThanOrEqual(4)
  })

  it('an unknown target has no versions and no latest snapshot', async () => {
    const store = storeWith()
    expect(await store.listVersions('nobody')).toEqual([])
    expect(await store.latest('nobody')).toBeUndefined()
    expect(await store.readLatest('nobody')).toBeUndefined()
  })
})

describe('planning a commit (dry run)', () => {
  it('reports what a commit would do and writes nothing', async () => {
    // Given v1
    const store = storeWith()
    await commitOf(store, base)
    const puts = putCount()

    // When a change and the unchanged content are planned
    const changed = await store.plan(TARGET, {...base, 'app/db': {password: 'new'}})
    const same = await store.plan(TARGET, base)

    // Then the plans say v2 with the changed path, and unchanged at v1, without any write
    expect(changed).toEqual({
      status: 'created',
      version: 2,
      previousVersion: 1,
      changes: {added: [], removed: [], changed: ['app/db']},
    })
    expect(same).toEqual({
      status: 'unchanged',
      version: 1,
      previousVersion: 1,
      changes: {added: [], removed: [], changed: []},
    })
    expect(putCount()).toBe(puts)
    expect(await store.listVersions(TARGET)).toEqual([1])
  })

  it('on an empty store plans v1 with every path added', async () => {
    const plan = await storeWith().plan(TARGET, base)
    expect(plan).toEqual({
      status: 'created',
      version: 1,
      previousVersion: undefined,
      changes: {added: ['app/api', 'app/db'], removed: [], changed: []},
    })
    expect(putCount()).toBe(0)
  })
})

describe('reading stored objects that are not what secretsync wrote', () => {
  it('corrupt snapshot JSON is an error naming the key, without quoting the body', async () => {
    // Given latest.json points at a v1 whose JSON is cut short
    server.s3.putObject(BUCKET, keyOf('latest.json'), '{"version": 1}')
    server.s3.putObject(BUCKET, keyOf('v1.json'), '{"format": 1, "secrets": {"app/db": {"password": "hunter2-secret"')
    const store = storeWith()

    // When the latest snapshot is read, or a commit is attempted
    const error = await rejectionOf(store.readLatest(TARGET))
    const commitError = await rejectionOf(commitOf(store, base))

    // Then both fail clearly, naming the object, without the secret value, and nothing is written
    expect(error).toBeInstanceOf(StoreCorruptError)
    expect(error).toMatchObject({code: 'STORE_CORRUPT', exitCode: 1})
    expect(error.message).toContain(`s3://${BUCKET}/${keyOf('v1.json')}`)
    expect(error.message).toContain('not valid JSON')
    expect(error.message).not.toContain('hunter2')
    expect(commitError).toBeInstanceOf(StoreCorruptError)
    expect(putCount()).toBe(0)
  })

  it('a snapshot whose content does not match its hashes is corrupt', async () => {
    // Given v1 edited by hand after it was written
    const store = storeWith()
    await commitOf(store, base)
    const tampered = storedJson(keyOf('v1.json'))
    tampered.secrets = {...base, 'app/db': {password: 'edited'}}
    server.s3.putObject(BUCKET, keyOf('v1.json'), JSON.stringify(tampered))

    // When it is read
    const error = await rejectionOf(store.read(TARGET, 1))

    // Then the error names the key and the path whose hash fails
    expect(error).toBeInstanceOf(StoreCorruptError)
    expect(error.message).toContain(keyOf('v1.json'))
    expect(error.message).toContain('"app/db"')
    expect(error.message).not.toContain('edited')
  })

  it('a snapshot edited by hand is corrupt to a commit of its original content too (the unchanged check reads every byte)', async () => {
    // Given v1 with one value edited in place, its hashes still those of the content it was written with
    const store = storeWith()
    await commitOf(store, base)
    const body = storedText(keyOf('v1.json'))
    server.s3.putObject(BUCKET, keyOf('v1.json'), body.replace('"pw-one"', '"pw-two"'))

    // When the original content is committed again
    const error = await rejectionOf(commitOf(store, base, 'run-2'))

    // Then that is corrupt, not unchanged, and nothing is written
    expect(error).toBeInstanceOf(StoreCorruptError)
    expect(error.message).toContain('"app/db"')
    expect(putCount()).toBe(2) // v1 and latest.json, by the first commit
  })

  it('a snapshot written another way (indented, keys reordered) with the same content is unchanged', async () => {
    // Given v1 re-serialised with indentation and its fields in another order
    const store = storeWith()
    await commitOf(store, base)
    const {secrets, hashes, ...head} = storedJson(keyOf('v1.json'))
    server.s3.putObject(BUCKET, keyOf('v1.json'), JSON.stringify({hashes, secrets, ...head}, null, 2))
    const puts = putCount()

    // When the same content is committed again, from other sources
    const result = await store.commit(TARGET, {secrets: base, sources: ['other'], runId: 'run-2'})

    // Then it is unchanged and nothing is written
    expect(result).toMatchObject({status: 'unchanged', version: 1})
    expect(putCount()).toBe(puts)
  })

  it('a corrupt latest.json is an error naming it', async () => {
    server.s3.putObject(BUCKET, keyOf('latest.json'), '{"version": "three"}')
    const error = await rejectionOf(storeWith().latest(TARGET))
    expect(error).toBeInstanceOf(StoreCorruptError)
    expect(error.message).toContain(`s3://${BUCKET}/${keyOf('latest.json')}`)
    expect(error.message).toContain('"version"')
  })

  it('a version that is not stored is SNAPSHOT_NOT_FOUND naming the key', async () => {
    const store = storeWith()
    await commitOf(store, base)
    const error = await rejectionOf(store.read(TARGET, 7))
    expect(error).toBeInstanceOf(SnapshotNotFoundError)
    expect(error).toMatchObject({code: 'SNAPSHOT_NOT_FOUND'})
    expect(error.message).toContain(keyOf('v7.json'))
  })
})

describe('S3 failures', () => {
  it('a call that keeps failing is STORE_FAILED with operation, bucket and key, and no body', async () => {
    // Given S3 answers 503 to every PutObject for a while
    server.controls.injectFault({service: 's3', operation: 'PutObject', kind: '5xx', status: 503, count: 10})
    const client = new S3Client({...clientOptions(), maxAttempts: 2})
    try {
      // When a commit writes its snapshot
      const error = await rejectionOf(commitOf(storeWith({runId: 'run-1'}, client), base))

      // Then the failure says which call on which object failed, after how long and how many retries
      expect(error).toBeInstanceOf(StoreFailedError)
      expect(error).toMatchObject({code: 'STORE_FAILED', operation: 'PutObject', bucket: BUCKET, key: keyOf('v1.json')})
      expect(error.message).toMatch(
        /^\[run=run-1\] PutObject s3:\/\/secretsync-merge-store\/merged\/production-us-east-1\/v1\.json after \d+ ms \(1 retry\): /,
      )
      expect(error.message).not.toContain('pw-one')
      expect(server.s3.listKeys(BUCKET)).toEqual([])
    } finally {
      client.destroy()
    }
  })

  it('a hung call fails once the client times out', async () => {
    // Given GetObject never answers and a client with a request timeout that throws
    server.controls.injectFault({service: 's3', operation: 'GetObject', kind: 'hang', count: 5})
    const client = new S3Client({
      ...clientOptions(),
      maxAttempts: 1,
      requestHandler: {requestTimeout: 300, throwOnRequestTimeout: true},
    })
    try {
      // When latest.json is read
      const error = await rejectionOf(storeWith({}, client).latest(TARGET))

      // Then it is a store failure naming the object
      expect(error).toMatchObject({code: 'STORE_FAILED', operation: 'GetObject', key: keyOf('latest.json')})
    } finally {
      client.destroy()
    }
  })

  it('a bucket that does not exist is STORE_FAILED naming it', async () => {
    const error = await rejectionOf(storeWith({bucket: 'no-such-bucket'}).latest(TARGET))
    expect(error).toMatchObject({code: 'STORE_FAILED', bucket: 'no-such-bucket'})
    expect(error.message).toContain('NoSuchBucket')
  })
})

describe('the run lock', () => {
  const lockKey = `${PREFIX}locks/${TARGET}.json`

  it('is created with If-None-Match and holds owner, run id and expiry', async () => {
    // Given no lock
    const store = storeWith()

    // When a run acquires it for one minute
    const lock = await store.acquireLock(TARGET, {owner: 'host-1', runId: 'run-1', ttlMs: 60_000})

    // Then the lock object says who holds it until when
    expect(storedJson(lockKey)).toEqual({owner: 'host-1', run_id: 'run-1', expires_at: '2024-05-01T12:01:00.000Z'})
    expect(lock).toMatchObject({target: TARGET, runId: 'run-1', expiresAt: new Date('2024-05-01T12:01:00.000Z')})
    expect(server.s3.putRecords()).toMatchObject([{key: lockKey, ifNoneMatch: '*'}])
  })

  it('a live lock held by another run is a conflict naming the holder', async () => {
    // Given run-1 holds the lock
    const store = storeWith()
    await store.acquireLock(TARGET, {owner: 'host-1', runId: 'run-1', ttlMs: 60_000})

    // When run-2 tries half a minute later
    clock = new Date(clock.getTime() + 30_000)
    const error = await rejectionOf(storeWith().acquireLock(TARGET, {owner: 'host-2', runId: 'run-2', ttlMs: 60_000}))

    // Then it is refused and the lock is unchanged
    expect(error).toBeInstanceOf(StoreConflictError)
    expect(error.message).toContain(`s3://${BUCKET}/${lockKey}`)
    expect(error.message).toContain('host-1 (run run-1)')
    expect(storedJson(lockKey)).toMatchObject({run_id: 'run-1'})
  })

  it('a stale lock is taken over with If-Match, and the old holder can no longer release it', async () => {
    // Given run-1's lock has expired
    const store = storeWith()
    const stale = await store.acquireLock(TARGET, {owner: 'host-1', runId: 'run-1', ttlMs: 60_000})
    clock = new Date(clock.getTime() + 61_000)

    // When run-2 acquires it, and then run-1 (still alive, too slow) releases its lock
    const lock = await storeWith().acquireLock(TARGET, {owner: 'host-2', runId: 'run-2', ttlMs: 60_000})
    const releasedByOld = await store.releaseLock(stale)

    // Then run-2 holds it, taken over conditionally, and run-1's release did not delete it
    expect(lock.runId).toBe('run-2')
    expect(server.s3.putRecords().at(-1)).toMatchObject({key: lockKey, ifMatch: stale.etag, status: 200})
    expect(releasedByOld).toBe(false)
    expect(storedJson(lockKey)).toMatchObject({owner: 'host-2', run_id: 'run-2'})
  })

  it('release deletes our own lock, after which another run can acquire it', async () => {
    // Given run-1 holds the lock
    const store = storeWith()
    const lock = await store.acquireLock(TARGET, {owner: 'host-1', runId: 'run-1', ttlMs: 60_000})

    // When it releases it
    const released = await store.releaseLock(lock)

    // Then the object is gone and run-2 gets the lock at once
    expect(released).toBe(true)
    expect(server.s3.getObject(BUCKET, lockKey)).toBeUndefined()
    await expect(store.acquireLock(TARGET, {owner: 'host-2', runId: 'run-2', ttlMs: 60_000})).resolves.toMatchObject({
      runId: 'run-2',
    })
  })
})

describe('applied records', () => {
  it('round-trip through applied/{account}-{region}.json', async () => {
    // Given nothing applied yet
    const store = storeWith()
    expect(await store.readApplied(TARGET, '111111111111', 'eu-west-1')).toBeUndefined()

    // When a run records what it applied
    const record = {
      version: 3,
      applied_at: '2024-05-01T12:00:05.000Z',
      secrets: {
        'app/db': {hash: contentHash(base['app/db']), version_id: 'v-1'},
        constructor: {hash: 'h', version_id: 'v-2'},
      },
    }
    await store.writeApplied(TARGET, '111111111111', 'eu-west-1', record)

    // Then it reads back equal from the documented key, and absent names are absent (even Object.prototype ones)
    const read = await store.readApplied(TARGET, '111111111111', 'eu-west-1')
    expect(read).toEqual(record)
    expect(storedJson(keyOf('applied/111111111111-eu-west-1.json'))).toEqual(record)
    expect(read?.secrets['toString']).toBeUndefined()
    // ... and another account-region has its own record
    expect(await store.readApplied(TARGET, '111111111111', 'us-east-1')).toBeUndefined()
  })

  it('a malformed applied record is corrupt, naming the key', async () => {
    server.s3.putObject(
      BUCKET,
      keyOf('applied/111111111111-eu-west-1.json'),
      '{"version": 1, "applied_at": "2024-05-01T00:00:00Z", "secrets": {"a": {"hash": 1}}}',
    )
    const error = await rejectionOf(storeWith().readApplied(TARGET, '111111111111', 'eu-west-1'))
    expect(error).toBeInstanceOf(StoreCorruptError)
    expect(error.message).toContain('applied/111111111111-eu-west-1.json')
  })
})
