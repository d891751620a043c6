import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {fromTemporaryCredentials} from '@aws-sdk/credential-providers'
import type {AwsCredentialIdentityProvider} from '@smithy/types'
import {SecretSyncError} from '../errors.js'
import type {Metrics} from '../observability/metrics.js'
import {breakerPlugin, withBreaker} from '../resilience/aws-middleware.js'
import type {Breakers} from '../resilience/breakers.js'
import {awsClientConfig, type AwsClientConfigOptions} from './client-config.js'

export interface TargetIdentityInput {
  target: string
  region: string
  roleArn?: string
  externalId?: string
  accountId?: string
  runId: string
  client: Omit<AwsClientConfigOptions, 'region' | 'credentials'>
  breakers: Breakers
  metrics?: Metrics
}

export interface TargetIdentity {
  /** Undefined: the base identity from the default credential chain. */
  credentials?: AwsCredentialIdentityProvider
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

// Each SDK client memoises its own credentials; sharing one promise makes it one AssumeRole per target,
// refreshed only when the session is within five minutes of expiring.
function shareCredentials(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let current: ReturnType<AwsCredentialIdentityProvider> | undefined
  return async () => {
    const cached = current ? await current.catch(() => undefined) : undefined
    if (!cached || (cached.expiration && cached.expiration.getTime() - Date.now() < 5 * 60_000)) current = provider()
    return current as ReturnType<AwsCredentialIdentityProvider>
  }
}

export type RoleCredentialsInput = Omit<TargetIdentityInput, 'target' | 'accountId'>

/** Credentials of the role (one shared AssumeRole), or undefined for the base identity of the default chain. */
export function roleCredentials(input: RoleCredentialsInput): AwsCredentialIdentityProvider | undefined {
  if (!input.roleArn) return undefined
  return shareCredentials(
    fromTemporaryCredentials({
      params: {
        RoleArn: input.roleArn,
        // Session names show in CloudTrail: say who and which run.
        RoleSessionName: `secretsync-${input.runId}`.slice(0, 64),
        ...(input.externalId ? {ExternalId: input.externalId} : {}),
      },
      clientConfig: awsClientConfig({...input.client, region: input.region}),
      clientPlugins: [breakerPlugin('sts', input.breakers, {metrics: input.metrics})],
    }),
  )
}

/**
 * Credentials for one target: AssumeRole into its role (ExternalId only when non-empty: STS rejects an empty
 * one), then one GetCallerIdentity per target, always: it names the account actually used (the applied record's
 * key, also for targets on the base identity), and when `account_id` is set it must report that account or the
 * target fails before any write.
 */
export async function resolveTargetIdentity(input: TargetIdentityInput): Promise<TargetIdentity> {
  const credentials = roleCredentials(input)
  const sts = withBreaker(
    new STSClient({...awsClientConfig({...input.client, region: input.region}), ...(credentials ? {credentials} : {})}),
    'sts',
    input.breakers,
    {metrics: input.metrics},
  )
  try {
    const identity = await sts.send(new GetCallerIdentityCommand({}))
    // STS always answers with Account; a reply without it cannot name the applied record, so it fails like a mismatch.
    if (identity.Account === undefined || (input.accountId !== undefined && identity.Account !== input.accountId)) {
      throw new SecretSyncError(
        'ACCOUNT_MISMATCH',
        `target "${input.target}" expects account ${input.accountId ?? "(the caller's)"} but ${input.roleArn ? `role ${input.roleArn}` : 'the base identity'} acts in account ${identity.Account ?? 'unknown'}; nothing was written`,
        1,
        {hint: "Check the target's account_id and role_arn (or aws.role_pattern)."},
      )
    }
    return {credentials, accountId: identity.Account}
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
  } finally {
    sts.destroy()
  }
}
