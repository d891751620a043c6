import type {IdentitystoreClient} from '@aws-sdk/client-identitystore'
import type {OrganizationsClient} from '@aws-sdk/client-organizations'
import type {SSOAdminClient} from '@aws-sdk/client-sso-admin'

/** One AWS account as discovery found it, before any filter: what filters and templates read. */
export interface DiscoveredAccount {
  id: string
  name: string
  /** The account's lifecycle `State` when AWS returns it (ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED), else `Status`. */
  status: string
  /** The OU (or root) the account sits directly in; undefined when discovery did not walk to it. */
  ouId?: string
  /** Every OU and root id on the walk from where it started down to the account's own OU: what `ou` filters match. */
  ouPath: string[]
  /** Tags as AWS holds them; null when nothing in the block reads tags, so they were not looked up. */
  tags: Record<string, string> | null
}

/** Whether a filter set keeps an account, and why, in words a user reads (`status SUSPENDED not in [ACTIVE]`). */
export interface AccountVerdict {
  included: boolean
  reasons: string[]
}

/** Builds the SDK clients a discovery block talks through, as its discovery role in its region. */
export interface DiscoveryClients {
  organizations(roleArn?: string, region?: string): OrganizationsClient
  ssoAdmin(roleArn?: string, region?: string): SSOAdminClient
  /** Identity Center's directory: resolves `group` display names (GetGroupId). */
  identityStore(roleArn?: string, region?: string): IdentitystoreClient
}

/** Resolves an Identity Center group display name to its id (Identity Store GetGroupId); undefined when absent. */
export type GroupResolver = (displayName: string, context: {identityStoreId: string}) => Promise<string | undefined>

/** The few logger methods discovery uses; the winston logger of the runtime fits. */
export interface DiscoveryLogger {
  debug(message: string, meta?: Record<string, unknown>): unknown
  info(message: string, meta?: Record<string, unknown>): unknown
  warn(message: string, meta?: Record<string, unknown>): unknown
}

/** Where discovery failed: which block and call, shown in every error message. */
export interface CallContext {
  block: string
  runId: string
}

export type BlockStatus = 'discovered' | 'cached' | 'disabled' | 'failed'

/** One account of a block in the report: what was found, the verdict, and the target it became. */
export interface DiscoveredAccountReport {
  account_id: string
  account_name: string
  status: string
  ou_id: string | null
  /** null when the block reads no tags, so none were looked up. */
  tags: Record<string, string> | null
  included: boolean
  reasons: string[]
  /** The final target name (after collisions); null when excluded or when rendering failed. */
  target: string | null
  /** Why an included account produced no target (a missing tag, a name collision it cannot resolve). */
  error: string | null
}

export interface DiscoveryBlockReport {
  name: string
  type: 'aws_organizations' | 'aws_identity_center'
  status: BlockStatus
  /** `hit`: accounts came from the cache; `miss`: queried and cached; `bypassed`: `--no-cache`; null when disabled or failed before. */
  cache: 'hit' | 'miss' | 'bypassed' | null
  /** When the accounts were queried from AWS (ISO 8601); null when disabled or failed. */
  discovered_at: string | null
  error: {code: string; message: string; hint: string | null} | null
  /** Accounts ordered by id. */
  accounts: DiscoveredAccountReport[]
}

export interface DiscoveryReport {
  summary: {
    blocks: number
    disabled: number
    failed_blocks: number
    accounts: number
    included: number
    excluded: number
    targets: number
    /** Included accounts that produced no target. */
    account_errors: number
  }
  blocks: DiscoveryBlockReport[]
}
