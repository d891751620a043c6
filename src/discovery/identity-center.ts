import {
  DescribePermissionSetCommand,
  paginateListAccountAssignments,
  paginateListAccountsForProvisionedPermissionSet,
  paginateListInstances,
  paginateListPermissionSets,
  type InstanceMetadata,
  type SSOAdminClient,
} from '@aws-sdk/client-sso-admin'
import pLimit, {type LimitFunction} from 'p-limit'
import {didYouMean} from '../config/did-you-mean.js'
import {ExitCode} from '../errors.js'
import {callAws, DiscoveryError} from './errors.js'
import {DEFAULT_DISCOVERY_CONCURRENCY} from './organizations.js'
import type {CallContext, GroupResolver} from './types.js'

/** Identity Store group ids: a UUID, optionally behind a 10-hex-digit prefix and `-` (the documented GroupId pattern). */
const GROUP_ID = /^([0-9a-f]{10}-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export const isGroupId = (group: string): boolean => GROUP_ID.test(group)

export interface IdentityCenterQuery {
  /** The instance to read; the only instance the role sees when omitted. */
  instanceArn?: string
  /** Permission set name: accounts where it is provisioned (or, with `group`, where the group holds it). */
  permissionSet?: string
  /** Group id, or display name (resolved with `resolveGroup` in the instance's identity store): accounts where the group holds an assignment. */
  group?: string
  resolveGroup: GroupResolver
  concurrency?: number
  context: CallContext
}

/**
 * Account ids selected in IAM Identity Center, ordered. By permission set: every account it is provisioned to.
 * By group: every account where the group holds an assignment of any permission set (only the named one when
 * `permissionSet` is set too). Assignments are looked up only where the permission set is provisioned, since
 * assigning it provisions it there.
 */
export async function listIdentityCenterAccountIds(
  client: SSOAdminClient,
  query: IdentityCenterQuery,
): Promise<string[]> {
  const {context} = query
  const limit = pLimit(query.concurrency ?? DEFAULT_DISCOVERY_CONCURRENCY)
  const needsStore = query.group !== undefined && !isGroupId(query.group)
  const instance = await findInstance(client, query.instanceArn, needsStore, context)
  const groupId = query.group === undefined ? undefined : await resolveGroupId(query, instance, context)
  const {instanceArn} = instance

  const permissionSetArns = await listPermissionSets(client, instanceArn, context)
  const selected =
    query.permissionSet === undefined
      ? permissionSetArns
      : [
          await findPermissionSet(
            client,
            {instanceArn, arns: permissionSetArns, name: query.permissionSet},
            limit,
            context,
          ),
        ]

  const provisioned = await limit.map(selected, async (permissionSetArn) => ({
    permissionSetArn,
    accountIds: await listProvisionedAccounts(client, instanceArn, permissionSetArn, context),
  }))
  if (groupId === undefined) return sortedUnique(provisioned.flatMap((p) => p.accountIds))

  const pairs = provisioned.flatMap(({permissionSetArn, accountIds}) =>
    accountIds.map((accountId) => ({permissionSetArn, accountId})),
  )
  const held = await limit.map(pairs, async ({permissionSetArn, accountId}) =>
    (await groupHoldsAssignment(client, {instanceArn, permissionSetArn, accountId, groupId}, context))
      ? accountId
      : undefined,
  )
  return sortedUnique(held.filter((id): id is string => id !== undefined))
}

interface Instance {
  instanceArn: string
  /** Known when the instance was listed. */
  identityStoreId?: string
}

const sortedUnique = (ids: readonly string[]): string[] => [...new Set(ids)].sort((a, b) => a.localeCompare(b))

async function findInstance(
  client: SSOAdminClient,
  instanceArn: string | undefined,
  needsStore: boolean,
  context: CallContext,
): Promise<Instance> {
  // The configured ARN is used as given, unless a group name must be resolved in the instance's identity store.
  if (instanceArn !== undefined && !needsStore) return {instanceArn}
  const instances = await callAws(context, 'ListInstances', 'sso-admin', async () => {
    const found: InstanceMetadata[] = []
    for await (const page of paginateListInstances({client}, {})) found.push(...(page.Instances ?? []))
    return found
  })
  const candidates = instanceArn === undefined ? instances : instances.filter((i) => i.InstanceArn === instanceArn)
  const [only, ...others] = candidates
  if (only?.InstanceArn === undefined) {
    const which = instanceArn === undefined ? 'no IAM Identity Center instance' : `instance ${instanceArn} is not`
    throw new DiscoveryError(context.block, `${which} visible to the discovery role`, {
      code: 'DISCOVERY_NO_INSTANCE',
      hint: 'Check role_arn and region: Identity Center lives in its home region, and the role needs sso:ListInstances.',
    })
  }
  if (others.length > 0) {
    throw new DiscoveryError(
      context.block,
      `${candidates.length} IAM Identity Center instances are visible; choose one`,
      {
        code: 'DISCOVERY_INSTANCE_AMBIGUOUS',
        exitCode: ExitCode.usage,
        hint: `Set instance_arn to one of: ${candidates.map((i) => i.InstanceArn).join(', ')}.`,
      },
    )
  }
  return {
    instanceArn: only.InstanceArn,
    ...(only.IdentityStoreId === undefined ? {} : {identityStoreId: only.IdentityStoreId}),
  }
}

async function resolveGroupId(query: IdentityCenterQuery, instance: Instance, context: CallContext): Promise<string> {
  const group = query.group as string
  if (isGroupId(group)) return group
  const {identityStoreId} = instance
  const resolved =
    identityStoreId === undefined
      ? undefined
      : await callAws(context, 'identitystore:GetGroupId', identityStoreId, () =>
          query.resolveGroup(group, {identityStoreId}),
        )
  if (resolved === undefined) {
    throw new DiscoveryError(
      context.block,
      `no group named "${group}" in identity store ${identityStoreId ?? '(unknown)'}`,
      {
        code: 'DISCOVERY_GROUP_NOT_FOUND',
        hint: 'Group display names are case-sensitive; or set group to the group id.',
      },
    )
  }
  return resolved
}

const listPermissionSets = (client: SSOAdminClient, instanceArn: string, context: CallContext): Promise<string[]> =>
  callAws(context, 'ListPermissionSets', instanceArn, async () => {
    const arns: string[] = []
    for await (const page of paginateListPermissionSets({client}, {InstanceArn: instanceArn}))
      arns.push(...(page.PermissionSets ?? []))
    return arns
  })

async function findPermissionSet(
  client: SSOAdminClient,
  wanted: {instanceArn: string; arns: readonly string[]; name: string},
  limit: LimitFunction,
  context: CallContext,
): Promise<string> {
  const {instanceArn, arns, name} = wanted
  const described = await limit.map(arns, (arn) =>
    callAws(context, 'DescribePermissionSet', arn, async () => {
      const response = await client.send(
        new DescribePermissionSetCommand({InstanceArn: instanceArn, PermissionSetArn: arn}),
      )
      return {arn, name: response.PermissionSet?.Name}
    }),
  )
  const match = described.find((set) => set.name === name)
  if (match) return match.arn
  const names = described.flatMap((set) => (set.name === undefined ? [] : [set.name]))
  throw new DiscoveryError(
    context.block,
    `no permission set named "${name}" in ${instanceArn}${didYouMean(name, names)}`,
    {
      code: 'DISCOVERY_PERMISSION_SET_NOT_FOUND',
      hint: `Permission set names are case-sensitive; the instance has ${names.length}.`,
    },
  )
}

const listProvisionedAccounts = (
  client: SSOAdminClient,
  instanceArn: string,
  permissionSetArn: string,
  context: CallContext,
): Promise<string[]> =>
  callAws(context, 'ListAccountsForProvisionedPermissionSet', permissionSetArn, async () => {
    const ids: string[] = []
    const input = {InstanceArn: instanceArn, PermissionSetArn: permissionSetArn}
    for await (const page of paginateListAccountsForProvisionedPermissionSet({client}, input))
      ids.push(...(page.AccountIds ?? []))
    return ids
  })

const groupHoldsAssignment = (
  client: SSOAdminClient,
  target: {instanceArn: string; permissionSetArn: string; accountId: string; groupId: string},
  context: CallContext,
): Promise<boolean> =>
  callAws(context, 'ListAccountAssignments', `${target.accountId} ${target.permissionSetArn}`, async () => {
    const input = {
      InstanceArn: target.instanceArn,
      AccountId: target.accountId,
      PermissionSetArn: target.permissionSetArn,
    }
    for await (const page of paginateListAccountAssignments({client}, input)) {
      const assignments = page.AccountAssignments ?? []
      if (assignments.some((a) => a.PrincipalType === 'GROUP' && a.PrincipalId === target.groupId)) return true
    }
    return false
  })
