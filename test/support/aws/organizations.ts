/**
 * AWS Organizations (JSON 1.1, `X-Amz-Target: AWSOrganizationsV20161128.<Operation>`) for the AWS test
 * server: the read operations account discovery needs, with the documented page limits, NextToken
 * pagination (including the empty-but-not-finished pages AWS warns about), access rules and errors.
 *
 * There is one organization per server. Its management account is set explicitly, or, when left out,
 * it becomes whichever account first calls the service: tests then need not know the base account.
 */
import {createHash} from 'node:crypto'
import {takePage} from './paging.js'
import {epochSeconds, jsonServiceHandler, type JsonOperations} from './protocol.js'
import {AwsError, type AwsContext, type AwsRequest, type AwsServiceHandler} from './types.js'

/** The deprecated-but-still-returned `Status` of an account. */
export type AccountStatus = 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE'
/** The newer lifecycle `State` of an account. */
export type AccountState = 'PENDING_ACTIVATION' | 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE' | 'CLOSED'

export interface SetOrganizationOptions {
  /** Management account; when omitted, the first account that calls Organizations becomes it. */
  managementAccountId?: string
  /** `r-` followed by 4 to 32 lowercase letters or digits. */
  rootId?: string
  /** `o-` followed by 10 to 32 lowercase letters or digits. */
  organizationId?: string
  managementAccountName?: string
  managementAccountEmail?: string
}

export interface AddOuOptions {
  /** `ou-<root suffix>-<8 to 32 lowercase letters or digits>`; generated when omitted. */
  id?: string
  name: string
  /** Root or OU id; the root when omitted. */
  parentId?: string
  tags?: Record<string, string>
}

export interface AddAccountOptions {
  /** 12 digits. */
  id: string
  name: string
  email?: string
  /** Defaults from `state`, else ACTIVE. */
  status?: AccountStatus
  /** Defaults from `status`, else ACTIVE. */
  state?: AccountState
  /** Root or OU id; the root when omitted. */
  parentId?: string
  tags?: Record<string, string>
  joinedMethod?: 'CREATED' | 'INVITED'
  /** Milliseconds since the epoch; the server clock at seeding time when omitted. */
  joinedAt?: number
}

export interface GenerateTreeOptions {
  /** Total accounts, spread round-robin over every generated OU (default 300). */
  accounts?: number
  /** Levels of nested OUs below `parentId` (default 4). */
  depth?: number
  /** Child OUs per OU (default 2). */
  branching?: number
  parentId?: string
  /** First account id; the rest count up from it (default 100000000000). */
  firstAccountId?: number
  namePrefix?: string
  tags?: (index: number) => Record<string, string> | undefined
  status?: (index: number) => AccountStatus | undefined
}

export interface GeneratedOu {
  id: string
  name: string
  parentId: string
  /** 1 for the OUs directly below `parentId`. */
  depth: number
}

export interface GeneratedTree {
  ous: GeneratedOu[]
  accounts: Array<{id: string; name: string; parentId: string; depth: number}>
}

export interface OrganizationsState {
  /** Creates the organization (replacing any previous one) with its root and management account. */
  setOrganization(options?: SetOrganizationOptions): {organizationId: string; rootId: string}
  /** Removes the organization: every call then fails with AWSOrganizationsNotInUseException. */
  clearOrganization(): void
  addOu(options: AddOuOptions): string
  addAccount(options: AddAccountOptions): string
  /** Builds a nested OU tree with accounts in it, for discovery at realistic scale. */
  generateTree(options?: GenerateTreeOptions): GeneratedTree
  /** Insert an empty page carrying a NextToken before every real page of every list operation. */
  setEmptyPages(on: boolean): void
  /** Lets a member account call the management-only read operations. */
  addDelegatedAdmin(accountId: string): void
  readonly organizationId: string | undefined
  readonly rootId: string | undefined
  readonly managementAccountId: string | undefined
}

interface OuRecord {
  id: string
  name: string
  parentId: string
  tags: Record<string, string>
}

interface AccountRecord {
  id: string
  name: string
  email: string
  status: AccountStatus
  state: AccountState
  parentId: string
  tags: Record<string, string>
  joinedMethod: 'CREATED' | 'INVITED'
  joinedAt: number
}

interface Organization {
  id: string
  rootId: string
  managementAccountId: string | undefined
  managementAccountName: string
  managementAccountEmail: string | undefined
  rootTags: Record<string, string>
}

const MAX_RESULTS = 20
const ACCOUNT_ID = /^\d{12}$/
const ROOT_ID = /^r-[0-9a-z]{4,32}$/
const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/
const CHILD_TYPES = new Set(['ACCOUNT', 'ORGANIZATIONAL_UNIT'])

const STATUS_FROM_STATE: Record<AccountState, AccountStatus> = {
  PENDING_ACTIVATION: 'ACTIVE',
  ACTIVE: 'ACTIVE',
  SUSPENDED: 'SUSPENDED',
  PENDING_CLOSURE: 'PENDING_CLOSURE',
  // A closed account stays listed, as SUSPENDED, during its 90-day post-closure period.
  CLOSED: 'SUSPENDED',
}

const suffix = (seed: string, length: number): string =>
  createHash('sha256').update(seed).digest('hex').slice(0, length)

const tagList = (tags: Record<string, string>): Array<{Key: string; Value: string}> =>
  Object.entries(tags).map(([Key, Value]) => ({Key, Value}))

/** InvalidInputException carries a documented `Reason`; the message names it too, since only the message is rendered. */
const invalidInput = (reason: string, message: string): AwsError =>
  new AwsError('InvalidInputException', `${message} (${reason})`, 400)

const notInUse = (): AwsError =>
  new AwsError(
    'AWSOrganizationsNotInUseException',
    'Your account is not a member of an organization. To make this request, you must use the credentials of an account that belongs to an organization.',
    404,
  )

const optionalString = (req: AwsRequest, name: string): string | undefined => {
  const value = req.json[name]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw invalidInput('INVALID_SYNTAX', `${name} must be a string`)
  return value
}

const requiredString = (req: AwsRequest, name: string): string => {
  const value = optionalString(req, name)
  if (value === undefined || value === '') throw invalidInput('INPUT_REQUIRED', `You must specify ${name}`)
  return value
}

const pageLimit = (req: AwsRequest): number => {
  const value = req.json.MaxResults
  if (value === undefined || value === null) return MAX_RESULTS
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalidInput('INVALID_SYNTAX', 'MaxResults must be an integer')
  }
  if (value < 1) {
    throw invalidInput(
      'MIN_VALUE_EXCEEDED',
      `1 validation error detected: Value '${value}' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1`,
    )
  }
  if (value > MAX_RESULTS) {
    throw invalidInput(
      'MAX_VALUE_EXCEEDED',
      `1 validation error detected: Value '${value}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${MAX_RESULTS}`,
    )
  }
  return value
}

/** Creates the Organizations handler and the state tests seed it with. */
export function createOrganizationsService(ctx: AwsContext): {handler: AwsServiceHandler; state: OrganizationsState} {
  let org: Organization | undefined
  const ous = new Map<string, OuRecord>()
  const accounts = new Map<string, AccountRecord>()
  const delegatedAdmins = new Set<string>()
  let emptyPages = false
  let ouCounter = 0

  const requireOrg = (): Organization => {
    if (!org) throw new Error('organizations test state: call setOrganization() first')
    return org
  }

  const parentExists = (id: string): boolean => (org !== undefined && id === org.rootId) || ous.has(id)

  const putAccount = (options: AddAccountOptions): string => {
    const current = requireOrg()
    if (!ACCOUNT_ID.test(options.id))
      throw new Error(`organizations test state: account id ${options.id} is not 12 digits`)
    if (accounts.has(options.id)) throw new Error(`organizations test state: account ${options.id} already exists`)
    const parentId = options.parentId ?? current.rootId
    if (!parentExists(parentId)) throw new Error(`organizations test state: unknown parent ${parentId}`)
    const state: AccountState = options.state ?? options.status ?? 'ACTIVE'
    accounts.set(options.id, {
      id: options.id,
      name: options.name,
      email: options.email ?? `aws+${options.id}@example.com`,
      status: options.status ?? STATUS_FROM_STATE[state],
      state,
      parentId,
      tags: {...options.tags},
      joinedMethod: options.joinedMethod ?? 'CREATED',
      joinedAt: options.joinedAt ?? ctx.now(),
    })
    return options.id
  }

  const bindManagementAccount = (current: Organization, accountId: string): void => {
    current.managementAccountId = accountId
    if (!accounts.has(accountId)) {
      putAccount({
        id: accountId,
        name: current.managementAccountName,
        email: current.managementAccountEmail,
        parentId: current.rootId,
      })
    }
  }

  const state: OrganizationsState = {
    setOrganization(options = {}) {
      const rootId = options.rootId ?? `r-${suffix(`root:${options.managementAccountId ?? ''}`, 4)}`
      const organizationId = options.organizationId ?? `o-${suffix(`org:${rootId}`, 10)}`
      if (!ROOT_ID.test(rootId)) throw new Error(`organizations test state: bad root id ${rootId}`)
      if (!ORGANIZATION_ID.test(organizationId))
        throw new Error(`organizations test state: bad organization id ${organizationId}`)
      ous.clear()
      accounts.clear()
      delegatedAdmins.clear()
      org = {
        id: organizationId,
        rootId,
        managementAccountId: undefined,
        managementAccountName: options.managementAccountName ?? 'Management',
        managementAccountEmail: options.managementAccountEmail,
        rootTags: {},
      }
      if (options.managementAccountId !== undefined) bindManagementAccount(org, options.managementAccountId)
      return {organizationId, rootId}
    },
    clearOrganization() {
      org = undefined
      ous.clear()
      accounts.clear()
      delegatedAdmins.clear()
    },
    addOu(options) {
      const current = requireOrg()
      const parentId = options.parentId ?? current.rootId
      if (!parentExists(parentId)) throw new Error(`organizations test state: unknown parent ${parentId}`)
      const id = options.id ?? `ou-${current.rootId.slice(2)}-${suffix(`ou:${++ouCounter}`, 8)}`
      if (!OU_ID.test(id)) throw new Error(`organizations test state: bad OU id ${id}`)
      if (ous.has(id)) throw new Error(`organizations test state: OU ${id} already exists`)
      ous.set(id, {id, name: options.name, parentId, tags: {...options.tags}})
      return id
    },
    addAccount: putAccount,
    generateTree(options = {}) {
      const current = requireOrg()
      const {accounts: total = 300, depth = 4, branching = 2, namePrefix = 'account'} = options
      const top = options.parentId ?? current.rootId
      const tree: GeneratedTree = {ous: [], accounts: []}
      let level: Array<{id: string; name: string}> = [{id: top, name: namePrefix}]
      for (let d = 1; d <= depth; d++) {
        const next: Array<{id: string; name: string}> = []
        for (const parent of level) {
          for (let b = 0; b < branching; b++) {
            const name = `${parent.name}-${b}`
            const id = state.addOu({name, parentId: parent.id})
            tree.ous.push({id, name, parentId: parent.id, depth: d})
            next.push({id, name})
          }
        }
        level = next
      }
      const homes = tree.ous.length > 0 ? tree.ous : [{id: top, name: namePrefix, parentId: top, depth: 0}]
      const firstId = options.firstAccountId ?? 100_000_000_000
      for (let i = 0; i < total; i++) {
        const home = homes[i % homes.length]!
        const id = String(firstId + i).padStart(12, '0')
        const name = `${namePrefix}-${i}`
        putAccount({id, name, parentId: home.id, tags: options.tags?.(i), status: options.status?.(i)})
        tree.accounts.push({id, name, parentId: home.id, depth: home.depth})
      }
      return tree
    },
    setEmptyPages(on) {
      emptyPages = on
    },
    addDelegatedAdmin(accountId) {
      delegatedAdmins.add(accountId)
    },
    get organizationId() {
      return org?.id
    },
    get rootId() {
      return org?.rootId
    },
    get managementAccountId() {
      return org?.managementAccountId
    },
  }

  /** Resolves the organization for a caller, enforcing who may call what. */
  const authorize = (req: AwsRequest, membersAllowed: boolean): Organization & {managementAccountId: string} => {
    if (!org) throw notInUse()
    const managementAccountId = org.managementAccountId ?? req.accountId
    if (org.managementAccountId === undefined) bindManagementAccount(org, managementAccountId)
    const current = {...org, managementAccountId}
    if (req.accountId === managementAccountId || delegatedAdmins.has(req.accountId)) return current
    // AWS answers an account outside the organization as one that is in none, not with AccessDenied.
    if (!accounts.has(req.accountId)) throw notInUse()
    if (membersAllowed) return current
    throw new AwsError('AccessDeniedException', "You don't have permissions to access this resource.", 403)
  }

  const page = <T>(req: AwsRequest, items: readonly T[], scope: string, limit: number) => {
    const result = takePage(items, optionalString(req, 'NextToken'), {scope, limit, emptyPages})
    if (!result) throw invalidInput('INVALID_NEXT_TOKEN', 'The specified NextToken is not valid')
    return result
  }

  const checkParent = (parentId: string): void => {
    if (!ROOT_ID.test(parentId) && !OU_ID.test(parentId)) {
      throw invalidInput('INVALID_PATTERN', `ParentId ${parentId} does not match the pattern of a root or OU id`)
    }
    if (!parentExists(parentId)) {
      throw new AwsError(
        'ParentNotFoundException',
        `We can't find a root or OU with the ParentId that you specified.`,
        404,
      )
    }
  }

  const arns = (current: Organization & {managementAccountId: string}) => ({
    organization: `arn:aws:organizations::${current.managementAccountId}:organization/${current.id}`,
    root: `arn:aws:organizations::${current.managementAccountId}:root/${current.id}/${current.rootId}`,
    ou: (id: string) => `arn:aws:organizations::${current.managementAccountId}:ou/${current.id}/${id}`,
    account: (id: string) => `arn:aws:organizations::${current.managementAccountId}:account/${current.id}/${id}`,
  })

  const renderAccount = (current: Organization & {managementAccountId: string}, account: AccountRecord) => ({
    Id: account.id,
    Arn: arns(current).account(account.id),
    Email: account.email,
    Name: account.name,
    Status: account.status,
    State: account.state,
    JoinedMethod: account.joinedMethod,
    JoinedTimestamp: epochSeconds(account.joinedAt),
  })

  const renderOu = (current: Organization & {managementAccountId: string}, ou: OuRecord) => ({
    Id: ou.id,
    Arn: arns(current).ou(ou.id),
    Name: ou.name,
  })

  const operations: JsonOperations = {
    DescribeOrganization(req) {
      const current = authorize(req, true)
      const management = accounts.get(current.managementAccountId)
      return {
        Organization: {
          Id: current.id,
          Arn: arns(current).organization,
          FeatureSet: 'ALL',
          MasterAccountArn: arns(current).account(current.managementAccountId),
          MasterAccountId: current.managementAccountId,
          MasterAccountEmail: management?.email,
          // Deprecated by AWS and always empty; read policy types from ListRoots instead.
          AvailablePolicyTypes: [],
        },
      }
    },
    ListRoots(req) {
      const current = authorize(req, false)
      const limit = pageLimit(req)
      const root = {Id: current.rootId, Arn: arns(current).root, Name: 'Root', PolicyTypes: []}
      const result = page(req, [root], 'ListRoots', limit)
      return {Roots: result.items, NextToken: result.nextToken}
    },
    ListChildren(req) {
      authorize(req, false)
      const parentId = requiredString(req, 'ParentId')
      const childType = requiredString(req, 'ChildType')
      if (!CHILD_TYPES.has(childType)) {
        throw invalidInput('INVALID_ENUM', `ChildType must be one of ACCOUNT, ORGANIZATIONAL_UNIT`)
      }
      const limit = pageLimit(req)
      checkParent(parentId)
      const children =
        childType === 'ACCOUNT'
          ? [...accounts.values()].filter((a) => a.parentId === parentId).map((a) => ({Id: a.id, Type: 'ACCOUNT'}))
          : [...ous.values()]
              .filter((o) => o.parentId === parentId)
              .map((o) => ({Id: o.id, Type: 'ORGANIZATIONAL_UNIT'}))
      const result = page(req, children, `ListChildren|${parentId}|${childType}`, limit)
      return {Children: result.items, NextToken: result.nextToken}
    },
    ListOrganizationalUnitsForParent(req) {
      const current = authorize(req, false)
      const parentId = requiredString(req, 'ParentId')
      const limit = pageLimit(req)
      checkParent(parentId)
      const children = [...ous.values()].filter((o) => o.parentId === parentId).map((o) => renderOu(current, o))
      const result = page(req, children, `ListOrganizationalUnitsForParent|${parentId}`, limit)
      return {OrganizationalUnits: result.items, NextToken: result.nextToken}
    },
    ListAccounts(req) {
      const current = authorize(req, false)
      const limit = pageLimit(req)
      const all = [...accounts.values()].map((a) => renderAccount(current, a))
      const result = page(req, all, 'ListAccounts', limit)
      return {Accounts: result.items, NextToken: result.nextToken}
    },
    ListAccountsForParent(req) {
      const current = authorize(req, false)
      const parentId = requiredString(req, 'ParentId')
      const limit = pageLimit(req)
      checkParent(parentId)
      const children = [...accounts.values()]
        .filter((a) => a.parentId === parentId)
        .map((a) => renderAccount(current, a))
      const result = page(req, children, `ListAccountsForParent|${parentId}`, limit)
      return {Accounts: result.items, NextToken: result.nextToken}
    },
    ListTagsForResource(req) {
      const current = authorize(req, false)
      const resourceId = requiredString(req, 'ResourceId')
      let tags: Record<string, string> | undefined
      if (ACCOUNT_ID.test(resourceId)) tags = accounts.get(resourceId)?.tags
      else if (OU_ID.test(resourceId)) tags = ous.get(resourceId)?.tags
      else if (ROOT_ID.test(resourceId)) tags = resourceId === current.rootId ? org?.rootTags : undefined
      else throw invalidInput('INVALID_PATTERN', `ResourceId ${resourceId} is not an account, OU or root id`)
      if (!tags)
        throw new AwsError(
          'TargetNotFoundException',
          `We can't find a root, OU, account, or policy with the TargetId that you specified.`,
          404,
        )
      // ListTagsForResource takes no MaxResults; pages are the service default size.
      const result = page(req, tagList(tags), `ListTagsForResource|${resourceId}`, MAX_RESULTS)
      return {Tags: result.items, NextToken: result.nextToken}
    },
    DescribeAccount(req) {
      const current = authorize(req, false)
      const accountId = requiredString(req, 'AccountId')
      if (!ACCOUNT_ID.test(accountId)) throw invalidInput('INVALID_PATTERN', `AccountId ${accountId} is not 12 digits`)
      const account = accounts.get(accountId)
      if (!account) {
        throw new AwsError('AccountNotFoundException', `You specified an account that doesn't exist.`, 404)
      }
      return {Account: renderAccount(current, account)}
    },
  }

  const handler = jsonServiceHandler('organizations', operations)

  return {handler, state}
}
