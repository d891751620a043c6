import {CreateGroupCommand, IdentitystoreClient} from '@aws-sdk/client-identitystore'
import {
  CloseAccountCommand,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations'
import {
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  ListInstancesCommand,
  ProvisionPermissionSetCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../test/support/cli.js'
import {awsState} from './support/aws-state.js'
import {itMode, startItStack, uniqueName, type ItStack} from './support/harness.js'

// Story: discovery finds the accounts to sync, in an organization built through the Organizations, SSO Admin and
// Identity Store APIs (moto serves them; the project's server is seeded from state instead, and the same
// behaviour is covered against it by test/e2e/discovery.test.ts and test/discovery/).
//
// moto gap that shapes the Identity Center part: ProvisionPermissionSet reaches only the caller's account (moto
// ignores TargetId), so permission-set and group discovery can only find the management account here.

const MOTO_ONLY = itMode() !== 'moto'

interface Report {
  blocks: Array<{
    name: string
    status: string
    error: {code: string; message: string} | null
    accounts: Array<{
      account_id: string
      account_name: string
      status: string
      included: boolean
      reasons: string[]
      target: string | null
    }>
  }>
}
interface DiscoverJson {
  report: Report
  targets: Array<{name: string; discovered: boolean; account_id: string | null}>
}

let stack: ItStack
let root: string
const ids: Record<string, string> = {}
let ous: {prod: string; prodEu: string; sandbox: string}
let groups: {platform: string; finance: string}

const discover = async (config: string) => {
  const result = await runCli(['discover', '-c', config, '--json', '--no-cache'], {env: stack.env})
  try {
    return {...result, json: JSON.parse(result.stdout) as DiscoverJson}
  } catch {
    throw new Error(`no JSON on stdout (exit ${result.code}): ${result.stderr}`)
  }
}

const vaultHeader = () => `vault:
  address: \${VAULT_ADDR}
  auth: {method: token}
vault_sources:
  - {name: base, mount: secret/${root}/}
aws: {region: us-east-1, endpoint: \${AWS_ENDPOINT_URL}}
targets: []
logging: {level: warn}
`

describe.skipIf(MOTO_ONLY)('discovery against moto', () => {
  beforeAll(async () => {
    stack = await startItStack()
    root = uniqueName('it-disc')
    await stack.writeVaultSecret(`secret/${root}/app/db`, {password: 'pw'})
    const org = new OrganizationsClient(stack.awsConfig())
    try {
      await org.send(new CreateOrganizationCommand({FeatureSet: 'ALL'}))
      const rootId = (await org.send(new ListRootsCommand({}))).Roots?.[0]?.Id as string
      const ou = async (name: string, parentId: string) =>
        (await org.send(new CreateOrganizationalUnitCommand({Name: name, ParentId: parentId}))).OrganizationalUnit
          ?.Id as string
      const prod = await ou('prod', rootId)
      ous = {prod, prodEu: await ou('prod-eu', prod), sandbox: await ou('sandbox', rootId)}
      const account = async (name: string, environment: string, parentId: string) => {
        const created = await org.send(
          new CreateAccountCommand({
            AccountName: name,
            Email: `${name}@example.com`,
            Tags: [{Key: 'Environment', Value: environment}],
          }),
        )
        const id = created.CreateAccountStatus?.AccountId as string
        await org.send(new MoveAccountCommand({AccountId: id, SourceParentId: rootId, DestinationParentId: parentId}))
        ids[name] = id
      }
      await account('web', 'production', ous.prodEu) // nested two OUs down: found by the walk from prod
      await account('api', 'staging-2', ous.prod) // matches the staging* wildcard
      await account('lab', 'dev', ous.prod) // tag filter drops it
      await account('old', 'production', ous.prod) // closed: SUSPENDED, dropped by the status filter
      await account('skip', 'production', ous.prodEu) // exclude_accounts drops it
      await account('outside', 'production', ous.sandbox) // not under prod: never listed
      await org.send(new CloseAccountCommand({AccountId: ids.old}))
    } finally {
      org.destroy()
    }

    const sso = new SSOAdminClient(stack.awsConfig())
    const store = new IdentitystoreClient(stack.awsConfig())
    try {
      const instance = (await sso.send(new ListInstancesCommand({}))).Instances?.[0]
      const instanceArn = instance?.InstanceArn as string
      const identityStoreId = instance?.IdentityStoreId as string
      const permissionSetArn = (
        await sso.send(new CreatePermissionSetCommand({InstanceArn: instanceArn, Name: 'SecretSync'}))
      ).PermissionSet?.PermissionSetArn as string
      await sso.send(
        new ProvisionPermissionSetCommand({
          InstanceArn: instanceArn,
          PermissionSetArn: permissionSetArn,
          TargetType: 'AWS_ACCOUNT',
          TargetId: stack.baseAccountId,
        }),
      )
      const group = async (displayName: string) =>
        (await store.send(new CreateGroupCommand({IdentityStoreId: identityStoreId, DisplayName: displayName})))
          .GroupId as string
      groups = {platform: await group('Platform'), finance: await group('Finance')}
      await sso.send(
        new CreateAccountAssignmentCommand({
          InstanceArn: instanceArn,
          TargetId: stack.baseAccountId,
          TargetType: 'AWS_ACCOUNT',
          PermissionSetArn: permissionSetArn,
          PrincipalType: 'GROUP',
          PrincipalId: groups.platform,
        }),
      )
    } finally {
      sso.destroy()
      store.destroy()
    }
  })

  afterAll(async () => {
    await stack?.close()
  })

  it('Organizations: walks nested OUs and keeps accounts by tag (with wildcards), status and exclusions', async () => {
    const config = await writeTempConfig(`${vaultHeader()}discovery:
  - name: workloads
    type: aws_organizations
    filters:
      - {tag: Environment, values: [production, "staging*"]}
      - {ou: ${ous.prod}}
    exclude_accounts: ["${ids.skip}"]
    target: {name: "{{account_name}}", role_arn: "arn:aws:iam::{{account_id}}:role/SecretSync", imports: [base]}
`)
    const {code, json, stderr} = await discover(config)
    expect(code, stderr).toBe(0)
    const [block] = json.report.blocks
    expect(block?.status).toBe('discovered')
    const byName = Object.fromEntries((block?.accounts ?? []).map((a) => [a.account_name, a]))
    expect(Object.keys(byName).sort()).toEqual(['api', 'lab', 'old', 'skip', 'web'])
    expect(byName.web).toMatchObject({account_id: ids.web, included: true, target: 'web'})
    expect(byName.api).toMatchObject({included: true, target: 'api'})
    for (const dropped of ['lab', 'old', 'skip'])
      expect(byName[dropped], dropped).toMatchObject({included: false, target: null})
    expect(byName.old?.status).toBe('SUSPENDED')
    expect(byName.old?.reasons.join(' ')).toMatch(/SUSPENDED/)
    expect(byName.lab?.reasons.join(' ')).toMatch(/Environment/)
    expect(json.targets.filter((t) => t.discovered).map((t) => [t.name, t.account_id])).toEqual(
      expect.arrayContaining([
        ['web', ids.web],
        ['api', ids.api],
      ]),
    )

    // And the discovered targets sync into their own accounts through their roles
    const run = await runCli(['pipeline', '-c', config, '--json', '--no-cache'], {env: stack.env})
    expect(run.code, run.stderr).toBe(0)
    const aws = awsState(stack)
    try {
      expect(await aws.value(ids.web, 'app/db')).toEqual({password: 'pw'})
      expect((await aws.secrets(ids.api, 'app/')).get('app/db')?.tags).toMatchObject({'secretsync:target': 'api'})
    } finally {
      aws.close()
    }
  })

  it('Identity Center: by permission set, by group id and by group display name; an unknown name fails its block', async () => {
    const block = (name: string, selector: string) => `  - name: ${name}
    type: aws_identity_center
    ${selector}
    target: {name: "${name}-{{account_id}}", imports: [base]}
`
    const config = await writeTempConfig(`${vaultHeader()}discovery:
${block('by-set', 'permission_set: SecretSync')}${block('by-id', `group: ${groups.platform}`)}${block('by-name', 'group: Platform')}${block('unassigned', 'group: Finance')}${block('unknown', 'group: Nobody')}`)
    const {code, json} = await discover(config)
    // One failed block of five: a partial result
    expect(code).toBe(3)
    const blocks = Object.fromEntries(json.report.blocks.map((b) => [b.name, b]))
    const included = (name: string) => blocks[name]?.accounts.filter((a) => a.included).map((a) => a.account_id)
    expect(included('by-set')).toEqual([stack.baseAccountId])
    expect(included('by-id')).toEqual([stack.baseAccountId])
    expect(included('by-name')).toEqual([stack.baseAccountId])
    expect(blocks.unassigned).toMatchObject({status: 'discovered', accounts: []})
    expect(blocks.unknown).toMatchObject({status: 'failed', error: {code: 'DISCOVERY_GROUP_NOT_FOUND'}})
    expect(blocks.unknown?.error?.message).toContain('"Nobody"')
  })
})
