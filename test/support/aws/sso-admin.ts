/**
 * IAM Identity Center admin API (JSON 1.1, `X-Amz-Target: SWBExternalService.<Operation>`) for the AWS
 * test server: the read operations discovery needs to find accounts by permission set or by group.
 *
 * Group lookup by display name belongs to another service, the Identity Store (identity-store.ts, GetGroupId);
 * groups are seeded here (`addGroup`) with their instance's identity store, and it answers from this state.
 */
import {createHash} from 'node:crypto'
import {takePage} from './paging.js'
import {epochSeconds, jsonServiceHandler, type JsonOperations} from './protocol.js'
import {AwsError, type AwsContext, type AwsRequest, type AwsServiceHandler} from './types.js'

export type PrincipalType = 'GROUP' | 'USER'
export type ProvisioningStatus = 'LATEST_PERMISSION_SET_PROVISIONED' | 'LATEST_PERMISSION_SET_NOT_PROVISIONED'

export interface AddInstanceOptions {
  /** `arn:aws:sso:::instance/ssoins-<16 characters>`; generated when omitted. */
  instanceArn?: string
  /** `d-<10 characters>`; generated when omitted. */
  identityStoreId?: string
  /**
   * Account that owns the instance (the organization's management account). When set, other accounts
   * do not see the instance and are denied its operations unless registered with `addDelegatedAdmin`;
   * when omitted, every account sees it as its own.
   */
  ownerAccountId?: string
  name?: string
}

export interface AddPermissionSetOptions {
  name: string
  description?: string
  /** ISO 8601 duration (default PT1H). */
  sessionDuration?: string
  relayState?: string
}

export interface AssignOptions {
  accountId: string
  permissionSetArn: string
  principalType: PrincipalType
  principalId: string
}

export interface AddGroupOptions {
  /** Identity store of the group; the first instance's when omitted. */
  identityStoreId?: string
  /** Identity Store group id (a UUID-like string); generated when omitted. */
  id?: string
  displayName: string
  description?: string
}

/** A group as the Identity Store describes it. */
export interface IdentityStoreGroup {
  GroupId: string
  DisplayName: string
  Description?: string
  IdentityStoreId: string
}

export interface SsoAdminState {
  addInstance(options?: AddInstanceOptions): {instanceArn: string; identityStoreId: string}
  addPermissionSet(instanceArn: string, options: AddPermissionSetOptions): string
  /** Provisions the permission set to the account (default status LATEST_PERMISSION_SET_PROVISIONED). */
  provision(instanceArn: string, permissionSetArn: string, accountId: string, status?: ProvisioningStatus): void
  /** Assigns a principal to an account with a permission set; provisions it there too, as AWS does. */
  assign(instanceArn: string, options: AssignOptions): void
  addGroup(options: AddGroupOptions): string
  /** Groups of an identity store (what the Identity Store handler answers from). */
  groups(identityStoreId: string): IdentityStoreGroup[]
  /** Whether an account may read an identity store: as for its instance (owner or delegated admin); unknown store: undefined. */
  identityStoreVisibleTo(identityStoreId: string, accountId: string): boolean | undefined
  /** Lets a member account use instances owned by another account. */
  addDelegatedAdmin(accountId: string): void
  /** Insert an empty page carrying a NextToken before every real page of every list operation. */
  setEmptyPages(on: boolean): void
}

interface PermissionSetRecord {
  arn: string
  name: string
  description?: string
  sessionDuration: string
  relayState?: string
  createdAt: number
  /** Account id → provisioning status, in provisioning order. */
  provisioned: Map<string, ProvisioningStatus>
}

interface InstanceRecord {
  arn: string
  identityStoreId: string
  ownerAccountId?: string
  name?: string
  createdAt: number
  permissionSets: Map<string, PermissionSetRecord>
  assignments: AssignOptions[]
}

const MAX_RESULTS = 100
const PARTITION = '(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b)'
const INSTANCE_ARN = new RegExp(`^arn:${PARTITION}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$`)
const PERMISSION_SET_ARN = new RegExp(
  `^arn:${PARTITION}:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}$`,
)
const IDENTITY_STORE_ID = /^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const ACCOUNT_ID = /^\d{12}$/
const PROVISIONING_STATUSES = new Set(['LATEST_PERMISSION_SET_PROVISIONED', 'LATEST_PERMISSION_SET_NOT_PROVISIONED'])

const hex = (seed: string, length: number): string => createHash('sha256').update(seed).digest('hex').slice(0, length)

/** The `ssoins-…` part shared by an instance ARN and the ARNs of its permission sets. */
const instanceIdOf = (arn: string): string => arn.slice(arn.indexOf('/') + 1).split('/')[0] ?? ''

/** Messages follow the service's generic constraint-violation wording. */
const validation = (field: string, value: unknown, constraint: string): AwsError =>
  new AwsError(
    'ValidationException',
    `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: ${constraint}`,
    400,
  )

const lowerFirst = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1)

const optionalString = (req: AwsRequest, name: string): string | undefined => {
  const value = req.json[name]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw validation(lowerFirst(name), value, 'Member must be a string')
  return value
}

const requiredString = (req: AwsRequest, name: string, pattern: RegExp): string => {
  const value = optionalString(req, name)
  if (value === undefined) throw validation(lowerFirst(name), 'null', 'Member must not be null')
  if (!pattern.test(value)) {
    throw validation(lowerFirst(name), value, `Member must satisfy regular expression pattern: ${pattern.source}`)
  }
  return value
}

const pageLimit = (req: AwsRequest): number => {
  const value = req.json.MaxResults
  if (value === undefined || value === null) return MAX_RESULTS
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw validation('maxResults', value, 'Member must be an integer')
  }
  if (value < 1) throw validation('maxResults', value, 'Member must have value greater than or equal to 1')
  if (value > MAX_RESULTS) {
    throw validation('maxResults', value, `Member must have value less than or equal to ${MAX_RESULTS}`)
  }
  return value
}

/** Creates the SSO Admin handler and the state tests seed it with. */
export function createSsoAdminService(ctx: AwsContext): {handler: AwsServiceHandler; state: SsoAdminState} {
  const instances = new Map<string, InstanceRecord>()
  const groupsByStore = new Map<string, IdentityStoreGroup[]>()
  const delegatedAdmins = new Set<string>()
  let emptyPages = false
  let counter = 0

  const seededInstance = (instanceArn: string): InstanceRecord => {
    const instance = instances.get(instanceArn)
    if (!instance) throw new Error(`sso-admin test state: unknown instance ${instanceArn}`)
    return instance
  }

  const seededPermissionSet = (instance: InstanceRecord, permissionSetArn: string): PermissionSetRecord => {
    const permissionSet = instance.permissionSets.get(permissionSetArn)
    if (!permissionSet) throw new Error(`sso-admin test state: unknown permission set ${permissionSetArn}`)
    return permissionSet
  }

  const state: SsoAdminState = {
    addInstance(options = {}) {
      const n = ++counter
      const instanceArn = options.instanceArn ?? `arn:aws:sso:::instance/ssoins-${hex(`instance:${n}`, 16)}`
      const identityStoreId = options.identityStoreId ?? `d-${hex(`store:${n}`, 10)}`
      if (!INSTANCE_ARN.test(instanceArn)) throw new Error(`sso-admin test state: bad instance ARN ${instanceArn}`)
      if (!IDENTITY_STORE_ID.test(identityStoreId)) {
        throw new Error(`sso-admin test state: bad identity store id ${identityStoreId}`)
      }
      if (instances.has(instanceArn)) throw new Error(`sso-admin test state: instance ${instanceArn} already exists`)
      instances.set(instanceArn, {
        arn: instanceArn,
        identityStoreId,
        ownerAccountId: options.ownerAccountId,
        name: options.name,
        createdAt: ctx.now(),
        permissionSets: new Map(),
        assignments: [],
      })
      return {instanceArn, identityStoreId}
    },
    addPermissionSet(instanceArn, options) {
      const instance = seededInstance(instanceArn)
      const arn = `arn:aws:sso:::permissionSet/${instanceIdOf(instanceArn)}/ps-${hex(`ps:${++counter}`, 16)}`
      instance.permissionSets.set(arn, {
        arn,
        name: options.name,
        description: options.description,
        sessionDuration: options.sessionDuration ?? 'PT1H',
        relayState: options.relayState,
        createdAt: ctx.now(),
        provisioned: new Map(),
      })
      return arn
    },
    provision(instanceArn, permissionSetArn, accountId, status = 'LATEST_PERMISSION_SET_PROVISIONED') {
      if (!ACCOUNT_ID.test(accountId)) throw new Error(`sso-admin test state: account id ${accountId} is not 12 digits`)
      seededPermissionSet(seededInstance(instanceArn), permissionSetArn).provisioned.set(accountId, status)
    },
    assign(instanceArn, options) {
      const instance = seededInstance(instanceArn)
      const permissionSet = seededPermissionSet(instance, options.permissionSetArn)
      if (!ACCOUNT_ID.test(options.accountId)) {
        throw new Error(`sso-admin test state: account id ${options.accountId} is not 12 digits`)
      }
      if (!permissionSet.provisioned.has(options.accountId)) {
        permissionSet.provisioned.set(options.accountId, 'LATEST_PERMISSION_SET_PROVISIONED')
      }
      const exists = instance.assignments.some(
        (a) =>
          a.accountId === options.accountId &&
          a.permissionSetArn === options.permissionSetArn &&
          a.principalType === options.principalType &&
          a.principalId === options.principalId,
      )
      if (!exists) instance.assignments.push({...options})
    },
    addGroup(options) {
      const identityStoreId = options.identityStoreId ?? instances.values().next().value?.identityStoreId
      if (identityStoreId === undefined) throw new Error('sso-admin test state: add an instance before its groups')
      // The documented GroupId form: 10 hex digits of the store, then a UUID (8-4-4-4-12).
      const seed = hex(`group:${++counter}`, 42)
      const id =
        options.id ??
        `${seed.slice(0, 10)}-${seed.slice(10, 18)}-${seed.slice(18, 22)}-${seed.slice(22, 26)}-${seed.slice(26, 30)}-${seed.slice(30, 42)}`
      const groups = groupsByStore.get(identityStoreId) ?? []
      groups.push({
        GroupId: id,
        DisplayName: options.displayName,
        Description: options.description,
        IdentityStoreId: identityStoreId,
      })
      groupsByStore.set(identityStoreId, groups)
      return id
    },
    groups(identityStoreId) {
      return (groupsByStore.get(identityStoreId) ?? []).map((g) => ({...g}))
    },
    identityStoreVisibleTo(identityStoreId, accountId) {
      const instance = [...instances.values()].find((i) => i.identityStoreId === identityStoreId)
      return instance === undefined ? undefined : visibleTo(instance, accountId)
    },
    addDelegatedAdmin(accountId) {
      delegatedAdmins.add(accountId)
    },
    setEmptyPages(on) {
      emptyPages = on
    },
  }

  const visibleTo = (instance: InstanceRecord, accountId: string): boolean =>
    instance.ownerAccountId === undefined || instance.ownerAccountId === accountId || delegatedAdmins.has(accountId)

  /** The instance named by the request, if the caller may use it. */
  const instanceFor = (req: AwsRequest): InstanceRecord => {
    const instanceArn = requiredString(req, 'InstanceArn', INSTANCE_ARN)
    const instance = instances.get(instanceArn)
    if (!instance) throw new AwsError('ResourceNotFoundException', `Instance ${instanceArn} does not exist.`, 404)
    if (!visibleTo(instance, req.accountId)) {
      throw new AwsError(
        'AccessDeniedException',
        `User is not authorized to perform this operation on ${instanceArn}.`,
        403,
      )
    }
    return instance
  }

  const permissionSetFor = (req: AwsRequest, instance: InstanceRecord): PermissionSetRecord => {
    const permissionSetArn = requiredString(req, 'PermissionSetArn', PERMISSION_SET_ARN)
    const permissionSet = instance.permissionSets.get(permissionSetArn)
    if (!permissionSet) {
      throw new AwsError('ResourceNotFoundException', `Could not find PermissionSet with arn ${permissionSetArn}.`, 404)
    }
    return permissionSet
  }

  const page = <T>(req: AwsRequest, items: readonly T[], scope: string) => {
    const limit = pageLimit(req)
    const token = optionalString(req, 'NextToken')
    const result = takePage(items, token, {scope, limit, emptyPages})
    if (!result) throw validation('nextToken', token, 'Member must be a token returned by a previous call')
    return result
  }

  const operations: JsonOperations = {
    ListInstances(req) {
      const visible = [...instances.values()]
        .filter((i) => visibleTo(i, req.accountId))
        .map((i) => ({
          InstanceArn: i.arn,
          IdentityStoreId: i.identityStoreId,
          OwnerAccountId: i.ownerAccountId ?? req.accountId,
          Name: i.name,
          CreatedDate: epochSeconds(i.createdAt),
          Status: 'ACTIVE',
        }))
      const result = page(req, visible, `ListInstances|${req.accountId}`)
      return {Instances: result.items, NextToken: result.nextToken}
    },
    ListPermissionSets(req) {
      const instance = instanceFor(req)
      const result = page(req, [...instance.permissionSets.keys()], `ListPermissionSets|${instance.arn}`)
      return {PermissionSets: result.items, NextToken: result.nextToken}
    },
    DescribePermissionSet(req) {
      const instance = instanceFor(req)
      const permissionSet = permissionSetFor(req, instance)
      return {
        PermissionSet: {
          Name: permissionSet.name,
          PermissionSetArn: permissionSet.arn,
          Description: permissionSet.description,
          CreatedDate: epochSeconds(permissionSet.createdAt),
          SessionDuration: permissionSet.sessionDuration,
          RelayState: permissionSet.relayState,
        },
      }
    },
    ListAccountsForProvisionedPermissionSet(req) {
      const instance = instanceFor(req)
      const permissionSet = permissionSetFor(req, instance)
      const status = optionalString(req, 'ProvisioningStatus')
      if (status !== undefined && !PROVISIONING_STATUSES.has(status)) {
        throw validation(
          'provisioningStatus',
          status,
          `Member must satisfy enum value set: [${[...PROVISIONING_STATUSES].join(', ')}]`,
        )
      }
      const accountIds = [...permissionSet.provisioned]
        .filter(([, s]) => status === undefined || s === status)
        .map(([accountId]) => accountId)
      const result = page(
        req,
        accountIds,
        `ListAccountsForProvisionedPermissionSet|${permissionSet.arn}|${status ?? ''}`,
      )
      return {AccountIds: result.items, NextToken: result.nextToken}
    },
    ListAccountAssignments(req) {
      const instance = instanceFor(req)
      const accountId = requiredString(req, 'AccountId', ACCOUNT_ID)
      const permissionSet = permissionSetFor(req, instance)
      const assignments = instance.assignments
        .filter((a) => a.accountId === accountId && a.permissionSetArn === permissionSet.arn)
        .map((a) => ({
          AccountId: a.accountId,
          PermissionSetArn: a.permissionSetArn,
          PrincipalType: a.principalType,
          PrincipalId: a.principalId,
        }))
      const result = page(req, assignments, `ListAccountAssignments|${permissionSet.arn}|${accountId}`)
      return {AccountAssignments: result.items, NextToken: result.nextToken}
    },
  }

  const handler = jsonServiceHandler('sso-admin', operations)

  return {handler, state}
}
