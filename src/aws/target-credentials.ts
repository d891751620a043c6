import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {fromNodeProviderChain, fromTemporaryCredentials} from '@aws-sdk/credential-providers'
import type {AwsCredentialIdentityProvider} from '@smithy/types'
import {SecretSyncError} from '../errors.js'
import type {Metrics} from '../observability/metrics.js'
import {breakerPlugin, withBreaker} from '../resilience/aws-middleware.js'
import type {AccountScope, Breakers} from '../resilience/breakers.js'
import {awsClientConfig, type AwsClientConfigOptions} from './client-config.js'

export interface TargetIdentityInput {
  target: string
  region: string
  roleArn?: string
  externalId?: string
  accountId?: string
}

export interface TargetIdentity {
  /** The role's shared credentials, or the run's base identity (the default credential chain). */
  credentials: AwsCredentialIdentityProvider
  /** The account the credentials act in, as STS GetCallerIdentity reports it: names the target's applied record. */
  accountId: string
}

/** The role a target assumes: its `role_arn`, else `aws.role_pattern` for its account, else none (base identity). */
export const roleArnFor = (
  roleArn: string | undefined,
  accountId: string | undefined,
  rolePattern: string | undefined,
): string | undefined =>
  roleArn ?? (accountId && rolePattern ? rolePattern.replaceAll('{{account_id}}', accountId) : undefined)

/** `arn:aws:iam::123456789012:role/X` → `123456789012`; undefined for anything else. */
export const accountOfRoleArn = (roleArn: string | undefined): string | undefined =>
  /^arn:[^:]+:iam::(\d{12}):/.exec(roleArn ?? '')?.[1]

/**
 * The STS breaker of an identity: per account (the role's, else the target's `account_id`, else `default` for
 * the base identity of an unnamed account) and the region its STS calls go to.
 */
export const stsScope = (roleArn: string | undefined, accountId: string | undefined, region: string): AccountScope => ({
  service: 'sts',
  account: accountOfRoleArn(roleArn) ?? accountId ?? 'default',
  region,
})

// Each SDK client memoises its own credentials; sharing one promise makes it one AssumeRole for all of them,
// refreshed only when the session is within five minutes of expiring.
function shareCredentials(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let current: ReturnType<AwsCredentialIdentityProvider> | undefined
  return async () => {
    const cached = current ? await current.catch(() => undefined) : undefined
    if (!cached || (cached.expiration && cached.expiration.getTime() - Date.now() < 5 * 60_000)) current = provider()
    return current as ReturnType<AwsCredentialIdentityProvider>
  }
}

export interface RoleSessionsOptions {
  runId: string
  client: Omit<AwsClientConfigOptions, 'region' | 'credentials'>
  breakers: Breakers
  metrics?: Metrics
}

export interface RoleRequest {
  roleArn?: string
  externalId?: string
  /** Where STS is called when this request is the first for its role. */
  region: string
}

/**
 * The run's AWS identities, shared by every client that acts with them: the base identity (the default chain,
 * resolved once, so IRSA or SSO is not asked again per client), one AssumeRole per role and ExternalId whatever
 * the number of targets, regions and discovery clients using it, and one GetCallerIdentity per identity.
 */
export interface RoleSessions {
  /** The role's shared credentials, or the base identity's when there is no role. */
  credentials(request: RoleRequest): AwsCredentialIdentityProvider
  /**
   * Credentials for one target, and the account they act in. When `account_id` is set, GetCallerIdentity must
   * report that account or the target fails before any write.
   */
  resolveTargetIdentity(input: TargetIdentityInput): Promise<TargetIdentity>
}

export function createRoleSessions(options: RoleSessionsOptions): RoleSessions {
  const base = shareCredentials(fromNodeProviderChain())
  const roles = new Map<string, AwsCredentialIdentityProvider>()
  const accounts = new Map<string, Promise<string | undefined>>()
  const keyOf = (request: RoleRequest): string => `${request.roleArn ?? ''}|${request.externalId ?? ''}`

  const credentials = (request: RoleRequest): AwsCredentialIdentityProvider => {
    if (!request.roleArn) return base
    const key = keyOf(request)
    let provider = roles.get(key)
    if (!provider) {
      provider = shareCredentials(
        fromTemporaryCredentials({
          masterCredentials: base,
          params: {
            RoleArn: request.roleArn,
            // Session names show in CloudTrail: say who and which run.
            RoleSessionName: `secretsync-${options.runId}`.slice(0, 64),
            // ExternalId only when non-empty: STS rejects an empty one.
            ...(request.externalId ? {ExternalId: request.externalId} : {}),
          },
          clientConfig: awsClientConfig({...options.client, region: request.region}),
          clientPlugins: [
            breakerPlugin(stsScope(request.roleArn, undefined, request.region), options.breakers, {
              metrics: options.metrics,
            }),
          ],
        }),
      )
      roles.set(key, provider)
    }
    return provider
  }

  // One GetCallerIdentity per identity, shared by its targets; a failed one is asked again by the next target.
  const accountOf = (
    input: TargetIdentityInput,
    provider: AwsCredentialIdentityProvider,
  ): Promise<string | undefined> => {
    const key = keyOf(input)
    let account = accounts.get(key)
    if (!account) {
      account = callerAccount(input, provider, options)
      accounts.set(key, account)
      account.catch(() => accounts.delete(key))
    }
    return account
  }

  return {
    credentials,
    async resolveTargetIdentity(input) {
      const provider = credentials(input)
      try {
        const account = await accountOf(input, provider)
        // STS always answers with Account; a reply without it cannot name the applied record, so it fails like a mismatch.
        if (account === undefined || (input.accountId !== undefined && account !== input.accountId)) {
          throw new SecretSyncError(
            'ACCOUNT_MISMATCH',
            `target "${input.target}" expects account ${input.accountId ?? "(the caller's)"} but ${input.roleArn ? `role ${input.roleArn}` : 'the base identity'} acts in account ${account ?? 'unknown'}; nothing was written`,
            1,
            {hint: "Check the target's account_id and role_arn (or aws.role_pattern)."},
          )
        }
        return {credentials: provider, accountId: account}
      } catch (error) {
        if (error instanceof SecretSyncError) throw error
        const e = error as {name?: string; message?: string}
        throw new SecretSyncError(
          'AWS_AUTH_FAILED',
          `target "${input.target}": ${input.roleArn ? `assuming ${input.roleArn}` : 'the base identity'} failed: ${e.name ?? 'Error'}: ${e.message ?? String(error)}`,
          1,
          {
            hint: "Check the role's trust policy, the ExternalId and the base credentials.",
            cause: error,
          },
        )
      }
    },
  }
}

async function callerAccount(
  input: TargetIdentityInput,
  credentials: AwsCredentialIdentityProvider,
  options: RoleSessionsOptions,
): Promise<string | undefined> {
  const sts = withBreaker(
    new STSClient(awsClientConfig({...options.client, region: input.region, credentials})),
    stsScope(input.roleArn, input.accountId, input.region),
    options.breakers,
    {metrics: options.metrics},
  )
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Account
  } finally {
    sts.destroy()
  }
}
