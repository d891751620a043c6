import {
  DescribeAccountCommand,
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
  paginateListRoots,
  paginateListTagsForResource,
  type Account,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations'
import pLimit, {type LimitFunction} from 'p-limit'
import {callAws} from './errors.js'
import type {CallContext, DiscoveredAccount} from './types.js'

/** The documented maximum page size of ListAccountsForParent and ListOrganizationalUnitsForParent. */
const PAGE_SIZE = 20
export const DEFAULT_DISCOVERY_CONCURRENCY = 8

export interface OrganizationWalkOptions {
  /** OU or root ids to walk (recursively); the organization's roots when empty. */
  startIds: readonly string[]
  /** Look up each account's tags (one ListTagsForResource listing per account). */
  lookUpTags: boolean
  /** Calls in flight at once (default 8). */
  concurrency?: number
  context: CallContext
}

const statusOf = (account: Pick<Account, 'State' | 'Status'>): string => account.State ?? account.Status ?? 'UNKNOWN'

/**
 * Every account under the start OUs (or the roots), walking nested OUs breadth-first and following NextToken
 * through empty pages (the SDK paginators stop only when no token comes back). Each account records the OU it
 * sits in and the OU ids on the walk down to it. A start nested in another start is walked once. Ordered by id.
 */
export async function listOrganizationAccounts(
  client: OrganizationsClient,
  options: OrganizationWalkOptions,
): Promise<DiscoveredAccount[]> {
  const {context} = options
  const limit = pLimit(options.concurrency ?? DEFAULT_DISCOVERY_CONCURRENCY)
  const starts = options.startIds.length > 0 ? [...new Set(options.startIds)] : await listRoots(client, context)

  // Parent of every OU reached, as the walk found it; undefined for a start not (yet) found below another start.
  const parentOf = new Map<string, string | undefined>(starts.map((id) => [id, undefined]))
  const walked = new Map<string, Account[]>()
  let level = starts
  while (level.length > 0) {
    const listed = await Promise.all(
      level.map(async (ouId) => {
        const [children, accounts] = await Promise.all([
          limit(() => listChildOus(client, ouId, context)),
          limit(() => listAccountsIn(client, ouId, context)),
        ])
        return {ouId, children, accounts}
      }),
    )
    const next: string[] = []
    for (const {ouId, children, accounts} of listed) {
      walked.set(ouId, accounts)
      for (const child of children) {
        if (!parentOf.has(child)) next.push(child)
        // A start found under another start joins that walk (so `ou` filters on the outer one match its accounts).
        if (parentOf.get(child) === undefined) parentOf.set(child, ouId)
      }
    }
    level = next
  }

  const pathOf = (ouId: string): string[] => {
    const path = [ouId]
    // Bounded by the number of OUs, should the service ever describe a loop.
    let parent = parentOf.get(ouId)
    while (parent !== undefined && path.length <= parentOf.size) {
      path.unshift(parent)
      parent = parentOf.get(parent)
    }
    return path
  }

  const found = new Map<string, DiscoveredAccount>()
  for (const [ouId, accounts] of walked) {
    for (const account of accounts) {
      if (account.Id === undefined || found.has(account.Id)) continue
      found.set(account.Id, {
        id: account.Id,
        name: account.Name ?? account.Id,
        status: statusOf(account),
        ouId,
        ouPath: pathOf(ouId),
        tags: null,
      })
    }
  }
  const sorted = [...found.values()].sort((a, b) => a.id.localeCompare(b.id))
  return options.lookUpTags ? withTags(client, sorted, limit, context) : sorted
}

export interface DescribeAccountsOptions {
  lookUpTags: boolean
  concurrency?: number
  context: CallContext
  /** Where the accounts sit, when an OU walk found them (Identity Center blocks with `ou` filters). */
  placement?: ReadonlyMap<string, Pick<DiscoveredAccount, 'ouId' | 'ouPath'>>
}

/**
 * Names, statuses (and tags) of the given accounts through DescribeAccount, for accounts found outside the OU walk
 * (Identity Center). An id the organization does not know is kept with status NOT_IN_ORGANIZATION, so the status
 * filter reports it rather than the whole block failing. Ordered by id.
 */
export async function describeAccounts(
  client: OrganizationsClient,
  accountIds: readonly string[],
  options: DescribeAccountsOptions,
): Promise<DiscoveredAccount[]> {
  const {context} = options
  const limit = pLimit(options.concurrency ?? DEFAULT_DISCOVERY_CONCURRENCY)
  const ids = [...new Set(accountIds)].sort((a, b) => a.localeCompare(b))
  const accounts = await limit.map(ids, async (id): Promise<DiscoveredAccount> => {
    const placement = options.placement?.get(id)
    const where = {
      ...(placement?.ouId === undefined ? {} : {ouId: placement.ouId}),
      ouPath: [...(placement?.ouPath ?? [])],
    }
    const described = await callAws(context, 'DescribeAccount', id, async () => {
      try {
        return (await client.send(new DescribeAccountCommand({AccountId: id}))).Account
      } catch (error) {
        if ((error as {name?: string}).name === 'AccountNotFoundException') return undefined
        throw error
      }
    })
    if (!described) return {id, name: id, status: 'NOT_IN_ORGANIZATION', ...where, tags: null}
    return {id, name: described.Name ?? id, status: statusOf(described), ...where, tags: null}
  })
  if (!options.lookUpTags) return accounts
  const known = accounts.filter((account) => account.status !== 'NOT_IN_ORGANIZATION')
  const tagged = new Map((await withTags(client, known, limit, context)).map((account) => [account.id, account]))
  return accounts.map((account) => tagged.get(account.id) ?? account)
}

/** The account's tags, every page of them. */
export async function listAccountTags(
  client: OrganizationsClient,
  accountId: string,
  context: CallContext,
): Promise<Record<string, string>> {
  return callAws(context, 'ListTagsForResource', accountId, async () => {
    const tags: Record<string, string> = {}
    for await (const page of paginateListTagsForResource({client}, {ResourceId: accountId})) {
      for (const tag of page.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? ''
    }
    return tags
  })
}

const withTags = (
  client: OrganizationsClient,
  accounts: readonly DiscoveredAccount[],
  limit: LimitFunction,
  context: CallContext,
): Promise<DiscoveredAccount[]> =>
  limit.map(accounts, async (account) => ({...account, tags: await listAccountTags(client, account.id, context)}))

const listRoots = (client: OrganizationsClient, context: CallContext): Promise<string[]> =>
  callAws(context, 'ListRoots', 'organization', async () => {
    const ids: string[] = []
    for await (const page of paginateListRoots({client, pageSize: PAGE_SIZE}, {})) {
      for (const root of page.Roots ?? []) if (root.Id !== undefined) ids.push(root.Id)
    }
    return ids
  })

const listChildOus = (client: OrganizationsClient, parentId: string, context: CallContext): Promise<string[]> =>
  callAws(context, 'ListOrganizationalUnitsForParent', parentId, async () => {
    const ids: string[] = []
    for await (const page of paginateListOrganizationalUnitsForParent(
      {client, pageSize: PAGE_SIZE},
      {ParentId: parentId},
    )) {
      for (const ou of page.OrganizationalUnits ?? []) if (ou.Id !== undefined) ids.push(ou.Id)
    }
    return ids
  })

const listAccountsIn = (client: OrganizationsClient, parentId: string, context: CallContext): Promise<Account[]> =>
  callAws(context, 'ListAccountsForParent', parentId, async () => {
    const accounts: Account[] = []
    for await (const page of paginateListAccountsForParent({client, pageSize: PAGE_SIZE}, {ParentId: parentId})) {
      accounts.push(...(page.Accounts ?? []))
    }
    return accounts
  })
