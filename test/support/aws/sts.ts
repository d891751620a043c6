import {createHash, randomUUID} from 'node:crypto'
import {xmlEscape, xmlResponse} from './protocol.js'
import {AwsError, type AwsContext, type AwsRequest, type AwsResponse, type AwsServiceHandler} from './types.js'

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/'
const ROLE_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/
/** IAM's default MaxSessionDuration for a role, and the hard limit for role chaining. */
const DEFAULT_MAX_SESSION_SECONDS = 3600

export interface AssumeRoleCall {
  roleArn: string
  roleSessionName: string
  /** As sent; undefined when the request carried no ExternalId. */
  externalId?: string
  /** Account of the credentials that called AssumeRole. */
  sourceAccount: string
  sourceArn: string
  durationSeconds: number
  /** `issued`, or the error code the call was refused with. */
  outcome: string
}

/** Roles' trust settings and a log of AssumeRole calls. Any well-formed role ARN can be assumed unless told otherwise. */
export class StsState {
  private readonly externalIds = new Map<string, string>()
  private readonly denied = new Set<string>()
  private readonly maxSessionSeconds = new Map<string, number>()
  private readonly calls: AssumeRoleCall[] = []

  /** The role's trust policy requires this `sts:ExternalId`; a missing or different one is AccessDenied. */
  requireExternalId(roleArn: string, externalId: string): void {
    this.externalIds.set(roleArn, externalId)
  }

  /** The role's trust policy does not allow anyone to assume it. */
  denyRole(roleArn: string): void {
    this.denied.add(roleArn)
  }

  /** The role's MaxSessionDuration (IAM default 3600 s). */
  setMaxSessionDuration(roleArn: string, seconds: number): void {
    this.maxSessionSeconds.set(roleArn, seconds)
  }

  assumeRoleCalls(): AssumeRoleCall[] {
    return this.calls.map((call) => ({...call}))
  }

  /** Whether the role's trust policy lets a caller presenting this ExternalId assume it. */
  trusts(roleArn: string, externalId: string | undefined): boolean {
    if (this.denied.has(roleArn)) return false
    const required = this.externalIds.get(roleArn)
    return required === undefined || required === externalId
  }

  maxSessionFor(roleArn: string): number {
    return this.maxSessionSeconds.get(roleArn) ?? DEFAULT_MAX_SESSION_SECONDS
  }

  record(call: AssumeRoleCall): void {
    this.calls.push(call)
  }
}

const validation = (message: string): AwsError =>
  new AwsError('ValidationError', `1 validation error detected: ${message}`)

/** A stable `AROA...` role id, as IAM gives every role one. */
const roleIdOf = (roleArn: string): string =>
  `AROA${createHash('sha256')
    .update(roleArn)
    .digest('hex')
    .toUpperCase()
    .replace(/[^A-Z2-7]/g, '')
    .slice(0, 17)
    .padEnd(17, 'Q')}`

/** STS timestamps are ISO 8601 without milliseconds. */
const stsTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

const stsResponse = (action: string, result: string): AwsResponse => {
  const requestId = randomUUID()
  return xmlResponse(
    `<${action}Response xmlns="${STS_NS}"><${action}Result>${result}</${action}Result>` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
    200,
    {'x-amzn-RequestId': requestId},
  )
}

interface AssumeRoleInput {
  roleArn: string
  accountId: string
  roleName: string
  sessionName: string
  externalId?: string
  durationSeconds: number
}

function readAssumeRole(form: URLSearchParams): AssumeRoleInput {
  const roleArn = form.get('RoleArn')
  if (roleArn === null)
    return failWith(validation("Value null at 'roleArn' failed to satisfy constraint: Member must not be null"))
  const sessionName = form.get('RoleSessionName')
  if (sessionName === null) {
    return failWith(validation("Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"))
  }
  const arn = roleArn.length >= 20 && roleArn.length <= 2048 ? ROLE_ARN.exec(roleArn) : null
  if (!arn) {
    return failWith(
      validation(
        `Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)`,
      ),
    )
  }
  if (!SESSION_NAME.test(sessionName)) {
    return failWith(
      validation(
        `Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64 and match [\\w+=,.@-]*`,
      ),
    )
  }
  const rawDuration = form.get('DurationSeconds')
  const durationSeconds = rawDuration === null ? DEFAULT_MAX_SESSION_SECONDS : Number(rawDuration)
  if (!Number.isInteger(durationSeconds) || durationSeconds < 900) {
    return failWith(
      validation(
        `Value '${rawDuration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
      ),
    )
  }
  if (durationSeconds > 43200) {
    return failWith(
      validation(
        `Value '${rawDuration}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200`,
      ),
    )
  }
  const externalId = form.get('ExternalId') ?? undefined
  // STS rejects an empty ExternalId (minimum length 2) rather than treating it as absent.
  if (externalId !== undefined && !EXTERNAL_ID.test(externalId)) {
    return failWith(
      validation(
        `Value '${externalId}' at 'externalId' failed to satisfy constraint: Member must have length between 2 and 1224 and match [\\w+=,.@:/-]*`,
      ),
    )
  }
  return {roleArn, accountId: arn[1] ?? '', roleName: arn[2] ?? '', sessionName, externalId, durationSeconds}
}

const failWith = (error: AwsError): never => {
  throw error
}

function assumeRole(state: StsState, ctx: AwsContext, req: AwsRequest): AwsResponse {
  const caller = ctx.credentials.lookup(req.accessKeyId)
  const sourceArn = caller?.arn ?? `arn:aws:iam::${req.accountId}:root`
  const logged = {
    roleArn: req.form.get('RoleArn') ?? '',
    roleSessionName: req.form.get('RoleSessionName') ?? '',
    externalId: req.form.get('ExternalId') ?? undefined,
    sourceAccount: req.accountId,
    sourceArn,
    durationSeconds: Number(req.form.get('DurationSeconds') ?? DEFAULT_MAX_SESSION_SECONDS),
  }
  try {
    const input = readAssumeRole(req.form)
    if (!state.trusts(input.roleArn, input.externalId)) {
      throw new AwsError(
        'AccessDenied',
        `User: ${sourceArn} is not authorized to perform: sts:AssumeRole on resource: ${input.roleArn}`,
        403,
      )
    }
    if (sourceArn.includes(':assumed-role/') && input.durationSeconds > DEFAULT_MAX_SESSION_SECONDS) {
      throw new AwsError(
        'ValidationError',
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      )
    }
    if (input.durationSeconds > state.maxSessionFor(input.roleArn)) {
      throw new AwsError(
        'ValidationError',
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      )
    }
    const roleId = roleIdOf(input.roleArn)
    const issued = ctx.credentials.issue({
      accountId: input.accountId,
      arn: `arn:aws:sts::${input.accountId}:assumed-role/${input.roleName}/${input.sessionName}`,
      userId: `${roleId}:${input.sessionName}`,
      expiresAt: ctx.now() + input.durationSeconds * 1000,
    })
    state.record({...logged, outcome: 'issued'})
    return stsResponse(
      'AssumeRole',
      `<AssumedRoleUser><AssumedRoleId>${xmlEscape(issued.userId)}</AssumedRoleId><Arn>${xmlEscape(issued.arn)}</Arn></AssumedRoleUser>` +
        `<Credentials><AccessKeyId>${issued.accessKeyId}</AccessKeyId><SecretAccessKey>${xmlEscape(issued.secretAccessKey)}</SecretAccessKey>` +
        `<SessionToken>${xmlEscape(issued.sessionToken ?? '')}</SessionToken><Expiration>${stsTime(issued.expiresAt ?? ctx.now())}</Expiration></Credentials>`,
    )
  } catch (error) {
    state.record({...logged, outcome: error instanceof AwsError ? error.code : 'InternalFailure'})
    throw error
  }
}

function getCallerIdentity(ctx: AwsContext, req: AwsRequest): AwsResponse {
  const caller = ctx.credentials.lookup(req.accessKeyId)
  const arn = caller?.arn ?? `arn:aws:iam::${req.accountId}:root`
  const userId = caller?.userId ?? req.accountId
  return stsResponse(
    'GetCallerIdentity',
    `<Arn>${xmlEscape(arn)}</Arn><UserId>${xmlEscape(userId)}</UserId><Account>${req.accountId}</Account>`,
  )
}

/** STS over the query protocol (form-encoded `Action=`; XML answers in the 2011-06-15 namespace). */
export function createStsService(ctx: AwsContext): {handler: AwsServiceHandler; state: StsState} {
  const state = new StsState()
  const handler: AwsServiceHandler = {
    service: 'sts',
    handle(req) {
      switch (req.operation) {
        case 'AssumeRole':
          return assumeRole(state, ctx, req)
        case 'GetCallerIdentity':
          return getCallerIdentity(ctx, req)
        default:
          throw new AwsError('InvalidAction', `Could not find operation ${req.operation} for version 2011-06-15`)
      }
    },
  }
  return {handler, state}
}
