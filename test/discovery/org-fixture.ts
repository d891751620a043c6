import {IdentitystoreClient} from '@aws-sdk/client-identitystore'
import {OrganizationsClient} from '@aws-sdk/client-organizations'
import {SSOAdminClient} from '@aws-sdk/client-sso-admin'
import {configSchema, type DiscoveryConfig} from '../../src/config/schema.js'
import {
  createMemoryDiscoveryCache,
  discoverTargets,
  type DiscoverTargetsOptions,
  type DiscoverTargetsResult,
  type DiscoveryClients,
} from '../../src/discovery/index.js'
import type {AccountState} from '../support/aws/organizations.js'
import {recordingRuntime} from '../support/runtime.js'
import type {TestStack} from '../support/stack.js'

/**
 * A realistic organization for discovery tests, and a model of it that expectations are computed from:
 * 4 levels of OUs (2 per OU: 30 OUs), 300 generated accounts spread over them with mixed statuses and tags,
 * 25 more in one leaf OU (35 there: two pages of ListAccountsForParent), 3 CLOSED accounts, and the management
 * account in the root. One account carries 25 tags (two pages of ListTagsForResource).
 */
export interface ModelAccount {
  id: string
  name: string
  state: AccountState
  parentId: string
  tags: Record<string, string>
}

export interface OrgModel {
  rootId: string
  ous: Array<{id: string; parentId: string; depth: number}>
  accounts: ModelAccount[]
  /** Root and OU ids from the root down to the account's own OU. */
  pathOf(accountId: string): string[]
  /** Accounts sitting directly in a root or OU. */
  accountsIn(parentId: string): ModelAccount[]
  childOus(parentId: string): string[]
  leaf: string
  closedHome: string
  manyTagsAccount: string
}

export const ENVIRONMENTS = ['production', 'staging', 'staging-eu', 'development'] as const

const tagsFor = (i: number): Record<string, string> | undefined => {
  if (i % 10 === 0) return undefined
  const tags: Record<string, string> = {
    Environment: ENVIRONMENTS[i % 4] as string,
    Team: `team-${i % 3}`,
    CostCenter: `cc-${100 + (i % 5)}`,
  }
  if (i === 42) for (let n = 1; n <= 22; n++) tags[`Extra${n}`] = `value-${n}`
  return tags
}

const statusFor = (i: number): 'SUSPENDED' | 'PENDING_CLOSURE' | undefined =>
  i % 25 === 3 ? 'SUSPENDED' : i % 40 === 11 ? 'PENDING_CLOSURE' : undefined

export function seedOrganization(stack: TestStack): OrgModel {
  const org = stack.aws.organizations
  const managementId = stack.aws.base.accountId
  const {rootId} = org.setOrganization({managementAccountId: managementId})
  const tree = org.generateTree({accounts: 300, depth: 4, branching: 2, tags: tagsFor, status: statusFor})
  const accounts: ModelAccount[] = [{id: managementId, name: 'Management', state: 'ACTIVE', parentId: rootId, tags: {}}]
  tree.accounts.forEach((generated, i) => {
    accounts.push({...generated, state: statusFor(i) ?? 'ACTIVE', tags: tagsFor(i) ?? {}})
  })
  const leaf = tree.ous.find((ou) => ou.depth === 4)?.id as string
  for (let i = 0; i < 25; i++) {
    const account = {
      id: String(200_000_000_000 + i),
      name: `bulk-${i}`,
      state: 'ACTIVE' as const,
      parentId: leaf,
      tags: {Environment: 'production', Team: 'bulk'},
    }
    org.addAccount(account)
    accounts.push(account)
  }
  const closedHome = tree.ous.find((ou) => ou.depth === 2)?.id as string
  for (let i = 0; i < 3; i++) {
    const account = {
      id: String(300_000_000_000 + i),
      name: `closed-${i}`,
      state: 'CLOSED' as const,
      parentId: closedHome,
      tags: {Environment: 'production'},
    }
    org.addAccount(account)
    accounts.push(account)
  }
  const ous = tree.ous.map(({id, parentId, depth}) => ({id, parentId, depth}))
  const parentOf = new Map(ous.map((ou) => [ou.id, ou.parentId]))
  const pathTo = (id: string): string[] => {
    const parent = parentOf.get(id)
    return parent === undefined ? [id] : [...pathTo(parent), id]
  }
  return {
    rootId,
    ous,
    accounts,
    pathOf: (accountId) => pathTo(accounts.find((a) => a.id === accountId)?.parentId ?? ''),
    accountsIn: (parentId) => accounts.filter((a) => a.parentId === parentId),
    childOus: (parentId) => ous.filter((ou) => ou.parentId === parentId).map((ou) => ou.id),
    leaf,
    closedHome,
    manyTagsAccount: tree.accounts[42]?.id as string,
  }
}

export const sortedIds = (accounts: ReadonlyArray<{id: string}>): string[] => accounts.map((a) => a.id).sort()

/** A discovery block exactly as the config loader produces it (defaults filled in). */
export function discoveryBlock(block: Record<string, unknown>): DiscoveryConfig {
  const parsed = configSchema.parse({discovery: [{name: 'workloads', type: 'aws_organizations', ...block}]})
    .discovery[0]
  if (!parsed) throw new Error('no block parsed')
  return parsed
}

export interface StackClientsOptions {
  maxAttempts?: number
  credentials?: {accessKeyId: string; secretAccessKey: string; sessionToken?: string}
}

/** Real SDK clients against the stack; records which role and region each block asked for. */
export function stackClients(
  stack: TestStack,
  options: StackClientsOptions = {},
): DiscoveryClients & {requests: Array<{service: string; roleArn?: string; region?: string}>; destroy(): void} {
  const made: Array<OrganizationsClient | SSOAdminClient | IdentitystoreClient> = []
  const requests: Array<{service: string; roleArn?: string; region?: string}> = []
  const config = {
    endpoint: stack.aws.url,
    region: 'us-east-1',
    credentials: options.credentials ?? {accessKeyId: 'test', secretAccessKey: 'test'},
    maxAttempts: options.maxAttempts ?? 3,
  }
  return {
    requests,
    organizations(roleArn, region) {
      requests.push({service: 'organizations', roleArn, region})
      const client = new OrganizationsClient(config)
      made.push(client)
      return client
    },
    ssoAdmin(roleArn, region) {
      requests.push({service: 'sso-admin', roleArn, region})
      const client = new SSOAdminClient(config)
      made.push(client)
      return client
    },
    identityStore(roleArn, region) {
      requests.push({service: 'identitystore', roleArn, region})
      const client = new IdentitystoreClient(config)
      made.push(client)
      return client
    },
    destroy: () => made.forEach((client) => client.destroy()),
  }
}

/** Runs discovery against the stack with a memory cache, the real clock and a recording logger unless told otherwise. */
export async function runDiscovery(
  clients: DiscoveryClients,
  blocks: DiscoveryConfig[],
  options: Partial<DiscoverTargetsOptions> = {},
): Promise<DiscoverTargetsResult> {
  return discoverTargets({
    blocks,
    staticTargets: [],
    sources: [],
    clients,
    cache: createMemoryDiscoveryCache(),
    noCache: false,
    now: Date.now,
    logger: recordingRuntime().logger,
    ...options,
  })
}

/** The included account ids of the only (or named) block. */
export function includedIds(result: DiscoverTargetsResult, block = 'workloads'): string[] {
  const report = result.report.blocks.find((b) => b.name === block)
  if (!report) throw new Error(`no block ${block} in the report`)
  if (report.error) throw new Error(`block ${block} failed: ${report.error.message}`)
  return report.accounts.filter((a) => a.included).map((a) => a.account_id)
}
