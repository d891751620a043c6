import {S3Client} from '@aws-sdk/client-s3'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {TargetConfig} from '../../src/config/schema.js'
import {
  createMemoryDiscoveryCache,
  createStoreDiscoveryCache,
  DiscoveryObjectStore,
  readOnlyDiscoveryCache,
  type DiscoveryCache,
} from '../../src/discovery/index.js'
import {recordingRuntime} from '../support/runtime.js'
import {startTestStack, type TestStack} from '../support/stack.js'
import {
  discoveryBlock,
  includedIds,
  runDiscovery,
  seedOrganization,
  stackClients,
  type OrgModel,
} from './org-fixture.js'

// discoverTargets end to end against the in-process AWS server: the cache (memory and merge store), `noCache`,
// disabled and failing blocks, templates and name collisions, and the report.

const BUCKET = 'merge-store'
const START = Date.UTC(2024, 4, 1, 12)
const HOUR = 3_600_000

let stack: TestStack
let model: OrgModel
let clients: ReturnType<typeof stackClients>
let s3: S3Client

beforeEach(async () => {
  stack = await startTestStack({aws: {buckets: [BUCKET]}})
  model = seedOrganization(stack)
  clients = stackClients(stack)
  s3 = new S3Client({
    endpoint: stack.aws.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
  })
})

afterEach(async () => {
  clients.destroy()
  s3.destroy()
  await stack.close()
})

const orgCalls = (): number => stack.controls.count({service: 'organizations'})
const production = () => discoveryBlock({filters: [{tag: 'Environment', values: ['production']}], cache_ttl: '1h'})
const storeCache = (kmsKeyId?: string): DiscoveryCache =>
  createStoreDiscoveryCache(new DiscoveryObjectStore(s3, {bucket: BUCKET, prefix: 'merged/', kmsKeyId}))

describe('the cache', () => {
  it('answers a second run within cache_ttl from memory, with zero Organizations calls', async () => {
    // Given a first run that queried AWS
    const cache = createMemoryDiscoveryCache()
    const first = await runDiscovery(clients, [production()], {cache, now: () => START})
    expect(first.report.blocks[0]).toMatchObject({status: 'discovered', cache: 'miss'})
    const before = orgCalls()
    expect(before).toBeGreaterThan(300)

    // When discovery runs again 59 minutes later
    const second = await runDiscovery(clients, [production()], {cache, now: () => START + 59 * 60_000})

    // Then nothing is asked of Organizations, and the result is the same
    expect(orgCalls()).toBe(before)
    expect(second.report.blocks[0]).toMatchObject({
      status: 'cached',
      cache: 'hit',
      discovered_at: new Date(START).toISOString(),
    })
    expect(second.targets).toEqual(first.targets)
  })

  it('queries again once cache_ttl has passed', async () => {
    const cache = createMemoryDiscoveryCache()
    await runDiscovery(clients, [production()], {cache, now: () => START})
    const before = orgCalls()
    const later = await runDiscovery(clients, [production()], {cache, now: () => START + HOUR})
    expect(later.report.blocks[0]?.cache).toBe('miss')
    expect(orgCalls()).toBe(2 * before)
  })

  it('with noCache queries AWS although the cache is fresh, and still refreshes it', async () => {
    const cache = createMemoryDiscoveryCache()
    await runDiscovery(clients, [production()], {cache, now: () => START})
    const before = orgCalls()

    const bypassed = await runDiscovery(clients, [production()], {cache, noCache: true, now: () => START + 60_000})
    expect(bypassed.report.blocks[0]).toMatchObject({status: 'discovered', cache: 'bypassed'})
    expect(orgCalls()).toBe(2 * before)

    const after = await runDiscovery(clients, [production()], {cache, now: () => START + 120_000})
    expect(after.report.blocks[0]).toMatchObject({cache: 'hit', discovered_at: new Date(START + 60_000).toISOString()})
    expect(orgCalls()).toBe(2 * before)
  })

  it('applies changed filters to the cached accounts, but queries again when the question changes', async () => {
    const cache = createMemoryDiscoveryCache()
    await runDiscovery(clients, [production()], {cache, now: () => START})
    const before = orgCalls()

    // Another tag filter asks the same of AWS (every account, with tags): the cache answers
    const staging = discoveryBlock({filters: [{tag: 'Environment', values: ['staging']}]})
    const restaged = await runDiscovery(clients, [staging], {cache, now: () => START + 1})
    expect(restaged.report.blocks[0]?.cache).toBe('hit')
    expect(includedIds(restaged)).toEqual(
      model.accounts
        .filter((a) => a.state === 'ACTIVE' && a.tags.Environment === 'staging')
        .map((a) => a.id)
        .sort(),
    )
    expect(orgCalls()).toBe(before)

    // A block that no longer reads tags asks something else: the cache does not answer it
    const untagged = await runDiscovery(clients, [discoveryBlock({})], {cache, now: () => START + 2})
    expect(untagged.report.blocks[0]?.cache).toBe('miss')
  })

  it('keeps results in the merge store, encrypted, for the next run', async () => {
    // Given a run that cached into the merge store
    const first = await runDiscovery(clients, [production()], {cache: storeCache(), now: () => START})
    const stored = stack.aws.s3.getObject(BUCKET, 'merged/discovery/workloads.json')
    expect(stored?.sse.serverSideEncryption).toBe('AES256')
    const body = JSON.parse(stored?.body.toString('utf8') ?? '{}') as Record<string, unknown>
    expect(body).toMatchObject({created_at: new Date(START).toISOString(), ttl_ms: HOUR})
    expect(body.accounts).toHaveLength(329)

    // When the next run (a new process: a new cache over the same bucket) starts within the TTL
    const before = orgCalls()
    const second = await runDiscovery(clients, [production()], {cache: storeCache(), now: () => START + 1000})

    // Then it reads the merge store, not Organizations
    expect(orgCalls()).toBe(before)
    expect(second.report.blocks[0]?.cache).toBe('hit')
    expect(second.targets).toEqual(first.targets)
  })

  it('writes with SSE-KMS when the merge store has a key', async () => {
    await runDiscovery(clients, [production()], {cache: storeCache('alias/secretsync'), now: () => START})
    const put = stack.aws.s3.putRecords().find((record) => record.key === 'merged/discovery/workloads.json')
    expect(put).toMatchObject({serverSideEncryption: 'aws:kms', kmsKeyId: 'alias/secretsync'})
  })

  it('reads but never writes the merge store through a read-only cache (--dry-run)', async () => {
    await runDiscovery(clients, [production()], {cache: readOnlyDiscoveryCache(storeCache()), now: () => START})
    expect(stack.aws.s3.listKeys(BUCKET)).toEqual([])
    expect(stack.controls.count({service: 's3', operation: 'PutObject'})).toBe(0)

    // A cache written by an earlier real run still answers it
    await runDiscovery(clients, [production()], {cache: storeCache(), now: () => START})
    const before = orgCalls()
    const dry = await runDiscovery(clients, [production()], {
      cache: readOnlyDiscoveryCache(storeCache()),
      now: () => START + 1,
    })
    expect(dry.report.blocks[0]?.cache).toBe('hit')
    expect(orgCalls()).toBe(before)
  })

  it('treats a corrupt cache object as a miss and replaces it', async () => {
    stack.aws.s3.putObject(BUCKET, 'merged/discovery/workloads.json', '{"format": 1, "accounts": "nope"')
    const runtime = recordingRuntime()
    const result = await runDiscovery(clients, [production()], {
      cache: storeCache(),
      now: () => START,
      logger: runtime.logger,
    })
    expect(result.report.blocks[0]).toMatchObject({status: 'discovered', cache: 'miss'})
    const body = stack.aws.s3.getObject(BUCKET, 'merged/discovery/workloads.json')?.body.toString('utf8') ?? ''
    expect(JSON.parse(body)).toMatchObject({format: 1, ttl_ms: HOUR})
    expect(runtime.logs()).toContain('s3://merge-store/merged/discovery/workloads.json is not a discovery cache object')
  })

  it('goes on without the cache when the merge store cannot be reached', async () => {
    const runtime = recordingRuntime()
    const missing = createStoreDiscoveryCache(new DiscoveryObjectStore(s3, {bucket: 'no-such-bucket', prefix: ''}))
    const result = await runDiscovery(clients, [production()], {cache: missing, logger: runtime.logger})
    expect(result.report.blocks[0]).toMatchObject({status: 'discovered', cache: 'miss'})
    expect(runtime.logs()).toContain('discovery cache unreadable')
    expect(runtime.logs()).toContain('discovery cache not written')
  })
})

describe('blocks', () => {
  it('skips a disabled block without calling AWS and reports it', async () => {
    const result = await runDiscovery(clients, [discoveryBlock({enabled: false})])
    expect(result.report.blocks).toEqual([
      {
        name: 'workloads',
        type: 'aws_organizations',
        status: 'disabled',
        cache: null,
        discovered_at: null,
        error: null,
        accounts: [],
      },
    ])
    expect(result.report.summary).toMatchObject({blocks: 1, disabled: 1, targets: 0})
    expect(clients.requests).toEqual([])
  })

  it('reports a failing block with its context, never credentials, and runs the others', async () => {
    // Given credentials whose secret is distinctive, and Organizations answering ListAccountsForParent with 5xx
    const issued = stack.aws.credentials.issue({
      accountId: stack.aws.base.accountId,
      arn: `arn:aws:sts::${stack.aws.base.accountId}:assumed-role/OrgDiscovery/test`,
      userId: 'AROATEST:discovery',
    })
    const credentials = {
      accessKeyId: issued.accessKeyId,
      secretAccessKey: issued.secretAccessKey,
      sessionToken: issued.sessionToken,
    }
    const faulty = stackClients(stack, {maxAttempts: 2, credentials})
    stack.controls.injectFault({
      service: 'organizations',
      operation: 'ListAccountsForParent',
      kind: '5xx',
      count: 10_000,
    })
    try {
      const blocks = [
        discoveryBlock({name: 'workloads'}),
        discoveryBlock({name: 'admins', type: 'aws_identity_center', permission_set: 'Admin'}),
      ]

      // When discovery runs
      const result = await runDiscovery(faulty, blocks, {runId: 'r1'})

      // Then each block failed on its own, saying which block, operation and subject, after how many retries
      const [workloads, admins] = result.report.blocks
      expect(workloads?.status).toBe('failed')
      expect(workloads?.error?.message).toMatch(
        /^discovery "workloads": \[run=r1\] ListAccountsForParent (r|ou)-\S+ after \d+ ms \(1 retry\): ServiceException/,
      )
      expect(admins?.error).toMatchObject({
        code: 'DISCOVERY_NO_INSTANCE',
        message: 'discovery "admins": no IAM Identity Center instance visible to the discovery role',
      })
      expect(result.report.summary).toMatchObject({blocks: 2, failed_blocks: 2, targets: 0})
      const text = JSON.stringify(result.report)
      expect(text).not.toContain(issued.secretAccessKey)
      expect(text).not.toContain(issued.sessionToken)
    } finally {
      faulty.destroy()
    }
  })
})

describe('targets', () => {
  it('gives accounts named "..", "." or nothing usable the name _<account id>, never a folder outside the store', async () => {
    // Given accounts whose names would be merge-store folders "..", "." and "" once sanitised
    stack.aws.organizations.addAccount({id: '500000000001', name: '..', parentId: model.leaf})
    stack.aws.organizations.addAccount({id: '500000000002', name: '.', parentId: model.leaf})
    stack.aws.organizations.addAccount({id: '500000000003', name: '日本', parentId: model.leaf})
    const block = discoveryBlock({filters: [{ou: model.leaf}], target: {name: '{{account_name}}', region: 'eu-west-1'}})

    // When discovery runs
    const result = await runDiscovery(clients, [block])

    // Then each becomes _<account id>, and no target is named "." or ".."
    const nameOf = (id: string) => result.targets.find((t) => t.account_id === id)?.name
    expect([nameOf('500000000001'), nameOf('500000000002'), nameOf('500000000003')]).toEqual([
      '_500000000001',
      '_500000000002',
      '_500000000003',
    ])
    expect(result.targets.filter((t) => t.name === '.' || t.name === '..' || t.name === '')).toEqual([])
  })

  it('renders each included account, suffixing names that collide with each other or with static targets and sources', async () => {
    // Given two accounts both named "twin" and accounts named like a static target and a source
    stack.aws.organizations.addAccount({id: '400000000001', name: 'twin', parentId: model.leaf})
    stack.aws.organizations.addAccount({id: '400000000000', name: 'twin', parentId: model.leaf})
    const staticTargets: TargetConfig[] = [
      {name: 'bulk-3', type: 'aws_secretsmanager', imports: ['bulk-4'], overrides: {}, secret_prefix: '', tags: {}},
    ]
    const block = discoveryBlock({
      filters: [{ou: model.leaf}],
      target: {
        name: '{{account_name}}',
        region: 'eu-west-1',
        role_arn: 'arn:aws:iam::{{account_id}}:role/SecretSync',
        imports: ['bulk-4', 'bulk-3'],
      },
    })

    // When discovery runs
    const result = await runDiscovery(clients, [block], {staticTargets, sources: ['bulk-4']})

    // Then colliding names carry their account id, the others are kept, ordered by account id
    const names = result.targets.map((t) => t.name)
    expect(names).toContain('bulk-3_200000000003')
    expect(names).toContain('bulk-4_200000000004')
    expect(names).toContain('bulk-5')
    expect(names.slice(-2)).toEqual(['twin_400000000000', 'twin_400000000001'])
    expect(result.targets.map((t) => t.account_id)).toEqual(
      [...(result.targets.map((t) => t.account_id) as string[])].sort(),
    )
    expect(result.targets.find((t) => t.name === 'twin_400000000000')).toEqual({
      name: 'twin_400000000000',
      type: 'aws_secretsmanager',
      account_id: '400000000000',
      account_name: 'twin',
      role_arn: 'arn:aws:iam::400000000000:role/SecretSync',
      region: 'eu-west-1',
      imports: ['bulk-4', 'bulk-3'],
      overrides: {},
      secret_prefix: '',
      tags: {},
    })
    // And the report says which target each account became
    const row = result.report.blocks[0]?.accounts.find((a) => a.account_id === '200000000003')
    expect(row).toMatchObject({included: true, target: 'bulk-3_200000000003', error: null})
  })

  it('reports an account whose template needs a tag it lacks, and renders the rest', async () => {
    // Given a template reading the Team tag, which the CLOSED accounts do not carry
    const block = discoveryBlock({
      filters: [{ou: model.closedHome}],
      statuses: ['ACTIVE', 'CLOSED'],
      target: {name: '{{tags.Team}}-{{account_id}}'},
    })
    const result = await runDiscovery(clients, [block])

    const rows = result.report.blocks[0]?.accounts ?? []
    const closed = rows.find((a) => a.account_id === '300000000000')
    expect(closed).toMatchObject({
      included: true,
      target: null,
      error: 'account 300000000000 (closed-0) has no tag "Team" for {{tags.Team}}',
    })
    const tagged = rows.filter((a) => a.included && a.tags?.Team !== undefined)
    expect(tagged.length).toBeGreaterThan(0)
    expect(result.targets.map((t) => t.name)).toEqual(tagged.map((a) => `${a.tags?.Team}-${a.account_id}`))
    expect(result.report.summary.account_errors).toBe(
      rows.filter((a) => a.included && a.tags?.Team === undefined).length,
    )
  })
})
