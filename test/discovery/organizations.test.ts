import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {startTestStack, type TestStack} from '../support/stack.js'
import {
  discoveryBlock,
  includedIds,
  runDiscovery,
  seedOrganization,
  sortedIds,
  stackClients,
  type ModelAccount,
  type OrgModel,
} from './org-fixture.js'

// Discovery through AWS Organizations, with the real SDK client over HTTP against the in-process AWS server,
// in an organization of 329 accounts in OUs 4 levels deep. Expectations come from the seeded model, not from
// the code under test.

let stack: TestStack
let model: OrgModel
let clients: ReturnType<typeof stackClients>

beforeEach(async () => {
  stack = await startTestStack()
  model = seedOrganization(stack)
  clients = stackClients(stack)
})

afterEach(async () => {
  clients.destroy()
  await stack.close()
})

const ALL_STATUSES = ['ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE', 'CLOSED']
const expected = (keep: (account: ModelAccount) => boolean): string[] => sortedIds(model.accounts.filter(keep))
const active = (account: ModelAccount): boolean => account.state === 'ACTIVE'
const calls = (operation: string): number => stack.controls.count({service: 'organizations', operation})

describe('the OU walk', () => {
  it('finds every account 4 levels deep, with the OU it sits in', async () => {
    // Given no filters and every status allowed
    const result = await runDiscovery(clients, [discoveryBlock({statuses: ALL_STATUSES})])

    // Then every account of the organization is found, once, and placed in its own OU
    const [block] = result.report.blocks
    expect(model.accounts).toHaveLength(329)
    expect(block?.accounts.map((a) => a.account_id)).toEqual(sortedIds(model.accounts))
    for (const row of block?.accounts ?? []) {
      expect(row.ou_id).toBe(model.accounts.find((a) => a.id === row.account_id)?.parentId)
    }
    expect(result.targets).toHaveLength(329)
    // And tags were not looked up, since nothing in the block reads them
    expect(calls('ListTagsForResource')).toBe(0)
    expect(block?.accounts[0]?.tags).toBeNull()
  })

  it('walks only the subtree of an ou filter, and names the block role and region to the client factory', async () => {
    // Given an OU one level below the root
    const top = model.childOus(model.rootId)[0] as string
    const block = discoveryBlock({
      filters: [{ou: top}],
      role_arn: 'arn:aws:iam::000000000000:role/OrgDiscovery',
      region: 'us-east-1',
    })

    // When discovery runs
    const result = await runDiscovery(clients, [block])

    // Then exactly the active accounts below it are included, and the root was never listed
    expect(includedIds(result)).toEqual(expected((a) => active(a) && model.pathOf(a.id).includes(top)))
    expect(result.report.blocks[0]?.accounts.every((a) => a.reasons.includes(`under OU ${top}`))).toBe(true)
    expect(calls('ListRoots')).toBe(0)
    expect(clients.requests).toEqual([
      {service: 'organizations', roleArn: 'arn:aws:iam::000000000000:role/OrgDiscovery', region: 'us-east-1'},
    ])
  })

  it('walks nested ou filters once and matches accounts under both', async () => {
    const top = model.childOus(model.rootId)[0] as string
    const inner = model.childOus(top)[0] as string
    const result = await runDiscovery(clients, [discoveryBlock({filters: [{ou: inner}, {ou: top}]})])

    expect(includedIds(result)).toEqual(expected((a) => active(a) && model.pathOf(a.id).includes(inner)))
    // One listing per OU of the top subtree (1 + 2 + 4 + 8), the inner subtree not walked twice
    expect(calls('ListOrganizationalUnitsForParent')).toBe(15)
  })
})

describe('filters', () => {
  it('keeps accounts whose tag equals a value', async () => {
    const result = await runDiscovery(clients, [
      discoveryBlock({filters: [{tag: 'Environment', values: ['production']}]}),
    ])
    const ids = includedIds(result)
    expect(ids).toEqual(expected((a) => active(a) && a.tags.Environment === 'production'))
    expect(ids.length).toBeGreaterThan(50)
    const row = result.report.blocks[0]?.accounts.find((a) => a.account_id === ids[0])
    expect(row?.reasons).toEqual(['tag Environment=production matches production', 'status ACTIVE in [ACTIVE]'])
  })

  it('matches * and ? wildcards', async () => {
    const staging = await runDiscovery(clients, [
      discoveryBlock({filters: [{tag: 'Environment', values: ['staging*']}]}),
    ])
    expect(includedIds(staging)).toEqual(expected((a) => active(a) && /^staging/.test(a.tags.Environment ?? '')))
    expect(
      new Set(staging.report.blocks[0]?.accounts.filter((a) => a.included).map((a) => a.tags?.Environment)),
    ).toEqual(new Set(['staging', 'staging-eu']))

    const cost = await runDiscovery(clients, [discoveryBlock({filters: [{tag: 'CostCenter', values: ['cc-1?3']}]})])
    expect(includedIds(cost)).toEqual(expected((a) => active(a) && a.tags.CostCenter === 'cc-103'))
  })

  it('needs every filter with match: all', async () => {
    const filters = [
      {tag: 'Environment', values: ['production']},
      {tag: 'Team', values: ['team-1']},
    ]
    const result = await runDiscovery(clients, [discoveryBlock({filters, match: 'all'})])
    expect(includedIds(result)).toEqual(
      expected((a) => active(a) && a.tags.Environment === 'production' && a.tags.Team === 'team-1'),
    )
  })

  it('needs one filter with match: any, also across a tag and an OU', async () => {
    // Given accounts tagged development, or sitting in the leaf OU of the bulk accounts
    const filters = [{tag: 'Environment', values: ['development']}, {ou: model.leaf}]
    const result = await runDiscovery(clients, [discoveryBlock({filters, match: 'any'})])

    // Then both kinds are included: the walk started at the root, since the tag may match anywhere
    expect(includedIds(result)).toEqual(
      expected((a) => active(a) && (a.tags.Environment === 'development' || a.parentId === model.leaf)),
    )
    expect(calls('ListRoots')).toBe(1)
  })

  it('includes only ACTIVE accounts by default, and reads CLOSED from State, not Status', async () => {
    const defaults = await runDiscovery(clients, [discoveryBlock({})])
    expect(includedIds(defaults)).toEqual(expected(active))
    const closed = defaults.report.blocks[0]?.accounts.find((a) => a.account_id === '300000000000')
    expect(closed).toMatchObject({status: 'CLOSED', included: false, reasons: ['status CLOSED not in [ACTIVE]']})

    // A closed account still answers Status SUSPENDED: asking for SUSPENDED must not bring it back
    const suspended = await runDiscovery(clients, [discoveryBlock({statuses: ['SUSPENDED']})])
    expect(includedIds(suspended)).toEqual(expected((a) => a.state === 'SUSPENDED'))
    const closing = await runDiscovery(clients, [discoveryBlock({statuses: ['PENDING_CLOSURE', 'CLOSED']})])
    expect(includedIds(closing)).toEqual(expected((a) => a.state === 'PENDING_CLOSURE' || a.state === 'CLOSED'))
  })

  it('drops exclude_accounts and says so', async () => {
    const production = expected((a) => active(a) && a.tags.Environment === 'production')
    const dropped = production.slice(0, 2)
    const result = await runDiscovery(clients, [
      discoveryBlock({filters: [{tag: 'Environment', values: ['production']}], exclude_accounts: dropped}),
    ])
    expect(includedIds(result)).toEqual(production.slice(2))
    const row = result.report.blocks[0]?.accounts.find((a) => a.account_id === dropped[0])
    expect(row?.reasons).toContain('excluded by exclude_accounts')
    expect(row?.target).toBeNull()
  })
})

describe('paging and throttling', () => {
  it('follows NextToken through empty pages to the same result', async () => {
    // Given a first run on ordinary pages
    const block = discoveryBlock({filters: [{tag: 'Environment', values: ['production', 'staging*']}]})
    const now = () => Date.UTC(2024, 4, 1)
    const plain = await runDiscovery(clients, [block], {now})

    // When every list operation answers an empty page with a token before each real page
    stack.aws.organizations.setEmptyPages(true)
    stack.controls.resetCounters()
    const paged = await runDiscovery(clients, [block], {now})

    // Then nothing is lost
    expect(paged.report).toEqual(plain.report)
    expect(paged.targets).toEqual(plain.targets)
    // And every listing of n items took 2 + 2 * ceil(n / 20) calls: a leading empty page, then each real page
    // followed by an empty one, then the final empty real page.
    const pages = (n: number): number => 2 + 2 * Math.ceil(n / 20)
    const parents = [model.rootId, ...model.ous.map((ou) => ou.id)]
    expect(calls('ListRoots')).toBe(pages(1))
    expect(calls('ListOrganizationalUnitsForParent')).toBe(
      parents.reduce((sum, id) => sum + pages(model.childOus(id).length), 0),
    )
    expect(calls('ListAccountsForParent')).toBe(
      parents.reduce((sum, id) => sum + pages(model.accountsIn(id).length), 0),
    )
    expect(calls('ListTagsForResource')).toBe(
      model.accounts.reduce((sum, a) => sum + pages(Object.keys(a.tags).length), 0),
    )
  })

  it('absorbs throttling of ListAccountsForParent through the SDK retries', async () => {
    // Given a quota of 50 calls per second with a burst of 2, below discovery's 8 calls at once, so some are
    // throttled (5/s took ~10 s of SDK back-off for the same story), and a client that retries up to 10 attempts
    stack.controls.setQuota({service: 'organizations', operation: 'ListAccountsForParent', ratePerSecond: 50, burst: 2})
    const patient = stackClients(stack, {maxAttempts: 10})
    try {
      // When discovery walks the 31 parents
      const result = await runDiscovery(patient, [discoveryBlock({})])

      // Then it completes with every account, although calls were throttled on the way
      expect(result.report.blocks[0]?.status).toBe('discovered')
      expect(includedIds(result)).toEqual(expected(active))
      expect(stack.controls.throttled({service: 'organizations', operation: 'ListAccountsForParent'})).toBeGreaterThan(
        0,
      )
    } finally {
      patient.destroy()
    }
  })
})

describe('API-call budget for the 329-account organization', () => {
  it('lists each OU once, each OU’s accounts in pages of 20, and each account’s tags once', async () => {
    // Given a tag filter (so tags are looked up) and a walk from the root
    const result = await runDiscovery(clients, [discoveryBlock({filters: [{tag: 'Environment', values: ['*']}]})])
    expect(result.report.blocks[0]?.status).toBe('discovered')

    // Formula:
    //   ListRoots                        = 1
    //   ListOrganizationalUnitsForParent = Σ over parents walked (root + every OU) of max(1, ceil(child OUs / 20))
    //   ListAccountsForParent            = Σ over parents walked of max(1, ceil(accounts directly in it / 20))
    //   ListTagsForResource              = Σ over accounts of max(1, ceil(tags / 20))
    //   DescribeAccount                  = 0
    const parents = [model.rootId, ...model.ous.map((ou) => ou.id)]
    const pages = (n: number): number => Math.max(1, Math.ceil(n / 20))
    const budget = {
      ListRoots: 1,
      ListOrganizationalUnitsForParent: parents.reduce((sum, id) => sum + pages(model.childOus(id).length), 0),
      ListAccountsForParent: parents.reduce((sum, id) => sum + pages(model.accountsIn(id).length), 0),
      ListTagsForResource: model.accounts.reduce((sum, a) => sum + pages(Object.keys(a.tags).length), 0),
      DescribeAccount: 0,
    }
    // Figures: 31 parents (root + 30 OUs), one of them holding 35 accounts; 329 accounts, one with 25 tags.
    expect(budget).toEqual({
      ListRoots: 1,
      ListOrganizationalUnitsForParent: 31,
      ListAccountsForParent: 32,
      ListTagsForResource: 330,
      DescribeAccount: 0,
    })
    for (const [operation, expectedCalls] of Object.entries(budget))
      expect([operation, calls(operation)]).toEqual([operation, expectedCalls])
    expect(stack.controls.count({service: 'organizations'})).toBe(1 + 31 + 32 + 330)
    // And the 25 tags of the account that needed two pages all arrived
    const manyTags = result.report.blocks[0]?.accounts.find((a) => a.account_id === model.manyTagsAccount)
    expect(Object.keys(manyTags?.tags ?? {})).toHaveLength(25)
  })
})
