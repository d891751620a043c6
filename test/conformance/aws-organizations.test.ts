import {
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListChildrenCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
  paginateListAccounts,
  paginateListAccountsForParent,
  paginateListChildren,
  paginateListOrganizationalUnitsForParent,
  type Account,
  type ListTagsForResourceCommandOutput,
} from '@aws-sdk/client-organizations'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {startAwsServer} from '../support/aws/aws-server.js'

// The Organizations fake is checked against the AWS Organizations API Reference through the real SDK client:
// page limits, NextToken pagination (including the empty pages AWS warns about), the account shape, errors and
// who may call what. Discovery relies on each of these.
//
// Against the project's server only: the tests seed organizations of hundreds of accounts from state (the reads
// discovery makes run on moto too in aws-discovery-apis.test.ts). moto's
// Organizations (CreateOrganization, nested OUs, CreateAccount with tags, CloseAccount → SUSPENDED, MoveAccount) is
// exercised end to end by test-integration/discovery.test.ts (SECRETSYNC_IT=moto); moto 5.2.1 has no throttling
// and no empty pages, so those paths are proven here only.

type AwsServer = Awaited<ReturnType<typeof startAwsServer>>

const MEMBER = '222222222222'
const OUTSIDER = '333333333333'
const JOINED = Date.UTC(2021, 4, 6, 7, 8, 9)

let server: AwsServer
const clients: OrganizationsClient[] = []

const client = (options: {accountId?: string; maxAttempts?: number} = {}): OrganizationsClient => {
  let credentials = {accessKeyId: 'test', secretAccessKey: 'test'} as {
    accessKeyId: string
    secretAccessKey: string
    sessionToken?: string
  }
  if (options.accountId !== undefined) {
    const issued = server.credentials.issue({
      accountId: options.accountId,
      arn: `arn:aws:sts::${options.accountId}:assumed-role/OrgDiscovery/test`,
      userId: `AROATEST:${options.accountId}`,
    })
    credentials = {
      accessKeyId: issued.accessKeyId,
      secretAccessKey: issued.secretAccessKey,
      sessionToken: issued.sessionToken,
    }
  }
  const created = new OrganizationsClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials,
    maxAttempts: options.maxAttempts ?? 1,
  })
  clients.push(created)
  return created
}

const rootOf = (): string => {
  const rootId = server.organizations.rootId
  if (rootId === undefined) throw new Error('no organization seeded')
  return rootId
}

/** Every page of an SDK paginator, so tests can look at page sizes as well as contents. */
const pagesOf = async <T>(paginator: AsyncIterable<T>): Promise<T[]> => {
  const pages: T[] = []
  for await (const page of paginator) pages.push(page)
  return pages
}

/** Walks an OU subtree the way discovery does: OUs recursively, then the accounts in each. */
const walk = async (
  org: OrganizationsClient,
  parentId: string,
  depth = 0,
): Promise<{accounts: Account[]; depth: number; pageSizes: number[]}> => {
  const result = {accounts: [] as Account[], depth, pageSizes: [] as number[]}
  for (const page of await pagesOf(paginateListAccountsForParent({client: org}, {ParentId: parentId}))) {
    result.pageSizes.push(page.Accounts?.length ?? 0)
    result.accounts.push(...(page.Accounts ?? []))
  }
  for (const page of await pagesOf(paginateListOrganizationalUnitsForParent({client: org}, {ParentId: parentId}))) {
    result.pageSizes.push(page.OrganizationalUnits?.length ?? 0)
    for (const ou of page.OrganizationalUnits ?? []) {
      const below = await walk(org, ou.Id!, depth + 1)
      result.accounts.push(...below.accounts)
      result.pageSizes.push(...below.pageSizes)
      result.depth = Math.max(result.depth, below.depth)
    }
  }
  return result
}

beforeEach(async () => {
  server = await startAwsServer()
})

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy()
  await server.close()
})

describe('organization and roots', () => {
  it('makes the first caller the management account when none is configured', async () => {
    // Given an organization without an explicit management account
    const {organizationId, rootId} = server.organizations.setOrganization()

    // When the base account describes it
    const {Organization} = await client().send(new DescribeOrganizationCommand({}))

    // Then the base account is the management account, and ids and ARNs have the documented forms
    expect(Organization?.Id).toBe(organizationId)
    expect(Organization?.Id).toMatch(/^o-[a-z0-9]{10,32}$/)
    expect(Organization?.MasterAccountId).toBe(server.base.accountId)
    expect(Organization?.Arn).toBe(`arn:aws:organizations::${server.base.accountId}:organization/${organizationId}`)
    expect(Organization?.FeatureSet).toBe('ALL')

    const {Roots} = await client().send(new ListRootsCommand({}))
    expect(Roots).toEqual([
      {
        Id: rootId,
        Arn: `arn:aws:organizations::${server.base.accountId}:root/${organizationId}/${rootId}`,
        Name: 'Root',
        PolicyTypes: [],
      },
    ])
    expect(rootId).toMatch(/^r-[0-9a-z]{4,32}$/)
  })

  it('answers AWSOrganizationsNotInUseException when there is no organization', async () => {
    await expect(client().send(new ListRootsCommand({}))).rejects.toMatchObject({
      name: 'AWSOrganizationsNotInUseException',
    })
    await expect(client().send(new DescribeOrganizationCommand({}))).rejects.toMatchObject({
      name: 'AWSOrganizationsNotInUseException',
    })
  })
})

describe('a 300-account organization four OU levels deep', () => {
  it('walks every OU and account with pages of at most 20', async () => {
    // Given 300 accounts spread over 30 OUs nested 4 deep
    server.organizations.setOrganization({managementAccountId: server.base.accountId})
    const tree = server.organizations.generateTree({accounts: 300, depth: 4, branching: 2})
    expect(tree.ous).toHaveLength(30)

    // When discovery-style recursion walks the tree from the root
    const walked = await walk(client(), rootOf())

    // Then it finds the management account plus all 300, reaches depth 4, and no page is over 20
    const ids = walked.accounts.map((a) => a.Id)
    expect(new Set(ids).size).toBe(301)
    expect(ids).toEqual(expect.arrayContaining(tree.accounts.map((a) => a.id)))
    expect(walked.depth).toBe(4)
    expect(Math.max(...walked.pageSizes)).toBeLessThanOrEqual(20)
  })

  it('lists all accounts in pages of 20 by default and of MaxResults when given', async () => {
    server.organizations.setOrganization({managementAccountId: server.base.accountId})
    server.organizations.generateTree({accounts: 300})

    const byDefault = await pagesOf(paginateListAccounts({client: client()}, {}))
    expect(byDefault.map((p) => p.Accounts?.length)).toEqual([...Array<number>(15).fill(20), 1])
    expect(byDefault.at(-1)?.NextToken).toBeUndefined()

    const bySeven = await pagesOf(paginateListAccounts({client: client(), pageSize: 7}, {}))
    expect(bySeven).toHaveLength(43)
    expect(bySeven.flatMap((p) => p.Accounts ?? [])).toHaveLength(301)
  })

  it('reports an OU subtree only through its own children (ListAccountsForParent is not recursive)', async () => {
    server.organizations.setOrganization()
    const tree = server.organizations.generateTree({accounts: 30, depth: 2, branching: 2})
    const top = tree.ous.find((ou) => ou.depth === 1)!

    const direct = await client().send(new ListAccountsForParentCommand({ParentId: top.id}))
    const expected = tree.accounts.filter((a) => a.parentId === top.id).map((a) => a.id)
    expect(direct.Accounts?.map((a) => a.Id)).toEqual(expected)

    const ouChildren = await pagesOf(
      paginateListChildren({client: client()}, {ParentId: top.id, ChildType: 'ORGANIZATIONAL_UNIT'}),
    )
    expect(ouChildren.flatMap((p) => p.Children ?? [])).toEqual(
      tree.ous.filter((ou) => ou.parentId === top.id).map((ou) => ({Id: ou.id, Type: 'ORGANIZATIONAL_UNIT'})),
    )
    const accountChildren = await client().send(new ListChildrenCommand({ParentId: top.id, ChildType: 'ACCOUNT'}))
    expect(accountChildren.Children?.map((c) => c.Id)).toEqual(expected)
    expect(accountChildren.Children?.every((c) => c.Type === 'ACCOUNT')).toBe(true)
  })
})

describe('page limits', () => {
  const oversized: Array<[string, (parentId: string) => Promise<unknown>]> = [
    ['ListRoots', () => client().send(new ListRootsCommand({MaxResults: 21}))],
    ['ListAccounts', () => client().send(new ListAccountsCommand({MaxResults: 21}))],
    ['ListAccountsForParent', (p) => client().send(new ListAccountsForParentCommand({ParentId: p, MaxResults: 21}))],
    [
      'ListOrganizationalUnitsForParent',
      (p) => client().send(new ListOrganizationalUnitsForParentCommand({ParentId: p, MaxResults: 21})),
    ],
    [
      'ListChildren',
      (p) => client().send(new ListChildrenCommand({ParentId: p, ChildType: 'ACCOUNT', MaxResults: 21})),
    ],
  ]

  it.each(oversized)('%s rejects MaxResults 21 with InvalidInputException', async (_name, call) => {
    server.organizations.setOrganization()
    await expect(call(rootOf())).rejects.toMatchObject({name: 'InvalidInputException', $fault: 'client'})
  })

  it('accepts MaxResults 20 and rejects 0', async () => {
    server.organizations.setOrganization()
    server.organizations.generateTree({accounts: 25, depth: 1, branching: 1})
    const page = await client().send(new ListAccountsCommand({MaxResults: 20}))
    expect(page.Accounts).toHaveLength(20)
    expect(page.NextToken).toEqual(expect.any(String))
    await expect(client().send(new ListAccountsCommand({MaxResults: 0}))).rejects.toMatchObject({
      name: 'InvalidInputException',
    })
  })

  it('refuses a NextToken issued for another parent', async () => {
    server.organizations.setOrganization()
    const tree = server.organizations.generateTree({accounts: 60, depth: 1, branching: 2})
    const [a, b] = tree.ous
    const first = await client().send(new ListAccountsForParentCommand({ParentId: a!.id, MaxResults: 5}))
    expect(first.NextToken).toEqual(expect.any(String))
    await expect(
      client().send(new ListAccountsForParentCommand({ParentId: b!.id, NextToken: first.NextToken})),
    ).rejects.toMatchObject({name: 'InvalidInputException'})
  })
})

describe('empty pages that still carry a NextToken', () => {
  it('returns an empty first page with a token, and the paginator still reaches every account', async () => {
    // Given an OU with 45 accounts and a service that answers with empty pages between real ones
    server.organizations.setOrganization()
    const ou = server.organizations.addOu({name: 'workloads'})
    const ids = Array.from({length: 45}, (_, i) => String(200_000_000_000 + i))
    for (const id of ids) server.organizations.addAccount({id, name: `w-${id}`, parentId: ou})
    server.organizations.setEmptyPages(true)

    // When a caller stops at the first empty page, it sees nothing but a NextToken
    const first = await client().send(new ListAccountsForParentCommand({ParentId: ou}))
    expect(first.Accounts).toEqual([])
    expect(first.NextToken).toEqual(expect.any(String))

    // Then following every NextToken yields all 45, across empty and full pages
    const pages = await pagesOf(paginateListAccountsForParent({client: client()}, {ParentId: ou}))
    expect(pages.flatMap((p) => p.Accounts ?? []).map((a) => a.Id)).toEqual(ids)
    expect(
      pages.filter((p) => (p.Accounts ?? []).length === 0 && p.NextToken !== undefined).length,
    ).toBeGreaterThanOrEqual(3)
    expect(Math.max(...pages.map((p) => p.Accounts?.length ?? 0))).toBe(20)
  })

  it('applies to OU listings and tags too', async () => {
    server.organizations.setOrganization()
    const ou = server.organizations.addOu({name: 'parent', tags: {team: 'platform'}})
    server.organizations.addOu({name: 'child', parentId: ou})
    server.organizations.setEmptyPages(true)

    const ous = await pagesOf(paginateListOrganizationalUnitsForParent({client: client()}, {ParentId: ou}))
    expect(ous[0]?.OrganizationalUnits).toEqual([])
    expect(ous.flatMap((p) => p.OrganizationalUnits ?? []).map((o) => o.Name)).toEqual(['child'])

    const tagPages: ListTagsForResourceCommandOutput[] = []
    let token: string | undefined
    do {
      const page = await client().send(new ListTagsForResourceCommand({ResourceId: ou, NextToken: token}))
      tagPages.push(page)
      token = page.NextToken
    } while (token !== undefined)
    expect(tagPages[0]?.Tags).toEqual([])
    expect(tagPages.flatMap((p) => p.Tags ?? [])).toEqual([{Key: 'team', Value: 'platform'}])
  })
})

describe('accounts', () => {
  it('describes an account with the documented fields, statuses and states', async () => {
    server.organizations.setOrganization()
    const ou = server.organizations.addOu({name: 'prod'})
    server.organizations.addAccount({
      id: '111111111111',
      name: 'payments',
      email: 'pay@example.com',
      parentId: ou,
      joinedAt: JOINED,
      joinedMethod: 'INVITED',
    })
    server.organizations.addAccount({id: '111111111112', name: 'old', parentId: ou, status: 'SUSPENDED'})
    server.organizations.addAccount({id: '111111111113', name: 'leaving', parentId: ou, status: 'PENDING_CLOSURE'})
    server.organizations.addAccount({id: '111111111114', name: 'gone', parentId: ou, state: 'CLOSED'})

    const {Account: payments} = await client().send(new DescribeAccountCommand({AccountId: '111111111111'}))
    expect(payments).toEqual({
      Id: '111111111111',
      Arn: `arn:aws:organizations::${server.base.accountId}:account/${server.organizations.organizationId}/111111111111`,
      Email: 'pay@example.com',
      Name: 'payments',
      Status: 'ACTIVE',
      State: 'ACTIVE',
      JoinedMethod: 'INVITED',
      JoinedTimestamp: new Date(JOINED),
    })

    const {Accounts} = await client().send(new ListAccountsForParentCommand({ParentId: ou}))
    expect(Accounts?.map((a) => [a.Name, a.Status, a.State])).toEqual([
      ['payments', 'ACTIVE', 'ACTIVE'],
      ['old', 'SUSPENDED', 'SUSPENDED'],
      ['leaving', 'PENDING_CLOSURE', 'PENDING_CLOSURE'],
      // Closed accounts stay listed (Status SUSPENDED) during the post-closure period.
      ['gone', 'SUSPENDED', 'CLOSED'],
    ])
  })

  it('answers AccountNotFoundException, InvalidInputException and ParentNotFoundException for bad ids', async () => {
    server.organizations.setOrganization()
    await expect(client().send(new DescribeAccountCommand({AccountId: '999999999999'}))).rejects.toMatchObject({
      name: 'AccountNotFoundException',
    })
    await expect(client().send(new DescribeAccountCommand({AccountId: '12345'}))).rejects.toMatchObject({
      name: 'InvalidInputException',
    })
    await expect(client().send(new ListAccountsForParentCommand({ParentId: 'ou-abcd-00000000'}))).rejects.toMatchObject(
      {name: 'ParentNotFoundException'},
    )
    await expect(
      client().send(new ListChildrenCommand({ParentId: 'not-a-parent', ChildType: 'ACCOUNT'})),
    ).rejects.toMatchObject({
      name: 'InvalidInputException',
    })
  })

  it('lists tags of accounts and OUs, and TargetNotFoundException for unknown ones', async () => {
    server.organizations.setOrganization()
    const ou = server.organizations.addOu({name: 'prod', tags: {Environment: 'production'}})
    server.organizations.addAccount({
      id: '111111111111',
      name: 'a',
      parentId: ou,
      tags: {Environment: 'production', team: 'pay'},
    })
    server.organizations.addAccount({id: '111111111112', name: 'b', parentId: ou})

    const tagged = await client().send(new ListTagsForResourceCommand({ResourceId: '111111111111'}))
    expect(tagged.Tags).toEqual([
      {Key: 'Environment', Value: 'production'},
      {Key: 'team', Value: 'pay'},
    ])
    expect(tagged.NextToken).toBeUndefined()
    expect((await client().send(new ListTagsForResourceCommand({ResourceId: '111111111112'}))).Tags).toEqual([])
    expect((await client().send(new ListTagsForResourceCommand({ResourceId: ou}))).Tags).toEqual([
      {Key: 'Environment', Value: 'production'},
    ])
    await expect(client().send(new ListTagsForResourceCommand({ResourceId: '999999999999'}))).rejects.toMatchObject({
      name: 'TargetNotFoundException',
    })
  })
})

describe('who may call', () => {
  it('denies member accounts the management-only operations but lets them describe the organization', async () => {
    server.organizations.setOrganization({managementAccountId: server.base.accountId})
    server.organizations.addAccount({id: MEMBER, name: 'member'})
    const member = client({accountId: MEMBER})

    await expect(member.send(new ListAccountsCommand({}))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: {httpStatusCode: 403},
    })
    await expect(member.send(new ListRootsCommand({}))).rejects.toMatchObject({name: 'AccessDeniedException'})
    const {Organization} = await member.send(new DescribeOrganizationCommand({}))
    expect(Organization?.MasterAccountId).toBe(server.base.accountId)
  })

  it('lets a registered delegated administrator list accounts', async () => {
    server.organizations.setOrganization({managementAccountId: server.base.accountId})
    server.organizations.addAccount({id: MEMBER, name: 'member'})
    server.organizations.addDelegatedAdmin(MEMBER)

    const {Accounts} = await client({accountId: MEMBER}).send(new ListAccountsCommand({}))
    expect(Accounts?.map((a) => a.Id).sort()).toEqual([server.base.accountId, MEMBER].sort())
  })

  it('tells an account outside the organization that it is not in one', async () => {
    server.organizations.setOrganization({managementAccountId: server.base.accountId})
    await expect(client({accountId: OUTSIDER}).send(new ListAccountsCommand({}))).rejects.toMatchObject({
      name: 'AWSOrganizationsNotInUseException',
    })
  })
})

describe('throttling', () => {
  it('surfaces TooManyRequestsException when the quota is spent and the client does not retry', async () => {
    // A frozen clock keeps the bucket from refilling, so the outcome does not depend on timing.
    await server.close()
    const frozen = Date.UTC(2024, 0, 1)
    server = await startAwsServer({now: () => frozen})
    server.organizations.setOrganization()
    server.controls.setQuota({service: 'organizations', ratePerSecond: 1, burst: 1})
    const org = client({maxAttempts: 1})

    await expect(org.send(new ListRootsCommand({}))).resolves.toMatchObject({Roots: [expect.anything()]})
    await expect(org.send(new ListRootsCommand({}))).rejects.toMatchObject({name: 'TooManyRequestsException'})
    expect(server.controls.throttled({service: 'organizations', operation: 'ListRoots'})).toBe(1)
  })
})
