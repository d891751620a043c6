import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {runSimulation, type Simulation} from '@cloud-copilot/iam-simulate'
import type {AwsInterceptor} from './aws-server.js'
import {S3Error} from './error-render.js'
import {routeS3} from './s3-request.js'
import type {SecretsManagerState} from './secrets-manager-state.js'
import {AwsError, type AwsRequest, type AwsResponse} from './types.js'

/**
 * The example IAM policies (examples/iam/) evaluated by an IAM policy simulator (@cloud-copilot/iam-simulate),
 * and an interceptor that puts them in front of the test server's Secrets Manager: every call the product makes
 * is authorized as IAM would authorize it (the actions, resources and condition keys of the Service Authorization
 * Reference), refused with AccessDeniedException when the policies do not allow it, and logged.
 */

export type PolicyDocument = Simulation['identityPolicies'][number]['policy']
export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied'

export const EXAMPLES_IAM = join(import.meta.dirname, '../../../examples/iam')

export const loadPolicy = (file: string): PolicyDocument =>
  JSON.parse(readFileSync(join(EXAMPLES_IAM, file), 'utf8')) as PolicyDocument

/** The ownership tag of the examples and of the default `sync.ownership_tag`. */
export const OWNERSHIP = {key: 'managed-by', value: 'secretsync'} as const

/** What IAM can see of the secret a call acts on, as far as the policies care. */
export type ResourceState = 'any' | 'new' | 'owned' | 'unowned' | 'other-owner' | 'missing'

export interface IamCheck {
  /** `secretsmanager:GetSecretValue`, `s3:GetObject`... */
  action: string
  /** The resource ARN, or `*` for actions without a resource type. */
  resource: string
  /** The request context: condition keys and their values. */
  context: Record<string, string | string[]>
  state: ResourceState
}

export interface CheckedCall extends IamCheck {
  decision: Decision
  /** The API operation that needed this check (`CreateSecret` also needs `secretsmanager:TagResource`). */
  operation: string
}

/** Evaluates one request against identity policies; a policy the simulator rejects fails loudly. */
export async function decide(
  policies: ReadonlyArray<{name: string; policy: PolicyDocument}>,
  check: Pick<IamCheck, 'action' | 'resource' | 'context'>,
  principal: string,
  accountId: string,
  /** The resource's own policy, where the service has one that must also allow (KMS key policies, trust policies). */
  resourcePolicy?: PolicyDocument,
): Promise<Decision> {
  const response = await runSimulation(
    {
      identityPolicies: policies.map(({name, policy}) => ({name, policy})),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? {resourcePolicy} : {}),
      request: {
        action: check.action,
        principal,
        resource: {accountId, resource: check.resource},
        contextVariables: check.context,
      },
    },
    {},
  )
  if (response.resultType === 'error') {
    throw new Error(
      `the IAM simulator rejected ${check.action} on ${check.resource}: ${JSON.stringify(response.errors)}`,
    )
  }
  return response.overallResult as Decision
}

type Tags = Record<string, string>

const tagContext = (prefix: 'aws:RequestTag' | 'aws:ResourceTag', tags: Tags): Record<string, string> =>
  Object.fromEntries(Object.entries(tags).map(([key, value]) => [`${prefix}/${key}`, value]))

export const stateOfTags = (tags: Tags | undefined): ResourceState =>
  tags === undefined
    ? 'missing'
    : tags[OWNERSHIP.key] === undefined
      ? 'unowned'
      : tags[OWNERSHIP.key] === OWNERSHIP.value
        ? 'owned'
        : 'other-owner'

const requestTags = (json: Record<string, unknown>): Tags =>
  Object.fromEntries(
    (Array.isArray(json.Tags) ? (json.Tags as Array<{Key?: unknown; Value?: unknown}>) : []).map((t) => [
      String(t.Key),
      String(t.Value ?? ''),
    ]),
  )

/** A secret as IAM sees it: its ARN and tags, the way a check on an existing secret needs them. */
export interface SecretAsSeen {
  arn: string
  tags?: Tags
}

/** The checks on an existing (or missing) secret: its ARN, its tags as aws:ResourceTag, the SecretId given. */
const onSecret = (
  action: string,
  secretId: string,
  secret: SecretAsSeen,
  extra: IamCheck['context'] = {},
): IamCheck => ({
  action: `secretsmanager:${action}`,
  resource: secret.arn,
  context: {'secretsmanager:SecretId': secretId, ...tagContext('aws:ResourceTag', secret.tags ?? {}), ...extra},
  state: stateOfTags(secret.tags),
})

/**
 * CreateSecret is authorized on the new secret's ARN with the request's tags (aws:RequestTag, aws:TagKeys), which
 * the Service Authorization Reference also lists as aws:ResourceTag for CreateSecret; with Tags it also needs
 * `secretsmanager:TagResource` ("Required permissions" in the CreateSecret API reference), checked in the same
 * request context, so without the secretsmanager:SecretId that every TagResource call carries.
 */
export function creationChecks(arn: string, name: string, tags: Tags, resourceTagsKnown = true): IamCheck[] {
  const context = {
    'secretsmanager:Name': name,
    ...tagContext('aws:RequestTag', tags),
    ...(resourceTagsKnown ? tagContext('aws:ResourceTag', tags) : {}),
    ...(Object.keys(tags).length > 0 ? {'aws:TagKeys': Object.keys(tags)} : {}),
  }
  const create: IamCheck = {action: 'secretsmanager:CreateSecret', resource: arn, context, state: 'new'}
  return Object.keys(tags).length > 0
    ? [create, {action: 'secretsmanager:TagResource', resource: arn, context, state: 'new'}]
    : [create]
}

/** Standalone TagResource on an existing secret: the request's tags, the secret's tags, the SecretId. */
export const tagChecks = (secretId: string, secret: SecretAsSeen, tags: Tags): IamCheck =>
  onSecret('TagResource', secretId, secret, {...tagContext('aws:RequestTag', tags), 'aws:TagKeys': Object.keys(tags)})

const CREATED_ARN_SUFFIX = '-AbCdEf'

/** The IAM checks one Secrets Manager request needs, from the request and the state it finds. */
export function secretsManagerChecks(req: AwsRequest, state: SecretsManagerState): IamCheck[] {
  const json = req.json
  const arnOf = (name: string) => `arn:aws:secretsmanager:${req.region}:${req.accountId}:secret:${name}`
  const seen = (secretId: string): SecretAsSeen => {
    const secret = state.lookup(req.accountId, req.region, secretId)
    if (!secret) return {arn: secretId.startsWith('arn:') ? secretId : `${arnOf(secretId)}${CREATED_ARN_SUFFIX}`}
    return {arn: secret.arn, tags: Object.fromEntries(secret.tags.map((t) => [t.Key, t.Value]))}
  }
  const secretId = typeof json.SecretId === 'string' ? json.SecretId : ''
  switch (req.operation) {
    case 'ListSecrets':
    case 'BatchGetSecretValue':
      return [{action: `secretsmanager:${req.operation}`, resource: '*', context: {}, state: 'any'}]
    case 'CreateSecret': {
      const name = String(json.Name)
      const checks = creationChecks(`${arnOf(name)}${CREATED_ARN_SUFFIX}`, name, requestTags(json))
      // The CreateSecret reference: adding replica Regions also needs secretsmanager:ReplicateSecretToRegions.
      if (Array.isArray(json.AddReplicaRegions) && checks[0])
        checks.push({...checks[0], action: 'secretsmanager:ReplicateSecretToRegions'})
      return checks
    }
    case 'TagResource':
      return [tagChecks(secretId, seen(secretId), requestTags(json))]
    case 'UntagResource':
      return [
        onSecret('UntagResource', secretId, seen(secretId), {
          'aws:TagKeys': (json.TagKeys as string[] | undefined) ?? [],
        }),
      ]
    case 'PutResourcePolicy':
      // The Service Authorization Reference's condition key for PutResourcePolicy.
      return [
        onSecret('PutResourcePolicy', secretId, seen(secretId), {
          'secretsmanager:BlockPublicPolicy': String(json.BlockPublicPolicy === true),
        }),
      ]
    case 'DeleteSecret':
      return [
        onSecret('DeleteSecret', secretId, seen(secretId), {
          'secretsmanager:ForceDeleteWithoutRecovery': String(json.ForceDeleteWithoutRecovery === true),
          ...(typeof json.RecoveryWindowInDays === 'number'
            ? {'secretsmanager:RecoveryWindowInDays': String(json.RecoveryWindowInDays)}
            : {}),
        }),
      ]
    default:
      return [onSecret(req.operation, secretId, seen(secretId))]
  }
}

/** The IAM checks of an S3 request of the merge store: object actions on the key, ListBucket on the bucket. */
export function s3Checks(req: AwsRequest): IamCheck[] {
  const {bucket = '', key} = routeS3(req.method, req.path, req.query, req.headers.host)
  const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined)
  const object = `arn:aws:s3:::${bucket}/${key ?? ''}`
  const sse = header('x-amz-server-side-encryption')
  const kmsKey = header('x-amz-server-side-encryption-aws-kms-key-id')
  switch (req.operation) {
    case 'GetObject':
    case 'HeadObject':
      return [{action: 's3:GetObject', resource: object, context: {}, state: 'any'}]
    case 'DeleteObject':
      return [{action: 's3:DeleteObject', resource: object, context: {}, state: 'any'}]
    case 'PutObject':
      return [
        {
          action: 's3:PutObject',
          resource: object,
          context: {
            ...(sse ? {'s3:x-amz-server-side-encryption': sse} : {}),
            ...(kmsKey ? {'s3:x-amz-server-side-encryption-aws-kms-key-id': kmsKey} : {}),
          },
          state: 'any',
        },
      ]
    case 'ListObjectsV2':
    case 'ListObjects':
      return [
        {
          action: 's3:ListBucket',
          resource: `arn:aws:s3:::${bucket}`,
          context: {'s3:prefix': req.query.get('prefix') ?? '', 's3:delimiter': req.query.get('delimiter') ?? ''},
          state: 'any',
        },
      ]
    default:
      return [{action: `s3:${req.operation}`, resource: `arn:aws:s3:::${bucket}`, context: {}, state: 'any'}]
  }
}

/** IAM's service prefix of each test-server service whose calls the base identity makes. */
const BASE_SERVICE_PREFIX: Partial<Record<AwsRequest['service'], string>> = {
  organizations: 'organizations',
  'sso-admin': 'sso',
  identitystore: 'identitystore',
}

const denied = (principal: string, check: IamCheck): AwsError =>
  new AwsError(
    'AccessDeniedException',
    `User: ${principal} is not authorized to perform: ${check.action} on resource: ${check.resource} because no identity-based policy allows the ${check.action} action`,
    400,
  )

export interface IamEnforcement {
  interceptor: AwsInterceptor
  /** Every check made so far, in order, with its decision. */
  calls: CheckedCall[]
}

type Policies = ReadonlyArray<{name: string; policy: PolicyDocument}>

export interface EnforcedPolicies {
  /** The target role's policies, for every Secrets Manager call (the caller is whoever signed it). */
  targetRole: Policies
  /**
   * The base identity's policies, for S3 (the merge store) and discovery calls, evaluated for this principal in
   * its account (the test server's base credentials stand for it).
   */
  base?: {principal: string; accountId: string; policies: Policies}
}

/**
 * Authorizes Secrets Manager, S3 and discovery requests against the given policies before the service sees them;
 * STS passes (trust policies are checked in test/iam). BatchGetSecretValue needs `secretsmanager:GetSecretValue`
 * on each secret too (its API reference): a denied one is answered in `Errors` as AccessDeniedException, the
 * others are read. A denied S3 call is answered `403 AccessDenied`, as S3 does.
 */
export function enforceIam(
  policies: EnforcedPolicies,
  aws: {secretsManager: SecretsManagerState; credentials: {lookup(id: string): {arn: string} | undefined}},
): IamEnforcement {
  const calls: CheckedCall[] = []
  const check = async (req: AwsRequest, item: IamCheck): Promise<{ok: boolean; principal: string}> => {
    const base = req.service === 'secretsmanager' ? undefined : policies.base
    const principal =
      base?.principal ?? aws.credentials.lookup(req.accessKeyId)?.arn ?? `arn:aws:iam::${req.accountId}:root`
    const decision = await decide(
      base?.policies ?? policies.targetRole,
      item,
      principal,
      base?.accountId ?? req.accountId,
    )
    calls.push({...item, decision, operation: req.operation})
    return {ok: decision === 'Allowed', principal}
  }
  const authorize = async (req: AwsRequest, items: IamCheck[]): Promise<void> => {
    for (const item of items) {
      const {ok, principal} = await check(req, item)
      if (ok) continue
      if (req.service === 's3') throw new S3Error('AccessDenied', 'Access Denied', 403)
      throw denied(principal, item)
    }
  }
  const interceptor: AwsInterceptor = async (req, next) => {
    if (req.service !== 'secretsmanager') {
      const prefix = BASE_SERVICE_PREFIX[req.service]
      if (policies.base && req.service === 's3') await authorize(req, s3Checks(req))
      else if (policies.base && prefix)
        await authorize(req, [{action: `${prefix}:${req.operation}`, resource: '*', context: {}, state: 'any'}])
      return next(req)
    }
    await authorize(req, secretsManagerChecks(req, aws.secretsManager))
    if (req.operation !== 'BatchGetSecretValue' || !Array.isArray(req.json.SecretIdList)) return next(req)
    const ids = req.json.SecretIdList as string[]
    const refused: Array<{SecretId: string; ErrorCode: string; Message: string}> = []
    const allowed: string[] = []
    for (const id of ids) {
      const secret = aws.secretsManager.lookup(req.accountId, req.region, id)
      const item = onSecret('GetSecretValue', id, {
        arn: secret?.arn ?? id,
        tags: secret && Object.fromEntries(secret.tags.map((t) => [t.Key, t.Value])),
      })
      const {ok, principal} = await check(req, item)
      if (ok) allowed.push(id)
      else refused.push({SecretId: id, ErrorCode: 'AccessDeniedException', Message: denied(principal, item).message})
    }
    const answer: AwsResponse =
      allowed.length > 0
        ? await next({...req, json: {...req.json, SecretIdList: allowed}})
        : {status: 200, headers: {'content-type': 'application/x-amz-json-1.1'}, body: '{}'}
    const body = JSON.parse(String(answer.body ?? '{}')) as {SecretValues?: unknown[]; Errors?: unknown[]}
    return {
      ...answer,
      body: JSON.stringify({SecretValues: body.SecretValues ?? [], Errors: [...(body.Errors ?? []), ...refused]}),
    }
  }
  return {interceptor, calls}
}
