import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {startTestStack, type TestStack} from '../support/stack.js'
import {
  discoveryBlock,
  includedIds,
  runDiscovery,
  seedOrganization,
  stackClients,
  type OrgModel,
} from './org-fixture.js'

// Discovery through IAM Identity Center (SSO Admin), with names, statuses and tags from Organizations, over the
// real SDK clients against the in-process AWS server.

const PLATFORM = 'a1b2c3d4e5-11112222-3333-4444-5555-666677778888'
const AUDITORS = 'f0e1d2c3b4-99990000-aaaa-bbbb-cccc-ddddeeeeffff'
const OUTSIDER = '999999999999'

let stack: TestStack
let model: OrgModel
let clients: ReturnType<typeof stackClients>
let seeded: {
  instanceArn: string
  identityStoreId: string
  adminProvisioned: string[]
  platformReadOnly: string[]
  platformAdmin: string[]
  userOnly: string
}

beforeEach(async () => {
  stack = await startTestStack()
  model = seedOrganization(stack)
  clients = stackClients(stack)
  const sso = stack.aws.ssoAdmin
  const {instanceArn, identityStoreId} = sso.addInstance()
  const admin = sso.addPermissionSet(instanceArn, {name: 'AdministratorAccess'})
  const readOnly = sso.addPermissionSet(instanceArn, {name: 'ReadOnlyAccess'})
  sso.addPermissionSet(instanceArn, {name: 'Billing'})
  sso.addGroup({identityStoreId, id: PLATFORM, displayName: 'Platform'})
  sso.addGroup({identityStoreId, id: AUDITORS, displayName: 'Auditors'})

  const ids = model.accounts.map((a) => a.id)
  const every = (n: number, r: number): string[] => ids.filter((_, i) => i % n === r)
  // AdministratorAccess provisioned to every 7th account and to one account outside the organization
  for (const id of [...every(7, 1), OUTSIDER]) sso.provision(instanceArn, admin, id)
  // Platform holds ReadOnlyAccess in every 11th account and AdministratorAccess in every 13th
  const group = (
    principalId: string,
    permissionSetArn: string,
    accountId: string,
    principalType: 'GROUP' | 'USER' = 'GROUP',
  ) => sso.assign(instanceArn, {accountId, permissionSetArn, principalType, principalId})
  for (const id of every(11, 2)) group(PLATFORM, readOnly, id)
  for (const id of every(13, 5)) group(PLATFORM, admin, id)
  for (const id of every(5, 0)) group(AUDITORS, readOnly, id)
  // A user whose id happens to equal the group's must not count as the group
  const userOnly = ids.find((id, i) => i % 11 !== 2 && i % 13 !== 5 && i % 17 === 3) as string
  group(PLATFORM, readOnly, userOnly, 'USER')
  seeded = {
    instanceArn,
    identityStoreId,
    adminProvisioned: [...every(7, 1), ...every(13, 5), OUTSIDER],
    platformReadOnly: every(11, 2),
    platformAdmin: every(13, 5),
    userOnly,
  }
})

afterEach(async () => {
  clients.destroy()
  await stack.close()
})

const isActive = (id: string): boolean => model.accounts.find((a) => a.id === id)?.state === 'ACTIVE'
const activeSorted = (ids: string[]): string[] => [...new Set(ids)].filter(isActive).sort()
const ssoCalls = (operation: string): number => stack.controls.count({service: 'sso-admin', operation})
const orgCalls = (operation: string): number => stack.controls.count({service: 'organizations', operation})

const identityCenter = (block: Record<string, unknown>) => discoveryBlock({type: 'aws_identity_center', ...block})

describe('by permission set', () => {
  it('includes the active accounts the permission set is provisioned to', async () => {
    const result = await runDiscovery(clients, [identityCenter({permission_set: 'AdministratorAccess'})])

    expect(includedIds(result)).toEqual(activeSorted(seeded.adminProvisioned))
    // The account outside the organization is reported, not fatal
    const outsider = result.report.blocks[0]?.accounts.find((a) => a.account_id === OUTSIDER)
    expect(outsider).toMatchObject({status: 'NOT_IN_ORGANIZATION', included: false})
    // Calls: one instance listing, one permission set listing, a describe per permission set (3), one page of
    // provisioned accounts (≤ 100), a DescribeAccount per account, no tags (nothing reads them)
    const provisioned = new Set(seeded.adminProvisioned).size
    expect({
      ListInstances: ssoCalls('ListInstances'),
      ListPermissionSets: ssoCalls('ListPermissionSets'),
      DescribePermissionSet: ssoCalls('DescribePermissionSet'),
      ListAccountsForProvisionedPermissionSet: ssoCalls('ListAccountsForProvisionedPermissionSet'),
      ListAccountAssignments: ssoCalls('ListAccountAssignments'),
      DescribeAccount: orgCalls('DescribeAccount'),
      ListTagsForResource: orgCalls('ListTagsForResource'),
    }).toEqual({
      ListInstances: 1,
      ListPermissionSets: 1,
      DescribePermissionSet: 3,
      ListAccountsForProvisionedPermissionSet: 1,
      ListAccountAssignments: 0,
      DescribeAccount: provisioned,
      ListTagsForResource: 0,
    })
  })

  it('uses a configured instance_arn without listing instances', async () => {
    const result = await runDiscovery(clients, [
      identityCenter({permission_set: 'AdministratorAccess', instance_arn: seeded.instanceArn}),
    ])
    expect(includedIds(result)).toEqual(activeSorted(seeded.adminProvisioned))
    expect(ssoCalls('ListInstances')).toBe(0)
  })

  it('fails the block, with a suggestion, for a permission set that does not exist', async () => {
    const result = await runDiscovery(clients, [identityCenter({permission_set: 'AdministratorAcess'})])
    expect(result.report.blocks[0]).toMatchObject({
      status: 'failed',
      error: {
        code: 'DISCOVERY_PERMISSION_SET_NOT_FOUND',
        message: expect.stringContaining('(did you mean "AdministratorAccess"?)') as unknown,
      },
    })
    expect(result.targets).toEqual([])
  })
})

describe('by group', () => {
  it('includes the accounts where the group id holds an assignment of any permission set', async () => {
    const result = await runDiscovery(clients, [identityCenter({group: PLATFORM})])

    expect(includedIds(result)).toEqual(activeSorted([...seeded.platformReadOnly, ...seeded.platformAdmin]))
    expect(result.report.blocks[0]?.accounts.map((a) => a.account_id)).not.toContain(seeded.userOnly)
    // One ListAccountAssignments per provisioned (account, permission set) pair
    expect(ssoCalls('ListAccountAssignments')).toBe(
      new Set(seeded.adminProvisioned).size +
        new Set([...seeded.platformReadOnly, ...accountsOf(5, 0), seeded.userOnly]).size,
    )
  })

  it('narrows to one permission set when both are given', async () => {
    const result = await runDiscovery(clients, [
      identityCenter({group: PLATFORM, permission_set: 'AdministratorAccess'}),
    ])
    expect(includedIds(result)).toEqual(activeSorted(seeded.platformAdmin))
  })

  it('resolves a display name with one Identity Store GetGroupId in the instance’s identity store', async () => {
    // When the group is given by its display name
    const byName = await runDiscovery(clients, [identityCenter({group: 'Platform'})])

    // Then it selects exactly the accounts its id selects, after one GetGroupId
    const byId = await runDiscovery(clients, [identityCenter({group: PLATFORM})])
    expect(includedIds(byName)).toEqual(includedIds(byId))
    expect(includedIds(byName)).toEqual(activeSorted([...seeded.platformReadOnly, ...seeded.platformAdmin]))
    expect(stack.controls.count({service: 'identitystore', operation: 'GetGroupId'})).toBe(1)
    expect(clients.requests.filter((r) => r.service === 'identitystore')).toHaveLength(1)
  })

  it('fails the block naming the group when no group has that display name', async () => {
    for (const name of ['Nobody', 'Plat']) {
      const result = await runDiscovery(clients, [identityCenter({group: name})])
      expect(result.report.blocks[0]).toMatchObject({
        status: 'failed',
        error: {
          code: 'DISCOVERY_GROUP_NOT_FOUND',
          message: `discovery "workloads": no group named "${name}" in identity store ${seeded.identityStoreId}`,
        },
      })
    }
    expect(stack.controls.count({service: 'sso-admin', operation: 'ListAccountAssignments'})).toBe(0)
  })

  it('follows NextToken through empty pages in both services', async () => {
    const block = identityCenter({group: PLATFORM, filters: [{tag: 'Environment', values: ['*']}]})
    const now = () => Date.UTC(2024, 4, 1)
    const plain = await runDiscovery(clients, [block], {now})
    stack.aws.ssoAdmin.setEmptyPages(true)
    stack.aws.organizations.setEmptyPages(true)
    const paged = await runDiscovery(clients, [block], {now})
    expect(paged.report).toEqual(plain.report)
    expect(includedIds(paged).length).toBeGreaterThan(10)
  })
})

describe('with ou filters and templates', () => {
  it('places Identity Center accounts in their OU for ou filters and {{ou_id}}', async () => {
    const top = model.childOus(model.rootId)[0] as string
    const result = await runDiscovery(clients, [
      identityCenter({
        permission_set: 'AdministratorAccess',
        filters: [{ou: top}, {tag: 'Environment', values: ['production']}],
        target: {name: '{{ou_id}}-{{account_id}}', role_arn: 'arn:aws:iam::{{account_id}}:role/SecretSync'},
      }),
    ])
    const expectedIds = activeSorted(seeded.adminProvisioned).filter((id) => {
      const account = model.accounts.find((a) => a.id === id)
      return model.pathOf(id).includes(top) && account?.tags.Environment === 'production'
    })
    expect(includedIds(result)).toEqual(expectedIds)
    expect(expectedIds.length).toBeGreaterThan(0)
    expect(result.targets.map((t) => [t.name, t.role_arn])).toEqual(
      expectedIds.map((id) => [
        `${model.accounts.find((a) => a.id === id)?.parentId}-${id}`,
        `arn:aws:iam::${id}:role/SecretSync`,
      ]),
    )
  })
})

function accountsOf(n: number, r: number): string[] {
  return model.accounts.map((a) => a.id).filter((_, i) => i % n === r)
}
