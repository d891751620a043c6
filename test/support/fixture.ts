import {readFile} from 'node:fs/promises'
import {parse} from 'yaml'
import type {AwsServer} from './aws/aws-server.js'
import type {Policy, VaultServer} from './vault/vault-server.js'

/**
 * A small declarative description of a Vault tree and AWS state, used by tests, the benchmark and
 * `npm run sandbox` (examples/sandbox/fixture.yaml). Every field is optional.
 */
export interface StackFixture {
  vault?: {
    /** KV v2 mounts (default `[secret/]`). */
    mounts?: string[]
    /** Full path (mount included) → data. */
    secrets?: Record<string, Record<string, unknown>>
    /** Full paths whose latest version is soft-deleted. */
    deleted?: string[]
    /** `token_ttl`/`token_max_ttl` in seconds, as the role sets them. */
    approles?: Record<string, {policies: Policy[]; token_ttl?: number; token_max_ttl?: number}>
    kubernetes_roles?: Record<string, {policies: Policy[]; jwt: string}>
  }
  aws?: {
    /** S3 buckets created in the base account. */
    buckets?: string[]
    organization?: {
      management_account?: string
      ous?: FixtureOu[]
      /** Accounts directly under the root. */
      accounts?: FixtureAccount[]
    }
    identity_center?: {
      permission_sets?: Array<{name: string; provisioned?: string[]}>
      groups?: Array<{name: string; assignments?: Array<{account: string; permission_set: string}>}>
    }
    secrets?: Array<{
      account: string
      region?: string
      name: string
      value: unknown
      tags?: Record<string, string>
      scheduled_for_deletion?: boolean
    }>
    /** Roles that demand this ExternalId. */
    external_ids?: Record<string, string>
  }
}

export interface FixtureOu {
  name: string
  id?: string
  ous?: FixtureOu[]
  accounts?: FixtureAccount[]
}

export interface FixtureAccount {
  id: string
  name: string
  status?: 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE'
  tags?: Record<string, string>
}

export const loadFixture = async (file: string): Promise<StackFixture> =>
  (parse(await readFile(file, 'utf8')) ?? {}) as StackFixture

export interface SeededCredentials {
  approles: Record<string, {roleId: string; secretId: string}>
}

/** Splits `secret/base/app/db` into its mount (the longest configured prefix) and key. */
function splitMount(path: string, mounts: string[]): [string, string] {
  const mount = [...mounts].sort((a, b) => b.length - a.length).find((m) => path.startsWith(m))
  if (!mount) throw new Error(`fixture: ${path} is under no configured mount (${mounts.join(', ')})`)
  return [mount, path.slice(mount.length)]
}

export function seedVault(vault: VaultServer, fixture: StackFixture['vault'] = {}): SeededCredentials {
  const mounts = (fixture.mounts ?? ['secret/']).map((m) => (m.endsWith('/') ? m : `${m}/`))
  for (const mount of mounts) vault.mountKv(mount)
  for (const [path, data] of Object.entries(fixture.secrets ?? {})) vault.putSecret(...splitMount(path, mounts), data)
  for (const path of fixture.deleted ?? []) vault.deleteLatest(...splitMount(path, mounts))
  const approles: SeededCredentials['approles'] = {}
  for (const [name, role] of Object.entries(fixture.approles ?? {}))
    approles[name] = vault.addAppRole(name, {
      policies: role.policies,
      tokenTtlSeconds: role.token_ttl,
      tokenMaxTtlSeconds: role.token_max_ttl,
    })
  for (const [name, role] of Object.entries(fixture.kubernetes_roles ?? {})) {
    vault.addKubernetesRole(name, {policies: role.policies, serviceAccountJwt: role.jwt})
  }
  return {approles}
}

export function seedAws(aws: AwsServer, fixture: StackFixture['aws'] = {}): void {
  for (const bucket of fixture.buckets ?? []) aws.s3.createBucket(bucket, aws.base.accountId)
  const org = fixture.organization
  if (org) {
    const {rootId} = aws.organizations.setOrganization({
      managementAccountId: org.management_account ?? aws.base.accountId,
    })
    const addAccounts = (accounts: FixtureAccount[] | undefined, parentId: string): void => {
      for (const account of accounts ?? [])
        aws.organizations.addAccount({
          id: account.id,
          name: account.name,
          status: account.status,
          tags: account.tags,
          parentId,
        })
    }
    const addOus = (ous: FixtureOu[] | undefined, parentId: string): void => {
      for (const ou of ous ?? []) {
        const id = aws.organizations.addOu({id: ou.id, name: ou.name, parentId})
        addAccounts(ou.accounts, id)
        addOus(ou.ous, id)
      }
    }
    addAccounts(org.accounts, rootId)
    addOus(org.ous, rootId)
  }
  const sso = fixture.identity_center
  if (sso) {
    const {instanceArn} = aws.ssoAdmin.addInstance()
    const permissionSets = new Map<string, string>()
    for (const set of sso.permission_sets ?? []) {
      const arn = aws.ssoAdmin.addPermissionSet(instanceArn, {name: set.name})
      permissionSets.set(set.name, arn)
      for (const account of set.provisioned ?? []) aws.ssoAdmin.provision(instanceArn, arn, account)
    }
    for (const group of sso.groups ?? []) {
      const groupId = aws.ssoAdmin.addGroup({displayName: group.name})
      for (const assignment of group.assignments ?? []) {
        const permissionSetArn = permissionSets.get(assignment.permission_set)
        if (!permissionSetArn) throw new Error(`fixture: unknown permission set ${assignment.permission_set}`)
        aws.ssoAdmin.assign(instanceArn, {
          accountId: assignment.account,
          permissionSetArn,
          principalType: 'GROUP',
          principalId: groupId,
        })
      }
    }
  }
  for (const secret of fixture.secrets ?? []) {
    aws.secretsManager.seedSecret(secret.account, secret.region ?? 'us-east-1', {
      name: secret.name,
      value: typeof secret.value === 'string' ? secret.value : JSON.stringify(secret.value),
      tags: secret.tags,
      scheduledForDeletion: secret.scheduled_for_deletion,
    })
  }
  for (const [roleArn, externalId] of Object.entries(fixture.external_ids ?? {}))
    aws.sts.requireExternalId(roleArn, externalId)
}
