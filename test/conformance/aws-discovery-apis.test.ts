import {
  CloseAccountCommand,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  DescribeAccountCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
  paginateListTagsForResource,
} from '@aws-sdk/client-organizations'
import {
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  DescribePermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListAccountsForProvisionedPermissionSetCommand,
  ListInstancesCommand,
  ListPermissionSetsCommand,
  ProvisionPermissionSetCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin'
import {afterEach, describe, expect, it} from 'vitest'
import {useAwsEndpoint} from './endpoint.js'

// The Organizations and SSO Admin reads discovery makes, on the project's server and on moto alike, each seeded the
// way it can be: from state on the server, through the write APIs on moto. The exhaustive checks (paging at scale,
// empty pages, limits, access rules) stay in aws-organizations.test.ts and aws-sso-admin.test.ts, server only.
// moto gap: ProvisionPermissionSet ignores TargetId (provisions to the caller's account only), so provisioning
// is checked for the caller's account here.

const endpoint = useAwsEndpoint()
const clients: Array<{destroy(): void}> = []
const config = () => ({
  endpoint: endpoint.current().url,
  region: 'us-east-1',
  credentials: endpoint.current().base,
  maxAttempts: 1,
})
const organizations = () => {
  const client = new OrganizationsClient(config())
  clients.push(client)
  return client
}
const ssoAdmin = () => {
  const client = new SSOAdminClient(config())
  clients.push(client)
  return client
}
const all = async <P, T>(pages: AsyncIterable<P>, pick: (page: P) => T[] | undefined): Promise<T[]> => {
  const items: T[] = []
  for await (const page of pages) items.push(...(pick(page) ?? []))
  return items
}

afterEach(() => {
  for (const client of clients.splice(0)) client.destroy()
})

interface SeededOrg {
  rootId: string
  prod: string
  nested: string
  web: string
  old: string
}

/** A root, an OU with a nested OU, an ACTIVE tagged account in the nested OU and a closed one in the outer OU. */
async function seedOrganization(): Promise<SeededOrg> {
  const {server} = endpoint.current()
  if (server) {
    const {rootId} = server.organizations.setOrganization({managementAccountId: server.base.accountId})
    const prod = server.organizations.addOu({name: 'prod', parentId: rootId})
    const nested = server.organizations.addOu({name: 'prod-eu', parentId: prod})
    const web = server.organizations.addAccount({
      id: '310000000001',
      name: 'web',
      parentId: nested,
      tags: {Environment: 'production'},
    })
    const old = server.organizations.addAccount({id: '310000000002', name: 'old', parentId: prod, status: 'SUSPENDED'})
    return {rootId, prod, nested, web, old}
  }
  const org = organizations()
  await org.send(new CreateOrganizationCommand({FeatureSet: 'ALL'}))
  const rootId = (await org.send(new ListRootsCommand({}))).Roots?.[0]?.Id as string
  const ou = async (name: string, parentId: string) =>
    (await org.send(new CreateOrganizationalUnitCommand({Name: name, ParentId: parentId}))).OrganizationalUnit
      ?.Id as string
  const prod = await ou('prod', rootId)
  const nested = await ou('prod-eu', prod)
  const account = async (name: string, parentId: string, tags: Record<string, string> = {}) => {
    const id = (
      await org.send(
        new CreateAccountCommand({
          AccountName: name,
          Email: `${name}@example.com`,
          Tags: Object.entries(tags).map(([Key, Value]) => ({Key, Value})),
        }),
      )
    ).CreateAccountStatus?.AccountId as string
    await org.send(new MoveAccountCommand({AccountId: id, SourceParentId: rootId, DestinationParentId: parentId}))
    return id
  }
  const web = await account('web', nested, {Environment: 'production'})
  const old = await account('old', prod)
  await org.send(new CloseAccountCommand({AccountId: old}))
  return {rootId, prod, nested, web, old}
}

describe('Organizations reads discovery makes', () => {
  it('walks OUs down from an OU, lists each OU’s accounts with their State, tags and DescribeAccount', async () => {
    const seeded = await seedOrganization()
    const org = organizations()

    const children = await all(
      paginateListOrganizationalUnitsForParent({client: org}, {ParentId: seeded.prod}),
      (p) => p.OrganizationalUnits,
    )
    const inProd = await all(paginateListAccountsForParent({client: org}, {ParentId: seeded.prod}), (p) => p.Accounts)
    const inNested = await all(
      paginateListAccountsForParent({client: org}, {ParentId: seeded.nested}),
      (p) => p.Accounts,
    )
    const tags = await all(paginateListTagsForResource({client: org}, {ResourceId: seeded.web}), (p) => p.Tags)
    const described = (await org.send(new DescribeAccountCommand({AccountId: seeded.web}))).Account

    expect(children.map((c) => [c.Id, c.Name])).toEqual([[seeded.nested, 'prod-eu']])
    expect(seeded.prod).toMatch(/^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/)
    // A closed account: Status SUSPENDED (the older field) and State SUSPENDED, which discovery reads first
    expect(inProd.map((a) => [a.Id, a.Name, a.Status, a.State])).toEqual([
      [seeded.old, 'old', 'SUSPENDED', 'SUSPENDED'],
    ])
    expect(inNested.map((a) => [a.Id, a.Name, a.Status])).toEqual([[seeded.web, 'web', 'ACTIVE']])
    expect(tags).toEqual([{Key: 'Environment', Value: 'production'}])
    expect(described).toMatchObject({Id: seeded.web, Name: 'web', Status: 'ACTIVE'})
    expect(described?.Id).toMatch(/^\d{12}$/)
  })
})

describe('SSO Admin reads discovery makes', () => {
  it('finds a permission set by name, where it is provisioned, and a group’s assignment there', async () => {
    const {server, baseAccountId} = endpoint.current()
    const groupId = 'a1b2c3d4e5-11112222-3333-4444-5555-666677778888'
    let instanceArn: string
    let permissionSetArn: string
    if (server) {
      instanceArn = server.ssoAdmin.addInstance().instanceArn
      server.ssoAdmin.addPermissionSet(instanceArn, {name: 'Billing'})
      permissionSetArn = server.ssoAdmin.addPermissionSet(instanceArn, {name: 'SecretSync'})
      server.ssoAdmin.assign(instanceArn, {
        accountId: baseAccountId,
        permissionSetArn,
        principalType: 'GROUP',
        principalId: groupId,
      })
    } else {
      const sso = ssoAdmin()
      instanceArn = (await sso.send(new ListInstancesCommand({}))).Instances?.[0]?.InstanceArn as string
      await sso.send(new CreatePermissionSetCommand({InstanceArn: instanceArn, Name: 'Billing'}))
      permissionSetArn = (
        await sso.send(new CreatePermissionSetCommand({InstanceArn: instanceArn, Name: 'SecretSync'}))
      ).PermissionSet?.PermissionSetArn as string
      await sso.send(
        new ProvisionPermissionSetCommand({
          InstanceArn: instanceArn,
          PermissionSetArn: permissionSetArn,
          TargetType: 'AWS_ACCOUNT',
          TargetId: baseAccountId,
        }),
      )
      await sso.send(
        new CreateAccountAssignmentCommand({
          InstanceArn: instanceArn,
          TargetId: baseAccountId,
          TargetType: 'AWS_ACCOUNT',
          PermissionSetArn: permissionSetArn,
          PrincipalType: 'GROUP',
          PrincipalId: groupId,
        }),
      )
    }
    const sso = ssoAdmin()

    const listed = (await sso.send(new ListPermissionSetsCommand({InstanceArn: instanceArn}))).PermissionSets ?? []
    const names = await Promise.all(
      listed.map(
        async (arn) =>
          (await sso.send(new DescribePermissionSetCommand({InstanceArn: instanceArn, PermissionSetArn: arn})))
            .PermissionSet?.Name,
      ),
    )
    const provisioned = await sso.send(
      new ListAccountsForProvisionedPermissionSetCommand({
        InstanceArn: instanceArn,
        PermissionSetArn: permissionSetArn,
      }),
    )
    const assignments = await sso.send(
      new ListAccountAssignmentsCommand({
        InstanceArn: instanceArn,
        AccountId: baseAccountId,
        PermissionSetArn: permissionSetArn,
      }),
    )

    expect(instanceArn).toMatch(/^arn:aws:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/)
    expect([...names].sort()).toEqual(['Billing', 'SecretSync'])
    // Found by name, as discovery finds it: DescribePermissionSet of each listed ARN
    expect(listed[names.indexOf('SecretSync')]).toBe(permissionSetArn)
    expect(provisioned.AccountIds).toEqual([baseAccountId])
    expect(assignments.AccountAssignments).toEqual([
      {AccountId: baseAccountId, PermissionSetArn: permissionSetArn, PrincipalType: 'GROUP', PrincipalId: groupId},
    ])
  })
})
