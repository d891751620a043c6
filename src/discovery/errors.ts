import {ExitCode, formatOperationError, SecretSyncError} from '../errors.js'
import type {CallContext} from './types.js'

interface SdkError {
  name?: string
  message?: string
  $metadata?: {attempts?: number}
}

const asSdkError = (error: unknown): SdkError =>
  typeof error === 'object' && error !== null ? (error as SdkError) : {}

/** A discovery block could not list its accounts. The message names the block, the AWS operation and its subject. */
export class DiscoveryError extends SecretSyncError {
  constructor(
    readonly block: string,
    message: string,
    options: {code?: string; hint?: string; cause?: unknown; exitCode?: ExitCode} = {},
  ) {
    super(
      options.code ?? 'DISCOVERY_FAILED',
      `discovery "${block}": ${message}`,
      options.exitCode ?? ExitCode.failure,
      {
        hint: options.hint,
        cause: options.cause,
      },
    )
  }
}

/** A target template that cannot be rendered for one account (a missing tag, an unknown placeholder, a bad ARN). */
export class TemplateError extends SecretSyncError {
  constructor(message: string) {
    super('DISCOVERY_TEMPLATE', message, ExitCode.failure, {
      hint: 'Fix the target template of the discovery block, or tag the account, then run `secretsync discover` again.',
    })
  }
}

const hintFor = (name: string | undefined, operation: string): string | undefined => {
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return `Allow the discovery role ${operation} (organizations:* reads need the management account or a delegated administrator).`
  }
  if (name === 'AWSOrganizationsNotInUseException')
    return 'The discovery role is not in an organization: check role_arn.'
  if (name === 'ThrottlingException' || name === 'TooManyRequestsException') {
    return 'AWS kept throttling after every retry: raise retry.max_attempts or run discovery less often (cache_ttl).'
  }
  return undefined
}

/**
 * Runs one AWS call (or one paginated listing) and turns its failure into a DiscoveryError that says which block,
 * operation and subject, how long and how many retries. SDK messages name resources, never credentials.
 */
export async function callAws<T>(
  context: CallContext,
  operation: string,
  subject: string,
  run: () => Promise<T>,
): Promise<T> {
  const started = performance.now()
  try {
    return await run()
  } catch (error) {
    if (error instanceof SecretSyncError) throw error
    const {name, message, $metadata} = asSdkError(error)
    const cause = name && message ? `${name}: ${message}` : (message ?? name ?? String(error))
    const text = formatOperationError(
      {
        runId: context.runId,
        operation,
        subject,
        durationMs: performance.now() - started,
        retries: Math.max(0, ($metadata?.attempts ?? 1) - 1),
      },
      cause,
    )
    throw new DiscoveryError(context.block, text, {hint: hintFor(name, operation), cause: error})
  }
}
