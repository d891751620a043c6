import {notFound, optBool, readSecretId, reqString} from './secrets-manager-input.js'
import type {SecretsManagerState} from './secrets-manager-state.js'
import {liveSecret} from './secrets-manager-writes.js'
import {AwsError, type AwsRequest} from './types.js'

/**
 * The resource-policy operations of the Secrets Manager API reference: PutResourcePolicy (with BlockPublicPolicy),
 * GetResourcePolicy, DeleteResourcePolicy, ValidateResourcePolicy. Like AWS, the server keeps the document in its own
 * form, not as sent: account principals become `arn:aws:iam::<id>:root` and the text is re-indented, so a client
 * comparing text instead of meaning sees a difference that is not one.
 */

const MAX_POLICY_LENGTH = 20_480
const ACCOUNT_ID = /^\d{12}$/

const malformed = (message: string): AwsError => new AwsError('MalformedPolicyDocumentException', message)

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value)
const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value])

/** The statements of a syntactically valid policy (what MalformedPolicyDocumentException guards). */
function parsePolicy(text: string): {document: Json; statements: Json[]} {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch {
    throw malformed('This resource policy contains a syntax error.')
  }
  if (!isObject(document) || document.Statement === undefined)
    throw malformed('This resource policy contains a syntax error.')
  const statements = listOf(document.Statement)
  if (statements.length === 0 || !statements.every(isObject))
    throw malformed('This resource policy contains a syntax error.')
  for (const statement of statements) {
    if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny')
      throw malformed('This resource policy contains an invalid Effect.')
  }
  return {document, statements}
}

const grantsEveryone = (principal: unknown): boolean =>
  principal === '*' || (isObject(principal) && Object.values(principal).some((ids) => listOf(ids).includes('*')))

/**
 * BlockPublicPolicy: "the resource policy did not prevent broad access to the secret" — an Allow to every principal
 * (`"*"` or `{"AWS": "*"}`) with no condition narrowing it.
 */
const isPublic = (statements: Json[]): boolean =>
  statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      grantsEveryone(s.Principal) &&
      (s.Condition === undefined || (isObject(s.Condition) && Object.keys(s.Condition).length === 0)),
  )

const principalArn = (id: unknown): unknown =>
  typeof id === 'string' && ACCOUNT_ID.test(id) ? `arn:aws:iam::${id}:root` : id

/** The document as the service keeps it. */
function stored(document: Json, statements: Json[]): string {
  const normal = statements.map((s) =>
    isObject(s.Principal)
      ? {
          ...s,
          Principal: Object.fromEntries(
            Object.entries(s.Principal).map(([kind, ids]) => [
              kind,
              Array.isArray(ids) ? ids.map(principalArn) : principalArn(ids),
            ]),
          ),
        }
      : s,
  )
  return JSON.stringify({...document, Statement: Array.isArray(document.Statement) ? normal : normal[0]}, null, 2)
}

function readPolicyText(json: Json): string {
  return reqString(json, 'ResourcePolicy', {min: 1, max: MAX_POLICY_LENGTH})
}

export function putResourcePolicy(state: SecretsManagerState, req: AwsRequest): unknown {
  const secretId = readSecretId(req.json)
  const text = readPolicyText(req.json)
  const block = optBool(req.json, 'BlockPublicPolicy') ?? false
  const secret = liveSecret(state, req, secretId)
  const {document, statements} = parsePolicy(text)
  if (block && isPublic(statements))
    throw new AwsError(
      'PublicPolicyException',
      'The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.',
    )
  secret.resourcePolicy = stored(document, statements)
  secret.lastChangedAt = state.now()
  return {ARN: secret.arn, Name: secret.name}
}

export function getResourcePolicy(state: SecretsManagerState, req: AwsRequest): unknown {
  const secret = state.lookup(req.accountId, req.region, readSecretId(req.json))
  if (!secret) throw notFound()
  // ResourcePolicy is omitted when the secret has none (the response members are all optional).
  return {
    ARN: secret.arn,
    Name: secret.name,
    ...(secret.resourcePolicy === undefined ? {} : {ResourcePolicy: secret.resourcePolicy}),
  }
}

export function deleteResourcePolicy(state: SecretsManagerState, req: AwsRequest): unknown {
  const secret = liveSecret(state, req, readSecretId(req.json))
  delete secret.resourcePolicy
  secret.lastChangedAt = state.now()
  return {ARN: secret.arn, Name: secret.name}
}

/** Checks syntax and, for a named secret, that it exists; never changes anything. */
export function validateResourcePolicy(state: SecretsManagerState, req: AwsRequest): unknown {
  const text = readPolicyText(req.json)
  const secretId = req.json.SecretId
  if (secretId !== undefined && !state.lookup(req.accountId, req.region, readSecretId(req.json))) throw notFound()
  try {
    parsePolicy(text)
  } catch (error) {
    if (!(error instanceof AwsError)) throw error
    return {
      PolicyValidationPassed: false,
      ValidationErrors: [{CheckName: 'SYNTAX', ErrorMessage: error.message}],
    }
  }
  return {PolicyValidationPassed: true, ValidationErrors: []}
}
