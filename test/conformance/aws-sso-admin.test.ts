import {
  DescribePermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListAccountsForProvisionedPermissionSetCommand,
  ListInstancesCommand,
  ListPermissionSetsCommand,
  SSOAdminClient,
  paginateListAccountAssignments,
  paginateListAccountsForProvisionedPermissionSet,
  paginateListInstances,
  paginateListPermissionSets,
} from '@aws-sdk/client-sso-admin'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {startAwsServer} from '../support/aws/aws-server.js'

// The SSO Admin fake is checked against the IAM Identity Center API Reference through the real SDK client:
// instances, permission sets found by name, accounts where a permission set is provisioned, account
// assignments of groups and users, page limits (MaxResults 1..100), empty pages and errors.
//
// Against the project's server only: every test seeds instances, provisioning and assignments from state, which
// moto builds through CreatePermissionSet / ProvisionPermissionSet / CreateAccountAssignment instead. moto's
// Identity Center is exercised end to end by test-integration/discovery.test.ts (SECRETSYNC_IT=moto); its known
// gap: ProvisionPermissionSet ignores TargetId and provisions to the caller's account only, so
// ListAccountsForProvisionedPermissionSet never lists member accounts there. The Identity Store half runs on both
// (aws-identity-store.test.ts), and the reads discovery makes run on both in aws-discovery-apis.test.ts.

type AwsServer = Awaited<ReturnType<typeof startAwsServer>>

const OTHER = '444444444444'

let server: AwsServer
const clients: SSOAdminClient[] = []

const client = (accountId?: string): SSOAdminClient => {
  let credentials: {accessKeyId: string; secretAccessKey: string; sessionToken?: string} = {
    accessKeyId: 'test',
    secretAccessKey: 'test',
  }
  if (accountId !== undefined) {
    const issued = server.credentials.issue({
      accountId,
      arn: `arn:aws:sts::${accountId}:assumed-role/Discovery/test`,
      userId: `AROATEST:${accountId}`,
    })
    credentials = {
      accessKeyId: issued.accessKeyId,
      secretAccessKey: issued.secretAccessKey,
      sessionToken: issued.sessionToken,
    }
  }
  const created = new SSOAdminClient({endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1})
  clients.push(created)
  return created
}

const pagesOf = async <T>(paginator: AsyncIterable<T>): Promise<T[]> => {
  const pages: T[] = []
  for await (const page of paginator) pages.push(page)
  return pages
}

const accountId = (i: number): string => String(300_000_000_000 + i)

beforeEach(async () => {
  server = await startAwsServer()
})

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy()
  await server.close()
})

describe('instances', () => {
  it('lists the Identity Center instance with its identity store and owner', async () => {
    const {instanceArn, identityStoreId} = server.ssoAdmin.addInstance({ownerAccountId: server.base.accountId})

    const pages = await pagesOf(paginateListInstances({client: client()}, {}))
    const instances = pages.flatMap((p) => p.Instances ?? [])

    expect(instances).toHaveLength(1)
    expect(instances[0]).toMatchObject({
      InstanceArn: instanceArn,
      IdentityStoreId: identityStoreId,
      OwnerAccountId: server.base.accountId,
      Status: 'ACTIVE',
    })
    expect(instanceArn).toMatch(/^arn:aws:sso:::instance\/ssoins-[a-zA-Z0-9-.]{16}$/)
    expect(identityStoreId).toMatch(/^d-[0-9a-f]{10}$/)
  })

  it('hides an instance from other accounts and denies them its operations', async () => {
    const {instanceArn} = server.ssoAdmin.addInstance({ownerAccountId: server.base.accountId})
    const other = client(OTHER)

    expect((await other.send(new ListInstancesCommand({}))).Instances).toEqual([])
    await expect(other.send(new ListPermissionSetsCommand({InstanceArn: instanceArn}))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    })

    server.ssoAdmin.addDelegatedAdmin(OTHER)
    expect((await other.send(new ListInstancesCommand({}))).Instances?.map((i) => i.InstanceArn)).toEqual([instanceArn])
  })
})

describe('permission sets', () => {
  it('finds a permission set by name among 130 through ListPermissionSets and DescribePermissionSet', async () => {
    // Given 130 permission sets, one of them AdministratorAccess
    const {instanceArn} = server.ssoAdmin.addInstance()
    const arns = Array.from({length: 129}, (_, i) => server.ssoAdmin.addPermissionSet(instanceArn, {name: `Team${i}`}))
    const admin = server.ssoAdmin.addPermissionSet(instanceArn, {name: 'AdministratorAccess', description: 'full'})

    // When every page is listed (100 per page at most)
    const pages = await pagesOf(paginateListPermissionSets({client: client()}, {InstanceArn: instanceArn}))
    const listed = pages.flatMap((p) => p.PermissionSets ?? [])

    // Then all are there in pages of at most 100, and the one named AdministratorAccess is found by describing
    expect(listed).toEqual([...arns, admin])
    expect(pages.map((p) => p.PermissionSets?.length)).toEqual([100, 30])
    let found: string | undefined
    for (const arn of listed.slice(-3)) {
      const {PermissionSet} = await client().send(
        new DescribePermissionSetCommand({InstanceArn: instanceArn, PermissionSetArn: arn}),
      )
      if (PermissionSet?.Name === 'AdministratorAccess') found = PermissionSet.PermissionSetArn
    }
    expect(found).toBe(admin)
    const {PermissionSet} = await client().send(
      new DescribePermissionSetCommand({InstanceArn: instanceArn, PermissionSetArn: admin}),
    )
    expect(PermissionSet).toMatchObject({Name: 'AdministratorAccess', Description: 'full', SessionDuration: 'PT1H'})
    expect(PermissionSet?.CreatedDate).toBeInstanceOf(Date)
    expect(admin).toMatch(/^arn:aws:sso:::permissionSet\/ssoins-[a-zA-Z0-9-.]{16}\/ps-[a-zA-Z0-9-./]{16}$/)
  })

  it('rejects MaxResults over 100 and malformed ARNs with ValidationException', async () => {
    const {instanceArn} = server.ssoAdmin.addInstance()
    await expect(
      client().send(new ListPermissionSetsCommand({InstanceArn: instanceArn, MaxResults: 101})),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      $fault: 'client',
    })
    await expect(client().send(new ListInstancesCommand({MaxResults: 101}))).rejects.toMatchObject({
      name: 'ValidationException',
    })
    await expect(
      client().send(new ListPermissionSetsCommand({InstanceArn: 'arn:aws:sso:::instance/nope'})),
    ).rejects.toMatchObject({
      name: 'ValidationException',
    })
  })

  it('answers ResourceNotFoundException for an unknown instance or permission set', async () => {
    const {instanceArn} = server.ssoAdmin.addInstance()
    const unknownInstance = 'arn:aws:sso:::instance/ssoins-0000000000000000'
    await expect(client().send(new ListPermissionSetsCommand({InstanceArn: unknownInstance}))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    })
    const unknownSet = `${instanceArn.replace(':instance/', ':permissionSet/')}/ps-0000000000000000`
    await expect(
      client().send(new DescribePermissionSetCommand({InstanceArn: instanceArn, PermissionSetArn: unknownSet})),
    ).rejects.toMatchObject({name: 'ResourceNotFoundException'})
  })
})

describe('provisioned accounts', () => {
  it('lists every account where a permission set is provisioned, following tokens through empty pages', async () => {
    // Given a permission set provisioned to 57 accounts, and one not yet updated to the latest version
    const {instanceArn} = server.ssoAdmin.addInstance()
    const ps = server.ssoAdmin.addPermissionSet(instanceArn, {name: 'SecretSync'})
    const ids = Array.from({length: 57}, (_, i) => accountId(i))
    for (const id of ids) server.ssoAdmin.provision(instanceArn, ps, id)
    server.ssoAdmin.provision(instanceArn, ps, accountId(99), 'LATEST_PERMISSION_SET_NOT_PROVISIONED')
    server.ssoAdmin.setEmptyPages(true)

    // When the paginator asks for 10 at a time
    const pages = await pagesOf(
      paginateListAccountsForProvisionedPermissionSet(
        {client: client(), pageSize: 10},
        {InstanceArn: instanceArn, PermissionSetArn: ps, ProvisioningStatus: 'LATEST_PERMISSION_SET_PROVISIONED'},
      ),
    )

    // Then it gets exactly the up-to-date accounts, across empty pages that carried a token
    expect(pages.flatMap((p) => p.AccountIds ?? [])).toEqual(ids)
    expect(pages[0]?.AccountIds).toEqual([])
    expect(pages[0]?.NextToken).toEqual(expect.any(String))
    expect(Math.max(...pages.map((p) => p.AccountIds?.length ?? 0))).toBe(10)

    // And without the status filter the outdated one is included
    server.ssoAdmin.setEmptyPages(false)
    const all = await client().send(
      new ListAccountsForProvisionedPermissionSetCommand({InstanceArn: instanceArn, PermissionSetArn: ps}),
    )
    expect(all.AccountIds).toHaveLength(58)
    expect(all.NextToken).toBeUndefined()
  })
})

describe('account assignments', () => {
  it('reports group and user assignments per account and permission set', async () => {
    // Given a Platform group assigned in two accounts and a user in one
    const {instanceArn, identityStoreId} = server.ssoAdmin.addInstance()
    const ps = server.ssoAdmin.addPermissionSet(instanceArn, {name: 'SecretSync'})
    const platform = server.ssoAdmin.addGroup({displayName: 'Platform'})
    server.ssoAdmin.addGroup({displayName: 'Finance'})
    server.ssoAdmin.assign(instanceArn, {
      accountId: accountId(1),
      permissionSetArn: ps,
      principalType: 'GROUP',
      principalId: platform,
    })
    server.ssoAdmin.assign(instanceArn, {
      accountId: accountId(2),
      permissionSetArn: ps,
      principalType: 'GROUP',
      principalId: platform,
    })
    server.ssoAdmin.assign(instanceArn, {
      accountId: accountId(2),
      permissionSetArn: ps,
      principalType: 'USER',
      principalId: 'user-1',
    })

    // When assignments are listed for account 2
    const pages = await pagesOf(
      paginateListAccountAssignments(
        {client: client()},
        {InstanceArn: instanceArn, AccountId: accountId(2), PermissionSetArn: ps},
      ),
    )

    // Then both principals are reported with their types
    expect(pages.flatMap((p) => p.AccountAssignments ?? [])).toEqual([
      {AccountId: accountId(2), PermissionSetArn: ps, PrincipalType: 'GROUP', PrincipalId: platform},
      {AccountId: accountId(2), PermissionSetArn: ps, PrincipalType: 'USER', PrincipalId: 'user-1'},
    ])
    // And an account without assignments has none
    const none = await client().send(
      new ListAccountAssignmentsCommand({InstanceArn: instanceArn, AccountId: accountId(3), PermissionSetArn: ps}),
    )
    expect(none.AccountAssignments).toEqual([])
    // And assigning provisioned the permission set there, as CreateAccountAssignment does
    const provisioned = await client().send(
      new ListAccountsForProvisionedPermissionSetCommand({InstanceArn: instanceArn, PermissionSetArn: ps}),
    )
    expect(provisioned.AccountIds).toEqual([accountId(1), accountId(2)])
    // And the group can be resolved by display name from the identity store state
    expect(
      server.ssoAdmin
        .groups(identityStoreId)
        .filter((g) => g.DisplayName === 'Platform')
        .map((g) => g.GroupId),
    ).toEqual([platform])
  })

  it('requires AccountId in ListAccountAssignments', async () => {
    const {instanceArn} = server.ssoAdmin.addInstance()
    const ps = server.ssoAdmin.addPermissionSet(instanceArn, {name: 'SecretSync'})
    await expect(
      client().send(
        new ListAccountAssignmentsCommand({InstanceArn: instanceArn, AccountId: '12', PermissionSetArn: ps}),
      ),
    ).rejects.toMatchObject({name: 'ValidationException'})
  })
})
